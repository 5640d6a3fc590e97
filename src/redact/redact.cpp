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
#include "dumpguard/mapped_file.hpp"
#include "io/compress.hpp"
#include "io/staged_file.hpp"
#include "io/whole_file.hpp"
#include "redact/minidump_stack_only.hpp"

namespace dumpguard {

namespace {

// The holes of a sparse input (lseek SEEK_HOLE/SEEK_DATA, lseek(2)): ranges the file system
// holds no blocks for, which read as zeros. A 2 GiB core of a process that reserved much and
// touched little takes a few KiB on disk; its copy keeps those ranges holes (never written),
// and the mapping's pages over them are never touched (no resident memory, no page cache).
// Bounded: past 1M holes, the rest is treated as data (correct, only not sparse).
std::vector<ByteRange> holes_of(const MappedFile& file) {
  std::vector<ByteRange> holes;
  const int fd = file.fd();
  const auto size = static_cast<off_t>(file.size());
  if (fd < 0 || size == 0) return holes;
  for (off_t pos = 0; pos < size && holes.size() < (1u << 20);) {
    const off_t hole = ::lseek(fd, pos, SEEK_HOLE);
    if (hole < 0 || hole >= size) break;  // no holes here (or none the file system reports)
    off_t data = ::lseek(fd, hole, SEEK_DATA);
    if (data < 0) data = size;  // ENXIO: a hole to the end
    data = std::min(data, size);
    if (data <= hole) break;
    holes.push_back(ByteRange{static_cast<std::uint64_t>(hole), static_cast<std::uint64_t>(data - hole)});
    pos = data;
  }
  return holes;
}

// Splits [begin, end) of the input into data and hole pieces, in order.
template <class OnData, class OnHole>
Status for_each_piece(const std::vector<ByteRange>& holes, std::uint64_t begin, std::uint64_t end, OnData on_data,
                      OnHole on_hole) {
  auto it = std::upper_bound(holes.begin(), holes.end(), begin,
                             [](std::uint64_t p, const ByteRange& h) { return p < h.file_offset; });
  if (it != holes.begin() && std::prev(it)->file_offset + std::prev(it)->size > begin) --it;
  std::uint64_t pos = begin;
  while (pos < end) {
    if (it != holes.end() && it->file_offset <= pos) {
      const std::uint64_t stop = std::min(it->file_offset + it->size, end);
      DG_CHECK(on_hole(pos, stop - pos));
      pos = stop;
      ++it;
      continue;
    }
    const std::uint64_t stop = it != holes.end() ? std::min(it->file_offset, end) : end;
    DG_CHECK(on_data(pos, stop - pos));
    pos = stop;
  }
  return ok_status();
}

// Zeros to hash in place of a hole's bytes, without reading them.
std::span<const std::byte> zeros(std::uint64_t n) {
  static const std::vector<std::byte> buffer(1u << 20);
  return std::span<const std::byte>(buffer).first(static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer.size())));
}

// Drops the mapped input's pages after every 64 MiB read through it, as the scan does
// (docs/commands/scan.md, "Bounded memory"): hashing and copying a dump of any size stays small.
class PageBudget {
 public:
  explicit PageBudget(const MappedFile* file) : file_(file) {}
  void touched(std::uint64_t n) {
    since_ += n;
    if (file_ != nullptr && since_ >= (64u << 20)) {
      file_->release();
      since_ = 0;
    }
  }

 private:
  const MappedFile* file_;
  std::uint64_t since_ = 0;
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

Status write_layout(std::span<const std::byte> input, const OutputLayout& layout, const std::vector<ByteRange>& spans,
                    const Fill& fill, const ByteSink& sink, std::size_t chunk) {
  chunk = std::max<std::size_t>(chunk, 1);
  const std::uint64_t size = input.size();
  const auto within = [&](std::uint64_t offset, std::uint64_t n) { return n <= size && offset <= size - n; };
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const ByteRange& s = spans[i];
    if (!within(s.file_offset, s.size) || (i > 0 && s.file_offset < spans[i - 1].file_offset + spans[i - 1].size)) {
      return Error{Errc::bad_value, s.file_offset, "redaction spans must be sorted, disjoint and within the file"};
    }
  }
  // The overwrites, sorted and disjoint: every span (fill), and every patch that meets no span.
  struct Overwrite {
    std::uint64_t start = 0, end = 0;
    const std::vector<std::byte>* patch = nullptr;  // null: fill
  };
  std::vector<Overwrite> overwrites;
  overwrites.reserve(spans.size() + layout.patches.size());
  for (const ByteRange& s : spans) overwrites.push_back({s.file_offset, s.file_offset + s.size, nullptr});
  for (std::size_t i = 0; i < layout.patches.size(); ++i) {
    const LayoutPatch& p = layout.patches[i];
    if (!within(p.file_offset, p.bytes.size()) ||
        (i > 0 && p.file_offset < layout.patches[i - 1].file_offset + layout.patches[i - 1].bytes.size())) {
      return Error{Errc::bad_value, p.file_offset, "layout patches must be sorted, disjoint and within the file"};
    }
    const std::uint64_t end = p.file_offset + p.bytes.size();
    auto next = std::lower_bound(spans.begin(), spans.end(), end,
                                 [](const ByteRange& s, std::uint64_t e) { return s.file_offset < e; });
    const bool meets_span = next != spans.begin() && std::prev(next)->file_offset + std::prev(next)->size > p.file_offset;
    if (!meets_span && !p.bytes.empty()) overwrites.push_back({p.file_offset, end, &p.bytes});
  }
  std::sort(overwrites.begin(), overwrites.end(), [](const Overwrite& a, const Overwrite& b) { return a.start < b.start; });

  // fill_buffer[i] = pattern[i % 4]; starting at index (output offset % 4) keeps the pattern
  // aligned to the output's offsets whatever the piece boundaries.
  std::vector<std::byte> fill_buffer(std::max<std::size_t>(std::min<std::size_t>(chunk, 1u << 20), 4) + 4);
  for (std::size_t i = 0; i < fill_buffer.size(); ++i) fill_buffer[i] = fill.pattern[i % 4];
  std::uint64_t out = 0;  // output offset
  const auto emit = [&](std::span<const std::byte> bytes) -> Status {
    for (std::size_t done = 0; done < bytes.size();) {
      const std::size_t n = std::min(bytes.size() - done, chunk);
      DG_CHECK(sink(bytes.subspan(done, n)));
      done += n;
      out += n;
    }
    return ok_status();
  };
  const auto emit_fill = [&](std::uint64_t n) -> Status {
    while (n > 0) {
      const std::size_t phase = static_cast<std::size_t>(out % 4);
      const std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>({n, chunk, fill_buffer.size() - phase}));
      DG_CHECK(sink(std::span<const std::byte>(fill_buffer).subspan(phase, m)));
      out += m;
      n -= m;
    }
    return ok_status();
  };

  for (const LayoutPiece& piece : layout.pieces) {
    if (piece.made) {
      DG_CHECK(emit(piece.bytes));
      continue;
    }
    if (!within(piece.input.file_offset, piece.input.size)) {
      return Error{Errc::bad_value, piece.input.file_offset, "a layout piece lies outside the input"};
    }
    std::uint64_t pos = piece.input.file_offset;
    const std::uint64_t end = pos + piece.input.size;
    // The first overwrite that ends after pos.
    auto it = std::upper_bound(overwrites.begin(), overwrites.end(), pos,
                               [](std::uint64_t p, const Overwrite& o) { return p < o.start; });
    if (it != overwrites.begin() && std::prev(it)->end > pos) --it;
    while (pos < end) {
      if (it != overwrites.end() && it->start <= pos) {
        const std::uint64_t stop = std::min(it->end, end);
        if (it->patch) {
          DG_CHECK(emit(std::span<const std::byte>(*it->patch).subspan(static_cast<std::size_t>(pos - it->start),
                                                                       static_cast<std::size_t>(stop - pos))));
        } else {
          DG_CHECK(emit_fill(stop - pos));
        }
        pos = stop;
        if (pos >= it->end) ++it;
        continue;
      }
      const std::uint64_t stop = it != overwrites.end() ? std::min(it->start, end) : end;
      DG_CHECK(emit(input.subspan(static_cast<std::size_t>(pos), static_cast<std::size_t>(stop - pos))));
      pos = stop;
    }
  }
  return ok_status();
}

Status write_redacted(std::span<const std::byte> input, const std::vector<ByteRange>& spans, const Fill& fill,
                      const ByteSink& sink, std::size_t chunk) {
  OutputLayout same;
  if (!input.empty()) same.pieces.push_back(LayoutPiece{false, ByteRange{0, input.size()}, {}});
  return write_layout(input, same, spans, fill, sink, chunk);
}

struct VerifiedCopy::Staged {
  std::unique_ptr<StagedFile> file;
  std::optional<FileIdentity> replaces;
};

VerifiedCopy::VerifiedCopy(RedactOutcome outcome, std::unique_ptr<Staged> staged)
    : outcome_(std::move(outcome)), staged_(std::move(staged)) {}
VerifiedCopy::VerifiedCopy(VerifiedCopy&&) noexcept = default;
VerifiedCopy& VerifiedCopy::operator=(VerifiedCopy&&) noexcept = default;
VerifiedCopy::~VerifiedCopy() = default;

Status VerifiedCopy::commit() { return staged_->file->commit(staged_->replaces); }
Status VerifiedCopy::undo() { return staged_->file->undo(); }
void VerifiedCopy::settle() { staged_->file->settle(); }

Result<VerifiedCopy> write_verified_copy(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                         const Fill& fill, const ScanOptions& options, const OpenOptions& open,
                                         const RedactLayout& layout, Observer* observer) {
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

  const auto progress = [observer](const Progress& p) {
    if (observer != nullptr) observer->progress(p);
  };
  const std::vector<ByteRange> holes = dump.file ? holes_of(*dump.file) : std::vector<ByteRange>{};
  PageBudget pages(dump.file.get());
  Sha256Stream input_hash;
  for (std::size_t pos = 0; pos < input.size(); pos += std::min<std::size_t>(input.size() - pos, 8u << 20)) {
    const std::size_t n = std::min<std::size_t>(input.size() - pos, 8u << 20);
    DG_CHECK(for_each_piece(
        holes, pos, pos + n,
        [&](std::uint64_t at, std::uint64_t len) -> Status {
          input_hash.update(input.subspan(static_cast<std::size_t>(at), static_cast<std::size_t>(len)));
          pages.touched(len);
          return ok_status();
        },
        [&](std::uint64_t, std::uint64_t len) -> Status {
          for (std::uint64_t done = 0; done < len;) {
            const auto z = zeros(len - done);
            input_hash.update(z);
            done += z.size();
          }
          return ok_status();
        }));
    progress({"hash", {}, 0, 1, pos, input.size()});
  }
  outcome.input_sha256 = input_hash.finish();

  // The layout: the input's, or the stack-only minidump a --drop heap asks for. A minidump the
  // reader did not parse completely keeps its layout (its policy ranges are filled): the
  // writer would have to guess at the parts it does not understand.
  OutputLayout shape;
  if (layout.stack_only && dump.model.format == Format::minidump) {
    Result<StackOnlyRewrite> rewrite = plan_stack_only_minidump(dump.model, input);
    if (rewrite) {
      shape = std::move(rewrite->layout);
      outcome.layout = std::move(rewrite->change);
    } else {
      outcome.layout_note = fmt::format("kept the input's layout and filled the dropped ranges: {}",
                                        rewrite.error().message);
    }
  }
  if (!outcome.layout && !input.empty()) shape.pieces.push_back(LayoutPiece{false, ByteRange{0, input.size()}, {}});

  DG_TRY(StagedFile staged, StagedFile::create(to.path));
  auto file = std::make_unique<StagedFile>(std::move(staged));
  std::uint64_t planned = 0, written = 0;  // bytes of the layout, before any compression
  for (const LayoutPiece& piece : shape.pieces) planned += piece.made ? piece.bytes.size() : piece.input.size;
  Sha256Stream output_hash;
  const ByteSink to_file = [&](std::span<const std::byte> bytes) -> Status {
    output_hash.update(bytes);
    DG_CHECK(file->write(bytes));
    outcome.output_size += bytes.size();
    return ok_status();
  };
  // A compressed dump is redacted to the same compression, so its readers read the copy: the
  // plain bytes go through the compressor on their way to the file, and the hash and size are
  // of the file. A destination may ask for another (the core handler stores kernel cores
  // zstd-compressed).
  const std::string compression = to.compression.value_or(dump.source.compression);
  const std::unique_ptr<Compressor> compressor = make_compressor(compression, to_file);
  // A piece of the input that lies in a hole is not read: a plain copy skips it (the copy gets
  // a hole there too), and the hash and a compressor see zeros.
  const auto write_plain = [&](std::span<const std::byte> bytes) -> Status {
    return compressor ? compressor->write(bytes) : to_file(bytes);
  };
  const auto write_hole = [&](std::uint64_t n) -> Status {
    if (compressor) {
      for (std::uint64_t done = 0; done < n;) {
        const auto z = zeros(n - done);
        DG_CHECK(compressor->write(z));
        done += z.size();
      }
      return ok_status();
    }
    for (std::uint64_t done = 0; done < n;) {
      const auto z = zeros(n - done);
      output_hash.update(z);
      done += z.size();
    }
    DG_CHECK(file->skip(n));
    outcome.output_size += n;
    return ok_status();
  };
  const std::byte* const input_begin = input.data();
  const ByteSink to_writer = [&](std::span<const std::byte> bytes) -> Status {
    const bool from_input = !holes.empty() && !bytes.empty() && bytes.data() >= input_begin &&
                            bytes.data() + bytes.size() <= input_begin + input.size();
    if (from_input) {
      const auto at = static_cast<std::uint64_t>(bytes.data() - input_begin);
      DG_CHECK(for_each_piece(
          holes, at, at + bytes.size(),
          [&](std::uint64_t from, std::uint64_t len) -> Status {
            return write_plain(bytes.subspan(static_cast<std::size_t>(from - at), static_cast<std::size_t>(len)));
          },
          [&](std::uint64_t, std::uint64_t len) -> Status { return write_hole(len); }));
    } else {
      DG_CHECK(write_plain(bytes));
    }
    pages.touched(bytes.size());
    written += bytes.size();
    progress({"write", {}, 0, 1, written, planned});
    return ok_status();
  };
  DG_CHECK(write_layout(input, shape, outcome.overwritten, fill, to_writer));
  if (compressor) DG_CHECK(compressor->finish());
  outcome.output_compression = compressor ? compression : "";
  outcome.output_sha256 = output_hash.finish();
  DG_CHECK(file->finish_writing());

  // Verify before success: the copy as a reader sees it, scanned with the same options.
  Result<Dump> copy = open_dump(file->temp_path(), open);
  if (!copy) {
    return Error{copy.error().code, copy.error().offset,
                 fmt::format("the redacted copy does not parse ({}); nothing was written", copy.error().message)};
  }
  if (outcome.layout) DG_CHECK(check_stack_only(dump.model, copy->model));
  outcome.verification = scan_dump(*copy, options, observer, "verify");
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
  return VerifiedCopy(std::move(outcome), std::make_unique<VerifiedCopy::Staged>(VerifiedCopy::Staged{std::move(file), replaces}));
}

Result<RedactOutcome> redact_dump(const Dump& dump, const ScanReport& report, const RedactDestination& to,
                                  const Fill& fill, const ScanOptions& options, const OpenOptions& open,
                                  const RedactLayout& layout, Observer* observer) {
  DG_TRY(VerifiedCopy copy, write_verified_copy(dump, report, to, fill, options, open, layout, observer));
  DG_CHECK(copy.commit());
  copy.settle();
  return copy.outcome();
}

}  // namespace dumpguard
