// Shared pieces of the dump model: names of enums, gap accounting, region bytes.
#include <algorithm>

#include "dumpguard/dump.hpp"
#include "dumpguard/mapped_file.hpp"
#include "dumpguard/result.hpp"

#include <fmt/format.h>

namespace dumpguard {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::truncated: return "truncated";
    case Errc::out_of_range: return "out of range";
    case Errc::bad_magic: return "bad magic";
    case Errc::bad_value: return "bad value";
    case Errc::overflow: return "overflow";
    case Errc::too_many: return "count too large";
    case Errc::unsupported: return "unsupported";
    case Errc::unknown_format: return "unknown format";
    case Errc::io: return "i/o error";
    case Errc::limit: return "limit reached";
  }
  return "error";
}

std::string describe(const Error& error) {
  return fmt::format("offset {:#x}: {}: {}", error.offset, to_string(error.code), error.message);
}

const char* to_string(Format format) {
  switch (format) {
    case Format::elf_core: return "elf-core";
    case Format::minidump: return "minidump";
    case Format::raw: return "raw";
  }
  return "raw";
}

const char* to_string(RegionKind kind) {
  switch (kind) {
    case RegionKind::stack: return "stack";
    case RegionKind::module: return "module";
    case RegionKind::file_mapping: return "file-mapping";
    case RegionKind::heap: return "heap";
    case RegionKind::anon: return "anon";
    case RegionKind::metadata: return "metadata";
    case RegionKind::unknown: return "unknown";
  }
  return "unknown";
}

std::string to_string(const Perms& perms) {
  std::string s = "---";
  if (perms.read) s[0] = 'r';
  if (perms.write) s[1] = 'w';
  if (perms.execute) s[2] = 'x';
  return s;
}

void account_gaps(DumpModel& model, std::uint64_t file_size) {
  // Regions may overlap (a minidump can list a range twice) and may be unsorted.
  std::vector<ByteRange> covered;
  covered.reserve(model.regions.size());
  for (const Region& r : model.regions) {
    if (r.size == 0 || r.file_offset >= file_size) continue;
    covered.push_back({r.file_offset, std::min(r.size, file_size - r.file_offset)});
  }
  std::sort(covered.begin(), covered.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.file_offset < b.file_offset; });
  model.unaccounted.clear();
  std::uint64_t cursor = 0;
  for (const ByteRange& c : covered) {
    if (c.file_offset > cursor) model.unaccounted.push_back({cursor, c.file_offset - cursor});
    cursor = std::max(cursor, c.file_offset + c.size);
  }
  if (cursor < file_size) model.unaccounted.push_back({cursor, file_size - cursor});
}

RegionOverlaps overlapping_regions(const DumpModel& model, std::uint64_t file_size) {
  struct Claim {
    std::uint64_t begin, end;
    bool memory;
  };
  std::vector<Claim> claims;
  claims.reserve(model.regions.size());
  for (const Region& r : model.regions) {
    if (r.size == 0 || r.file_offset >= file_size) continue;
    claims.push_back({r.file_offset, r.file_offset + std::min(r.size, file_size - r.file_offset), r.vaddr.has_value()});
  }
  std::sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) { return a.begin < b.begin; });
  // A claim shares bytes with one before it (in file order) iff it starts before the furthest
  // end of those; with a memory region iff before the furthest end of the memory claims.
  RegionOverlaps out;
  std::uint64_t any_end = 0, memory_end = 0;
  for (const Claim& c : claims) {
    if (c.begin < memory_end || (c.memory && c.begin < any_end)) {
      if (out.count == 0) out.first_offset = c.begin;
      ++out.count;
    }
    any_end = std::max(any_end, c.end);
    if (c.memory) memory_end = std::max(memory_end, c.end);
  }
  return out;
}

std::span<const std::byte> Dump::bytes() const { return file ? file->bytes() : std::span<const std::byte>{}; }

std::span<const std::byte> Dump::bytes_of(const Region& region) const {
  const auto all = bytes();
  if (region.file_offset >= all.size()) return {};
  return all.subspan(region.file_offset, std::min<std::uint64_t>(region.size, all.size() - region.file_offset));
}

}  // namespace dumpguard
