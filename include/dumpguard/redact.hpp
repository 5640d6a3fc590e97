// Redaction: write a copy of a dump with every finding's bytes overwritten, then prove the copy
// clean by rescanning it. Data flows one way: scan report -> plan (merged spans) -> writer
// (streaming copy of the mapped input, spans filled) -> verification scan -> outcome.
// The copy keeps the input's size and layout, so the format stays valid (DECISIONS.md,
// "Redaction"); nothing is written into it to mark it redacted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {

// What overwritten bytes become: a 4-byte pattern repeated, aligned to file offsets (the byte
// at file offset o is pattern[o % 4]), so the result does not depend on how the copy is
// chunked. Neither fill can be taken for a key: both are a period-4 repetition, which no
// detector accepts (and the verification scan would catch one that did).
struct Fill {
  std::string name;                   // "zero" or "0defaced"
  std::array<std::byte, 4> pattern{};
};
Fill zero_fill();
Fill defaced_fill();  // 0d ef ac ed

// The spans to overwrite: every finding's [file_offset, file_offset + length), clipped to the
// file, sorted, with overlapping and touching spans merged.
std::vector<ByteRange> plan_redaction(const ScanReport& report, std::uint64_t file_size);

// Where the writer's bytes go, in order; each call gets at most the writer's chunk size.
using ByteSink = std::function<Status(std::span<const std::byte>)>;

// Streams `input` to `sink` with the planned spans filled. Unchanged bytes go straight from
// the input (the mapping) in pieces of at most `chunk` bytes, so a dump of many GiB costs no
// memory, and secret bytes are never copied into a buffer of ours. `spans` as plan_redaction
// gives them (sorted, disjoint, within the input).
Status write_redacted(std::span<const std::byte> input, const std::vector<ByteRange>& spans, const Fill& fill,
                      const ByteSink& sink, std::size_t chunk = 8u << 20);

// One finding's span that was overwritten: where, and what it was. Never its bytes.
struct RedactedSpan {
  std::uint64_t file_offset = 0;
  std::uint64_t length = 0;
  std::string kind;
  std::string detector;
  std::string key;  // the key's fingerprint
};

struct RedactOutcome {
  std::string output_path;
  bool in_place = false;            // output_path is the input's path, replaced
  std::uint64_t output_size = 0;    // of the file as stored (compressed, when the input was)
  std::string output_sha256;        // hex, of the file as stored
  std::string output_compression;   // "" or the input's: "zstd", "lz4", "xz"
  std::string input_sha256;         // hex, of the input's bytes as read (decompressed if it was compressed)
  std::vector<RedactedSpan> spans;  // one per finding, in file order
  std::vector<ByteRange> overwritten;  // the merged spans actually filled
  std::size_t keys = 0;
  // The verification scan of the written copy, with the same ScanOptions: no findings, or the
  // copy would not have been renamed into place.
  ScanReport verification;
  bool verification_complete = true;  // the copy parsed completely (as the input did)
};

class StagedFile;  // src/io/staged_file.hpp

// Where the redacted copy goes: a new file (-o OUT), or the input's own path (--in-place),
// which is replaced only while it is still the file that was read (Source::identity).
struct RedactDestination {
  std::string path;
  bool in_place = false;
};

// A redacted copy that passed its verification scan, in a temporary file (mode 0600) beside
// its destination. Nothing is in place until commit(); destroyed before that, the temporary
// file is removed and the destination is untouched. After commit(), undo() restores the
// destination as it was (the caller could not put something that belongs with it in place, such
// as the report), and settle() or destruction makes it final.
class VerifiedCopy {
 public:
  VerifiedCopy(RedactOutcome outcome, std::unique_ptr<StagedFile> file, std::optional<FileIdentity> replaces);
  VerifiedCopy(VerifiedCopy&&) noexcept;
  VerifiedCopy& operator=(VerifiedCopy&&) noexcept;
  ~VerifiedCopy();

  const RedactOutcome& outcome() const { return outcome_; }
  Status commit();
  Status undo();
  void settle();

 private:
  RedactOutcome outcome_;
  std::unique_ptr<StagedFile> file_;
  std::optional<FileIdentity> replaces_;
};

// Writes the redacted copy of `dump` to a temporary file beside the destination (streamed
// from the mapping, compressed as the input was), fsyncs it, and rescans it (opened with
// `open`, scanned with `options`). Any error, including a finding in the copy, removes the
// temporary file. The input is only read.
Result<VerifiedCopy> write_verified_copy(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                         const Fill& fill, const ScanOptions& options, const OpenOptions& open);

// write_verified_copy, then commit: for callers with nothing to put in place alongside it.
Result<RedactOutcome> redact_dump(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                  const Fill& fill, const ScanOptions& options, const OpenOptions& open);

}  // namespace dumpguard
