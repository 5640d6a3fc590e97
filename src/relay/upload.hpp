// A crash upload as a relay receives it, read from the body bytes as they arrive: a multipart
// body (multipart/form-data as Crashpad and Breakpad send it, or multipart/mixed), or a raw
// minidump (application/octet-stream, as Sentry's endpoint also takes), either of them gzipped
// (Content-Encoding: gzip). Every limit holds while reading: the body as sent, the body
// inflated, each form field, the number of parts. File parts are kept in memory files
// (memfd_create), never on a disk: plaintext stays in memory until it is verified clean.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"
#include "relay/gzip_stream.hpp"
#include "relay/multipart.hpp"

namespace dumpguard::relay {

// The form field a crash reporter puts its minidump in (Crashpad, Breakpad, Sentry, Socorro).
inline constexpr std::string_view kMinidumpField = "upload_file_minidump";

struct UploadLimits {
  std::uint64_t max_body = 100ull << 20;     // bytes as sent (compressed, when it is)
  std::uint64_t max_content = 100ull << 20;  // bytes once inflated
  std::size_t max_field = 64 * 1024;         // one form field's value
  std::size_t max_parts = 256;
};

struct UploadPart {
  PartHeaders headers;
  bool file = false;   // a file part (it has a filename, or is the minidump field): content in fd
  std::string value;   // a form field's value
  UniqueFd fd;         // a file part's content, in a memory file
  std::uint64_t size = 0;
};

struct Upload {
  bool multipart = false;
  bool gzip = false;
  std::string content_type;  // as the client sent it (the boundary included)
  std::vector<UploadPart> parts;
  std::uint64_t body_bytes = 0;     // as sent
  std::uint64_t content_bytes = 0;  // inflated
};

// Which upload a Content-Type and Content-Encoding describe: Errc::unsupported for any other.
class UploadReader {
 public:
  // (The parser calls back into the reader, so it stays where it was made.)
  static Result<std::unique_ptr<UploadReader>> start(std::string_view content_type, std::string_view content_encoding,
                                                     const UploadLimits& limits);
  UploadReader(const UploadReader&) = delete;
  UploadReader& operator=(const UploadReader&) = delete;

  // The next bytes of the body, as sent. Errc::limit when a limit is passed.
  Status feed(std::span<const std::byte> bytes);
  // The upload, once the whole body was fed: an error when it is incomplete (a truncated gzip
  // stream, a multipart body without its closing delimiter) or empty.
  Result<Upload> finish();
  // Bytes fed so far, as sent and once inflated.
  std::uint64_t body_bytes() const { return upload_.body_bytes; }
  std::uint64_t content_bytes() const { return upload_.content_bytes; }

 private:
  UploadReader() = default;
  Status content(std::span<const std::byte> bytes);  // inflated bytes
  Status begin_part(const PartHeaders& headers);
  Status part_data(std::span<const std::byte> bytes);

  UploadLimits limits_;
  Upload upload_;
  std::optional<GzipInflater> gzip_;
  std::optional<MultipartParser> multipart_;
};

// A memory file (memfd_create), or an error.
Result<UniqueFd> make_memory_file(const char* name);
// Appends all of `bytes` to `fd`.
Status write_all(int fd, std::span<const std::byte> bytes);
// Reads the whole file at `fd` (from offset 0) into a string of at most `max` bytes.
Result<std::string> read_all(int fd, std::uint64_t max);

}  // namespace dumpguard::relay
