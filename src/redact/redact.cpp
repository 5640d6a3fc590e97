// The redactor: plan the spans from a scan report, stream a copy of the mapped input with
// them filled into a temporary file beside the output, rescan that file, rename it into place.
#include "dumpguard/redact.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <set>
#include <utility>

#include "crypto/digest.hpp"
#include "io/compress.hpp"
#include "io/staged_file.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {


// A streaming SHA-256: the dump may be far larger than memory.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(std::span<const std::byte> data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }
  std::string finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &n);
    return hex(std::span<const std::uint8_t>(out, n));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace

Fill zero_fill() { return Fill{"zero", {}}; }

Fill defaced_fill() {
  return Fill{"0defaced", {std::byte{0x0d}, std::byte{0xef}, std::byte{0xac}, std::byte{0xed}}};
}

std::vector<ByteRange> plan_redaction(const ScanReport& report, std::uint64_t file_size) {
  std::vector<ByteRange> spans;
  spans.reserve(report.findings.size());
  for (const Finding& f : report.findings) {
    if (f.file_offset >= file_size || f.length == 0) continue;
    const std::uint64_t room = file_size - f.file_offset;  // clipped: no overflow past the file
    spans.push_back(ByteRange{f.file_offset, std::min(f.length, room)});
  }
  std::sort(spans.begin(), spans.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.file_offset < b.file_offset; });
  std::vector<ByteRange> merged;
  for (const ByteRange& s : spans) {
    if (!merged.empty() && s.file_offset <= merged.back().file_offset + merged.back().size) {
      ByteRange& last = merged.back();
      const std::uint64_t end = std::max(last.file_offset + last.size, s.file_offset + s.size);
      last.size = end - last.file_offset;
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

Status write_redacted(std::span<const std::byte> input, const std::vector<ByteRange>& spans, const Fill& fill,
                      const ByteSink& sink, std::size_t chunk) {
  chunk = std::max<std::size_t>(chunk, 1);
  // fill_buffer[i] = pattern[i % 4]; starting at index (offset % 4) keeps the pattern aligned to
  // file offsets whatever the piece boundaries.
  std::vector<std::byte> fill_buffer(std::max<std::size_t>(std::min<std::size_t>(chunk, 1u << 20), 4) + 4);
  for (std::size_t i = 0; i < fill_buffer.size(); ++i) fill_buffer[i] = fill.pattern[i % 4];

  const std::uint64_t size = input.size();
  std::uint64_t pos = 0;
  const auto copy_to = [&](std::uint64_t end) -> Status {
    while (pos < end) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, chunk));
      DG_CHECK(sink(input.subspan(static_cast<std::size_t>(pos), n)));
      pos += n;
    }
    return ok_status();
  };
  for (const ByteRange& s : spans) {
    if (s.file_offset < pos || s.size > size || s.file_offset > size - s.size) {
      return Error{Errc::bad_value, s.file_offset, "redaction spans must be sorted, disjoint and within the file"};
    }
    DG_CHECK(copy_to(s.file_offset));
    const std::uint64_t end = s.file_offset + s.size;
    while (pos < end) {
      const std::size_t phase = static_cast<std::size_t>(pos % 4);
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>({end - pos, chunk, fill_buffer.size() - phase}));
      DG_CHECK(sink(std::span<const std::byte>(fill_buffer).subspan(phase, n)));
      pos += n;
    }
  }
  return copy_to(size);
}

VerifiedCopy::VerifiedCopy(RedactOutcome outcome, std::unique_ptr<StagedFile> file,
                           std::optional<FileIdentity> replaces)
    : outcome_(std::move(outcome)), file_(std::move(file)), replaces_(std::move(replaces)) {}
VerifiedCopy::VerifiedCopy(VerifiedCopy&&) noexcept = default;
VerifiedCopy& VerifiedCopy::operator=(VerifiedCopy&&) noexcept = default;
VerifiedCopy::~VerifiedCopy() = default;

Status VerifiedCopy::commit() { return file_->commit(replaces_); }
Status VerifiedCopy::undo() { return file_->undo(); }
void VerifiedCopy::settle() { file_->settle(); }

Result<VerifiedCopy> write_verified_copy(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                         const Fill& fill, const ScanOptions& options, const OpenOptions& open) {
  std::optional<FileIdentity> replaces;
  if (to.in_place) {
    // Replacing the input is safe only while its path still names the file that was read.
    if (!dump.source.identity || to.path != dump.source.path) {
      return Error{Errc::bad_value, 0, "redacting in place needs the input's own path, read from a file"};
    }
    replaces = dump.source.identity;
  }
  const std::span<const std::byte> input = dump.bytes();
  RedactOutcome outcome;
  outcome.output_path = to.path;
  outcome.in_place = to.in_place;
  outcome.overwritten = plan_redaction(report, input.size());
  std::set<std::string> keys;
  for (const Finding& f : report.findings) {
    outcome.spans.push_back(RedactedSpan{f.file_offset, f.length, f.kind, f.detector, f.key});
    if (!f.key.empty()) keys.insert(f.key);
  }
  outcome.keys = keys.size();

  Sha256Stream input_hash;
  for (std::size_t pos = 0; pos < input.size(); pos += std::min<std::size_t>(input.size() - pos, 8u << 20)) {
    input_hash.update(input.subspan(pos, std::min<std::size_t>(input.size() - pos, 8u << 20)));
  }
  outcome.input_sha256 = input_hash.finish();

  DG_TRY(StagedFile staged, StagedFile::create(to.path));
  auto file = std::make_unique<StagedFile>(std::move(staged));
  Sha256Stream output_hash;
  const ByteSink to_file = [&](std::span<const std::byte> bytes) -> Status {
    output_hash.update(bytes);
    DG_CHECK(file->write(bytes));
    outcome.output_size += bytes.size();
    return ok_status();
  };
  // A compressed dump is redacted to the same compression (DECISIONS.md): the plain bytes go
  // through the compressor on their way to the file, and the hash and size are of the file.
  const std::unique_ptr<Compressor> compressor = make_compressor(dump.source.compression, to_file);
  if (compressor) {
    DG_CHECK(write_redacted(input, outcome.overwritten, fill,
                            [&](std::span<const std::byte> bytes) { return compressor->write(bytes); }));
    DG_CHECK(compressor->finish());
  } else {
    DG_CHECK(write_redacted(input, outcome.overwritten, fill, to_file));
  }
  outcome.output_compression = compressor ? dump.source.compression : "";
  outcome.output_sha256 = output_hash.finish();
  DG_CHECK(file->finish_writing());

  // Verify before success: the copy as a reader sees it, scanned with the same options.
  Result<Dump> copy = open_dump(file->temp_path(), open);
  if (!copy) {
    return Error{copy.error().code, copy.error().offset,
                 fmt::format("the redacted copy does not parse ({}); nothing was written", copy.error().message)};
  }
  outcome.verification = scan_dump(*copy, options);
  outcome.verification_complete = copy->model.complete;
  if (!outcome.verification.limits.empty()) {
    return Error{Errc::limit, 0,
                 fmt::format("the verification scan stopped short ({}: {}), so the copy is not proven clean; nothing "
                             "was written",
                             outcome.verification.limits.front().detector, outcome.verification.limits.front().what)};
  }
  if (!outcome.verification.findings.empty()) {
    return Error{Errc::bad_value, outcome.verification.findings.front().file_offset,
                 fmt::format("the verification scan found {} findings in the redacted copy; nothing was written",
                             outcome.verification.findings.size())};
  }
  return VerifiedCopy(std::move(outcome), std::move(file), replaces);
}

Result<RedactOutcome> redact_dump(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                  const Fill& fill, const ScanOptions& options, const OpenOptions& open) {
  DG_TRY(VerifiedCopy copy, write_verified_copy(dump, report, to, fill, options, open));
  DG_CHECK(copy.commit());
  copy.settle();
  return copy.outcome();
}

}  // namespace dumpguard
