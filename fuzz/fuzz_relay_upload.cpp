// libFuzzer target: the relay's upload reader (src/relay/upload.cpp) over a hostile body: the
// streaming multipart parser, the gzip inflater and the limits they keep while the body arrives.
// The first byte picks the Content-Type and Content-Encoding, the second how the body is cut
// into the pieces it arrives in; the rest is the body (the multipart boundary is "dgfuzz").
// Invariants: every limit holds (no part, field or inflated total beyond it), and an upload that
// parses has as many bytes in its parts as the reader counted.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "relay/upload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  using namespace dumpguard::relay;
  if (size < 2) return 0;
  static const char* const kTypes[] = {"multipart/form-data; boundary=dgfuzz", "multipart/mixed; boundary=\"dgfuzz\"",
                                       "application/octet-stream", "text/plain"};
  const char* type = kTypes[data[0] & 3];
  const char* encoding = (data[0] & 4) != 0 ? "gzip" : "";
  const std::size_t piece = 1 + data[1] % 97;
  UploadLimits limits;
  limits.max_body = 1u << 20;
  limits.max_content = 4u << 20;
  limits.max_field = 4096;
  limits.max_parts = 64;
  // Whatever the headers or the body say, the other helpers take them too.
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  (void)multipart_boundary(text);
  (void)parse_part_headers(text);
  auto reader = UploadReader::start(type, encoding, limits);
  if (!reader) return 0;
  const std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data + 2), size - 2);
  for (std::size_t at = 0; at < body.size(); at += piece) {
    if (!(*reader)->feed(body.subspan(at, std::min(piece, body.size() - at)))) return 0;
  }
  auto upload = (*reader)->finish();
  if (!upload) return 0;
  if (upload->content_bytes > limits.max_content || upload->body_bytes > limits.max_body ||
      upload->parts.size() > limits.max_parts) {
    std::abort();
  }
  std::uint64_t in_parts = 0;
  for (const UploadPart& p : upload->parts) {
    if (!p.file && p.value.size() > limits.max_field) std::abort();
    if (p.file) {
      struct stat st {};
      if (fstat(p.fd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != p.size) std::abort();
    }
    in_parts += p.size;
  }
  if (in_parts > upload->content_bytes) std::abort();
  return 0;
}
