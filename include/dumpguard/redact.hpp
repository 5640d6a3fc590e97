// Redaction: write a copy of a dump with every finding's bytes overwritten, then prove the copy
// clean by rescanning it. Data flows one way: scan report -> plan (merged spans) -> writer
// (streaming copy of the mapped input, spans filled) -> verification scan -> outcome.
// The copy keeps the input's size and layout, so the format stays valid and debuggers open it
// as before, except where a --drop policy asks for a stack-only minidump: then only the
// format's writer (src/redact/minidump_stack_only.cpp) lays the copy out. Nothing is written
// into the copy to mark it redacted.
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

// A copy whose layout differs from the input's, as a format's writer lays it out: pieces of the
// input in order (with fields the writer moved patched) and bytes the writer made (a new
// stream). The planned spans are filled wherever their input bytes are copied; a patch that
// meets a planned span is not applied (the fill wins).
struct LayoutPiece {
  bool made = false;
  ByteRange input;               // when !made: input bytes [file_offset, file_offset + size)
  std::vector<std::byte> bytes;  // when made
};
struct LayoutPatch {
  std::uint64_t file_offset = 0;  // input offset of the field
  std::vector<std::byte> bytes;   // its new value
};
struct OutputLayout {
  std::vector<LayoutPiece> pieces;
  std::vector<LayoutPatch> patches;  // sorted, disjoint, inside input pieces
};

// What a layout change left out, for the report: a copy that differs from its input in more
// than the filled spans must say what it dropped.
struct RemovedKind {
  std::string kind;          // region kind: "heap", "module", "unknown", ...
  std::size_t regions = 0;   // memory ranges left out whole
  std::size_t trimmed = 0;   // stack ranges cut to the live stack
  std::uint64_t bytes = 0;   // memory bytes left out
};
struct LayoutChange {
  std::string as;                        // "stack-only minidump"
  std::vector<RemovedKind> removed;      // by kind, in kind order
  std::size_t kept_regions = 0;          // memory ranges in the copy (thread stacks)
  std::uint64_t kept_bytes = 0;
  std::vector<std::string> replaced_streams;  // "memory64-list" -> one "memory-list"
};

// Writes the layout to `sink`, the planned spans filled, in pieces of at most `chunk` bytes.
// Fill phase follows the output's offsets (the byte at output offset o is pattern[o % 4]).
Status write_layout(std::span<const std::byte> input, const OutputLayout& layout, const std::vector<ByteRange>& spans,
                    const Fill& fill, const ByteSink& sink, std::size_t chunk = 8u << 20);

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
  std::vector<ByteRange> overwritten;  // the merged spans filled, as input offsets
  // Set when the copy's layout is not the input's (a stack-only minidump); span offsets above
  // are then offsets in the input, not in the copy.
  std::optional<LayoutChange> layout;
  // Why a layout change asked for did not happen (the input's layout was kept instead).
  std::string layout_note;
  std::size_t keys = 0;
  // The verification scan of the written copy, with the same ScanOptions: no findings, or the
  // copy would not have been renamed into place.
  ScanReport verification;
  bool verification_complete = true;  // the copy parsed completely (as the input did)
};

// The scan a redaction overwrites: scan_dump's findings, plus one finding per range that the
// drop policies (`redact --drop`: heap, env, a region kind) fill. `dumpguard redact` and the
// gate both call this and then redact_dump, so they overwrite the same bytes. An unknown
// policy name is an error.
Result<ScanReport> scan_for_redaction(const Dump& dump, const ScanOptions& options,
                                      const std::vector<std::string>& drops, Observer* observer = nullptr);

// How the copy may be laid out. `stack_only`: a minidump becomes a stack-only dump (`redact
// --drop heap`); other formats keep their layout (the policy's ranges are filled).
struct RedactLayout {
  bool stack_only = false;
};

// The layout the drop policies ask for: stack-only when `heap` is dropped (a minidump is then
// rewritten as MiniDumpNormal would have written it).
RedactLayout layout_for_drops(const std::vector<std::string>& drops);

// Where the redacted copy goes: a new file (-o OUT), or the input's own path (--in-place),
// which is replaced only while it is still the file that was read (Source::identity).
struct RedactDestination {
  std::string path;
  bool in_place = false;
  // The copy's compression: "zstd", "lz4", "xz" or "" (none); unset: the input's, as read.
  std::optional<std::string> compression = std::nullopt;
};

// A redacted copy that passed its verification scan, in a temporary file (mode 0600) beside
// its destination. Nothing is in place until commit(); destroyed before that, the temporary
// file is removed and the destination is untouched. After commit(), undo() restores the
// destination as it was (the caller could not put something that belongs with it in place, such
// as the report), and settle() or destruction makes it final.
class VerifiedCopy {
 public:
  // The temporary file and what it replaces: the library's own business.
  struct Staged;
  VerifiedCopy(RedactOutcome outcome, std::unique_ptr<Staged> staged);
  VerifiedCopy(VerifiedCopy&&) noexcept;
  VerifiedCopy& operator=(VerifiedCopy&&) noexcept;
  ~VerifiedCopy();

  const RedactOutcome& outcome() const { return outcome_; }
  Status commit();
  Status undo();
  void settle();

 private:
  RedactOutcome outcome_;
  std::unique_ptr<Staged> staged_;
};

// Writes the redacted copy of `dump` to a temporary file beside the destination (streamed
// from the mapping, compressed as the input was), fsyncs it, and rescans it (opened with
// `open`, scanned with `options`). Any error, including a finding in the copy, removes the
// temporary file. The input is only read. `observer` hears of the hashing, the writing and
// the rescan (stage "verify").
Result<VerifiedCopy> write_verified_copy(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                         const Fill& fill, const ScanOptions& options, const OpenOptions& open,
                                         const RedactLayout& layout = {}, Observer* observer = nullptr);

// write_verified_copy, then commit: for callers with nothing to put in place alongside it.
Result<RedactOutcome> redact_dump(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                  const Fill& fill, const ScanOptions& options, const OpenOptions& open,
                                  const RedactLayout& layout = {}, Observer* observer = nullptr);

}  // namespace dumpguard
