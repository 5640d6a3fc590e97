// The stack-only minidump writer: which bytes stay (everything but memory data that is not a
// live thread stack, and the old memory lists), where each kept byte lands (input order, so an
// offset moves back by the bytes left out before it), and the fields rewritten to match.
// Layouts follow minidumpapiset.h, Breakpad's minidump_format.h and Crashpad's
// minidump_extensions.h.
#include "redact/minidump_stack_only.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include "format/minidump_streams.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard {

namespace {

using namespace minidump;
using Ranges = std::vector<ByteRange>;

constexpr std::uint64_t kDirectoryEntrySize = 12;
constexpr std::uint64_t kMemoryDescriptorSize = 16;
constexpr std::uint32_t kHandleData = 12;
constexpr std::uint32_t kUnloadedModuleList = 14;
constexpr std::uint32_t kThreadNames = 24;
constexpr std::uint32_t kLinuxDsoDebug = 0x4767000A;
// MINIDUMP_TYPE flags that promise memory beyond stacks (minidumpapiset.h): WithDataSegs,
// WithFullMemory, WithIndirectlyReferencedMemory, WithProcessThreadData,
// WithPrivateReadWriteMemory, WithCodeSegs, WithPrivateWriteCopyMemory, WithModuleHeaders.
// The copy holds none of that, so it does not claim it.
constexpr std::uint64_t kMemoryFlags = 0x1 | 0x2 | 0x40 | 0x100 | 0x200 | 0x2000 | 0x10000 | 0x80000;
// Below a stack pointer, the System V x86-64 and AArch64 ABIs let a leaf function keep 128
// bytes (the red zone); kept with the live stack when only the pointer says where it starts.
constexpr std::uint64_t kRedZone = 128;
// Crashpad's annotation graph is walked with a budget, as the reader walks it.
constexpr std::size_t kMaxCrashpadFields = 1 << 16;

Error unsupported(std::uint64_t offset, std::string what) {
  return Error{Errc::unsupported, offset, fmt::format("cannot write a stack-only copy: {}", what)};
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

// Sorted, with overlapping and touching ranges merged, empty ones gone.
Ranges normalized(Ranges r) {
  std::sort(r.begin(), r.end(), [](const ByteRange& a, const ByteRange& b) { return a.file_offset < b.file_offset; });
  Ranges out;
  for (const ByteRange& x : r) {
    if (x.size == 0) continue;
    if (!out.empty() && x.file_offset <= out.back().file_offset + out.back().size) {
      const std::uint64_t end = std::max(out.back().file_offset + out.back().size, x.file_offset + x.size);
      out.back().size = end - out.back().file_offset;
    } else {
      out.push_back(x);
    }
  }
  return out;
}

// a minus b; both normalized.
Ranges subtract(const Ranges& a, const Ranges& b) {
  Ranges out;
  std::size_t j = 0;
  for (const ByteRange& x : a) {
    std::uint64_t pos = x.file_offset;
    const std::uint64_t end = x.file_offset + x.size;
    while (j < b.size() && b[j].file_offset + b[j].size <= pos) ++j;
    for (std::size_t k = j; k < b.size() && b[k].file_offset < end && pos < end; ++k) {
      if (b[k].file_offset > pos) out.push_back({pos, b[k].file_offset - pos});
      pos = std::max(pos, b[k].file_offset + b[k].size);
    }
    if (pos < end) out.push_back({pos, end - pos});
  }
  return out;
}

// Where each kept input byte lands in the copy: back by the bytes left out before it.
class OffsetMap {
 public:
  OffsetMap(Ranges dropped, std::uint64_t input_size) : dropped_(std::move(dropped)), input_size_(input_size) {
    std::uint64_t total = 0;
    for (const ByteRange& d : dropped_) {
      before_.push_back(total);
      total += d.size;
    }
    dropped_bytes_ = total;
  }
  std::uint64_t dropped_bytes() const { return dropped_bytes_; }
  const Ranges& dropped() const { return dropped_; }

  // The copy's offset of input offset o (o == input size maps to the end of the kept bytes);
  // nothing when o was left out or lies past the input.
  std::optional<std::uint64_t> at(std::uint64_t o) const {
    if (o > input_size_) return std::nullopt;
    const std::size_t i = index_after(o);  // ranges starting at or before o: [0, i)
    if (i == 0) return o;
    const ByteRange& d = dropped_[i - 1];
    if (o < d.file_offset + d.size) return std::nullopt;
    return o - before_[i - 1] - d.size;
  }
  // True when all of [o, o + n) is kept (n > 0) and inside the input.
  bool kept(std::uint64_t o, std::uint64_t n) const {
    if (n > input_size_ || o > input_size_ - n) return false;
    const std::size_t i = index_after(o);
    if (i > 0 && dropped_[i - 1].file_offset + dropped_[i - 1].size > o) return false;
    return i == dropped_.size() || dropped_[i].file_offset >= o + n;
  }
  // True when all of [o, o + n) is left out.
  bool all_dropped(std::uint64_t o, std::uint64_t n) const {
    const std::size_t i = index_after(o);
    return i > 0 && dropped_[i - 1].file_offset + dropped_[i - 1].size >= saturating_add(o, n);
  }
  // True when some byte of [o, o + n) is left out.
  bool touches_dropped(std::uint64_t o, std::uint64_t n) const {
    if (n == 0) return false;
    const std::size_t i = index_after(o);
    if (i > 0 && dropped_[i - 1].file_offset + dropped_[i - 1].size > o) return true;
    return i < dropped_.size() && dropped_[i].file_offset < saturating_add(o, n);
  }

 private:
  std::size_t index_after(std::uint64_t o) const {
    return static_cast<std::size_t>(
        std::upper_bound(dropped_.begin(), dropped_.end(), o,
                         [](std::uint64_t x, const ByteRange& d) { return x < d.file_offset; }) -
        dropped_.begin());
  }
  Ranges dropped_;
  std::vector<std::uint64_t> before_;
  std::uint64_t dropped_bytes_ = 0;
  std::uint64_t input_size_ = 0;
};

// The byte ranges known structures claim (every metadata region, every kept stack). A patch
// belongs to one structure, its owner; if it lands on bytes another structure claims too, the
// two overlap and the patch would change the other (a module's base rewritten as if it were an
// annotation's RVA): such a file is not rewritten.
class Claims {
 public:
  explicit Claims(Ranges ranges) : ranges_(std::move(ranges)) {
    std::sort(ranges_.begin(), ranges_.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.file_offset < b.file_offset; });
    std::uint64_t end = 0;
    for (const ByteRange& r : ranges_) {
      end = std::max(end, r.file_offset + r.size);
      max_end_.push_back(end);
    }
  }
  // True when [at, at + n) meets a claimed range other than `owner` (or when too many claimed
  // ranges overlap there to tell, which no sane file has).
  bool meets_other(std::uint64_t at, std::uint64_t n, const ByteRange& owner) const {
    const std::uint64_t end = saturating_add(at, n);
    std::size_t i = static_cast<std::size_t>(
        std::lower_bound(ranges_.begin(), ranges_.end(), end,
                         [](const ByteRange& r, std::uint64_t e) { return r.file_offset < e; }) -
        ranges_.begin());
    for (std::size_t steps = 0; i > 0 && max_end_[i - 1] > at; --i, ++steps) {
      if (steps > 4096) return true;
      const ByteRange& r = ranges_[i - 1];
      if (r.file_offset + r.size <= at) continue;
      if (r.file_offset == owner.file_offset && r.size == owner.size) continue;
      return true;
    }
    return false;
  }

 private:
  Ranges ranges_;
  std::vector<std::uint64_t> max_end_;
};

struct DirectoryEntry {
  std::uint32_t type = 0;
  std::uint32_t size = 0;
  std::uint32_t rva = 0;
  std::uint64_t at = 0;  // file offset of the entry
};

bool is_memory_list(std::uint32_t type) { return type == kMemoryList || type == kMemory64List; }

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(std::byte(static_cast<std::uint8_t>(v >> (8 * i))));
}
void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(std::byte(static_cast<std::uint8_t>(v >> (8 * i))));
}

// A memory range of the copy: one live thread stack (or a stack range no thread owns, whole).
struct KeptStack {
  std::uint64_t vaddr = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;
};

class Planner {
 public:
  Planner(const DumpModel& model, std::span<const std::byte> bytes) : model_(model), file_(bytes) {}
  Result<StackOnlyRewrite> run();

 private:
  Status read_directory();
  Status read_threads();
  void choose_stacks();
  // Patches, keyed by input offset. A field inside bytes left out needs none; a field half
  // left out cannot be written.
  Status patch(std::uint64_t at, std::vector<std::byte> bytes);
  Status patch_u32(std::uint64_t at, std::uint32_t v) {
    std::vector<std::byte> b;
    put_u32(b, v);
    return patch(at, std::move(b));
  }
  Status patch_u64(std::uint64_t at, std::uint64_t v) {
    std::vector<std::byte> b;
    put_u64(b, v);
    return patch(at, std::move(b));
  }
  // The copy's RVA for an input RVA: its new offset when its byte was kept, else 0 (a field
  // that pointed at nothing the copy holds points at nothing useful).
  std::uint64_t moved(std::uint64_t rva) const {
    const auto at = map_->at(rva);
    return at && rva < file_.size() ? *at : 0;
  }
  // A MINIDUMP_LOCATION_DESCRIPTOR at `at`: moved with its bytes, or {0, 0} when they were
  // not all kept.
  Status patch_location(std::uint64_t at);
  Status patch_rva(std::uint64_t at);      // a u32 RVA
  Status patch_rva64(std::uint64_t at);    // a u64 RVA (thread names)
  Status patch_streams();
  Status patch_thread_list(const DirectoryEntry& e);
  Status patch_crashpad_info(const DirectoryEntry& e);
  Status patch_dso_debug(const DirectoryEntry& e);
  Status patch_counted_table(const DirectoryEntry& e, std::uint64_t min_entry, std::initializer_list<std::uint64_t> fields);
  Result<std::vector<LayoutPatch>> sorted_patches();
  void summarize(StackOnlyRewrite& out) const;

  const DumpModel& model_;
  ByteReader file_;
  std::vector<DirectoryEntry> entries_;
  std::uint64_t directory_rva_ = 0;
  std::vector<std::size_t> list_entries_;  // indices of memory-list entries
  std::vector<ThreadRecord> records_;      // parallel to model_.threads
  std::map<std::uint64_t, std::size_t> record_index_;  // record offset -> index in records_
  std::vector<KeptStack> kept_;            // sorted by vaddr, disjoint in address
  std::vector<std::optional<std::size_t>> kept_of_region_;  // region index -> kept_ index
  std::optional<OffsetMap> map_;
  std::optional<Claims> claims_;
  ByteRange owner_;  // the structure the next patches belong to
  std::vector<LayoutPatch> patches_;
  std::size_t crashpad_fields_ = 0;
};

Status Planner::read_directory() {
  DG_TRY(std::uint32_t count, file_.u32le(8));
  DG_TRY(std::uint32_t rva, file_.u32le(12));
  directory_rva_ = rva;
  if (!file_.has(rva, std::uint64_t{count} * kDirectoryEntrySize)) return unsupported(12, "the stream directory lies outside the file");
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t at = rva + i * kDirectoryEntrySize;
    DirectoryEntry e;
    e.at = at;
    DG_TRY(e.type, file_.u32le(at));
    DG_TRY(e.size, file_.u32le(at + 4));
    DG_TRY(e.rva, file_.u32le(at + 8));
    if (is_memory_list(e.type)) list_entries_.push_back(entries_.size());
    entries_.push_back(e);
  }
  return ok_status();
}

Status Planner::read_threads() {
  // As the reader does: the first non-empty stream of each thread-list type, in directory
  // order, gives model_.threads in the same order.
  bool seen[2] = {false, false};
  for (const DirectoryEntry& e : entries_) {
    if ((e.type != kThreadList && e.type != kThreadExList) || e.size == 0) continue;
    bool& once = seen[e.type == kThreadExList ? 1 : 0];
    if (once) continue;
    once = true;
    DG_TRY(ByteReader stream, file_.sub(e.rva, e.size));
    DG_TRY(std::vector<ThreadRecord> threads, parse_thread_list(stream, e.type == kThreadExList));
    records_.insert(records_.end(), threads.begin(), threads.end());
  }
  if (records_.size() != model_.threads.size()) {
    return unsupported(0, fmt::format("{} thread records for {} threads", records_.size(), model_.threads.size()));
  }
  for (std::size_t i = 0; i < records_.size(); ++i) record_index_.emplace(records_[i].record_offset, i);
  return ok_status();
}

void Planner::choose_stacks() {
  // Each stack region's live part: the hull of its threads' Stack descriptors (what
  // MiniDumpNormal saves), or from the stack pointer (less the red zone) to the region's end
  // where the descriptor is empty (full-memory dumps). A stack range no thread names is kept
  // whole.
  struct Candidate {
    KeptStack stack;
    std::size_t region = 0;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < model_.regions.size(); ++i) {
    const Region& r = model_.regions[i];
    if (r.kind != RegionKind::stack || !r.vaddr || r.size == 0) continue;
    const std::uint64_t lo = *r.vaddr, hi = saturating_add(*r.vaddr, r.size);
    std::optional<std::pair<std::uint64_t, std::uint64_t>> live;
    for (std::size_t t = 0; t < model_.threads.size(); ++t) {
      if (model_.threads[t].stack_region != i) continue;
      const MemoryDescriptor& d = records_[t].stack;
      std::uint64_t a = lo, b = hi;
      if (d.data.size != 0) {
        a = d.start;
        b = saturating_add(d.start, d.data.size);
      } else if (model_.threads[t].sp) {
        const std::uint64_t sp = *model_.threads[t].sp & ~std::uint64_t{15};
        a = sp > kRedZone ? sp - kRedZone : 0;
      }
      a = std::max(a, lo);
      b = std::min(b, hi);
      if (a >= b) a = lo, b = hi;  // a descriptor beside its region: keep the region
      live = live ? std::pair{std::min(live->first, a), std::max(live->second, b)} : std::pair{a, b};
    }
    if (!live) live = std::pair{lo, hi};
    candidates.push_back({{live->first, r.file_offset + (live->first - lo), live->second - live->first}, i});
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.stack.vaddr < b.stack.vaddr; });
  // Two ranges for the same addresses (a range listed twice): the first is kept, and the
  // other's threads point at it, so every thread's stack still resolves to a stack range.
  kept_of_region_.assign(model_.regions.size(), std::nullopt);
  for (const Candidate& c : candidates) {
    if (!kept_.empty() && c.stack.vaddr < kept_.back().vaddr + kept_.back().size) {
      kept_of_region_[c.region] = kept_.size() - 1;
      continue;
    }
    kept_.push_back(c.stack);
    kept_of_region_[c.region] = kept_.size() - 1;
  }
}

Status Planner::patch(std::uint64_t at, std::vector<std::byte> bytes) {
  if (!file_.has(at, bytes.size())) return unsupported(at, "a field lies outside the file");
  if (map_->touches_dropped(at, bytes.size())) {
    // A structure inside memory that goes is not in the copy: nothing to patch. One that only
    // partly overlaps it cannot be written whole.
    if (map_->all_dropped(at, bytes.size())) return ok_status();
    return unsupported(at, "a field straddles memory that is left out");
  }
  if (claims_->meets_other(at, bytes.size(), owner_)) {
    return unsupported(at, "two structures overlap, and a field of one would change the other");
  }
  patches_.push_back({at, std::move(bytes)});
  return ok_status();
}

Status Planner::patch_location(std::uint64_t at) {
  DG_TRY(std::uint32_t size, file_.u32le(at));
  DG_TRY(std::uint32_t rva, file_.u32le(at + 4));
  std::uint64_t new_size = 0, new_rva = 0;
  if (size == 0) {
    new_rva = moved(rva);
  } else if (map_->kept(rva, size)) {
    new_size = size;
    new_rva = *map_->at(rva);
  }
  std::vector<std::byte> b;
  put_u32(b, static_cast<std::uint32_t>(new_size));
  put_u32(b, static_cast<std::uint32_t>(new_rva));
  return patch(at, std::move(b));
}

Status Planner::patch_rva(std::uint64_t at) {
  DG_TRY(std::uint32_t rva, file_.u32le(at));
  return patch_u32(at, static_cast<std::uint32_t>(moved(rva)));
}

Status Planner::patch_rva64(std::uint64_t at) {
  DG_TRY(std::uint64_t rva, file_.u64le(at));
  return patch_u64(at, moved(rva));
}

Status Planner::patch_thread_list(const DirectoryEntry& e) {
  DG_TRY(ByteReader stream, file_.sub(e.rva, e.size));
  auto threads = parse_thread_list(stream, e.type == kThreadExList);
  if (!threads) return ok_status();  // a copy the reader ignored (second stream): left as it is
  for (const ThreadRecord& t : *threads) {
    // The thread's Stack descriptor names its live stack in the copy, as MiniDumpNormal's do.
    std::optional<std::size_t> kept;
    if (auto it = record_index_.find(t.record_offset); it != record_index_.end()) {
      if (const auto& region = model_.threads[it->second].stack_region) kept = kept_of_region_[*region];
    }
    owner_ = {e.rva, e.size};
    const std::uint64_t stack = t.record_offset + 24;
    if (kept) {
      const KeptStack& k = kept_[*kept];
      std::vector<std::byte> b;
      put_u64(b, k.vaddr);
      put_u32(b, static_cast<std::uint32_t>(k.size));
      put_u32(b, static_cast<std::uint32_t>(*map_->at(k.file_offset)));
      DG_CHECK(patch(stack, std::move(b)));
    } else {
      DG_CHECK(patch_location(stack + 8));
    }
    DG_CHECK(patch_location(t.record_offset + 40));                          // ThreadContext
    if (e.type == kThreadExList) DG_CHECK(patch_location(t.record_offset + 48 + 8));  // BackingStore.Memory
  }
  return ok_status();
}

// MINIDUMP_UNLOADED_MODULE_LIST and MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader, SizeOfEntry,
// NumberOfEntries, then entries of SizeOfEntry bytes; `fields` are the RVAs in an entry, each
// patched when the entry is large enough to hold it.
Status Planner::patch_counted_table(const DirectoryEntry& e, std::uint64_t min_entry,
                                    std::initializer_list<std::uint64_t> fields) {
  DG_TRY(ByteReader stream, file_.sub(e.rva, e.size));
  auto header = stream.u32le(0);
  auto entry = stream.u32le(4);
  auto count = stream.u32le(8);
  if (!header || !entry || !count || *entry < min_entry || *header < 12) return ok_status();
  if (!stream.has(*header, std::uint64_t{*count} * *entry)) return ok_status();
  owner_ = {e.rva, e.size};
  for (std::uint32_t i = 0; i < *count; ++i) {
    const std::uint64_t at = e.rva + *header + std::uint64_t{i} * *entry;
    for (std::uint64_t f : fields) {
      if (f + 4 <= *entry) DG_CHECK(patch_rva(at + f));
    }
  }
  return ok_status();
}

Status Planner::patch_dso_debug(const DirectoryEntry& e) {
  // Breakpad's MDRawDebug{32,64}: version, map (RVA of dso_count MDRawLinkMap), dso_count, ...;
  // MDRawLinkMap64 {addr u64, name RVA at 8, ld u64 at 16} (24 bytes), MDRawLinkMap32 {addr,
  // name at 4, ld} (12 bytes). The width is the process's.
  const std::string& arch = model_.arch;
  const bool wide = arch == "x86_64" || arch == "aarch64" || arch == "mips64" || arch == "ppc64" || arch == "sparc64";
  const bool narrow = arch == "x86" || arch == "arm" || arch == "mips" || arch == "ppc" || arch == "sparc";
  if ((!wide && !narrow) || e.size < 12) return ok_status();
  DG_TRY(std::uint32_t map, file_.u32le(e.rva + 4));
  DG_TRY(std::uint32_t count, file_.u32le(e.rva + 8));
  const std::uint64_t entry = wide ? 24 : 12, name = wide ? 8 : 4;
  if (map != 0 && file_.has(map, std::uint64_t{count} * entry)) {
    owner_ = {map, std::uint64_t{count} * entry};  // no region of the reader's: must meet none
    for (std::uint32_t i = 0; i < count; ++i) DG_CHECK(patch_rva(map + i * entry + name));
  }
  owner_ = {e.rva, e.size};
  return patch_rva(e.rva + 4);
}

Status Planner::patch_crashpad_info(const DirectoryEntry& e) {
  // The same graph crashpad_info_ranges walks (minidump_streams.cpp): every RVA in it.
  const auto budget = [&] { return ++crashpad_fields_ <= kMaxCrashpadFields; };
  const auto list = [&](std::uint32_t rva, std::uint64_t record) -> std::optional<std::uint32_t> {
    auto count = file_.u32le(rva);
    if (!count || !file_.has(std::uint64_t{rva} + 4, std::uint64_t{*count} * record)) return std::nullopt;
    return *count;
  };
  // MinidumpSimpleStringDictionary: count, then {key RVA, value RVA}.
  const auto dictionary = [&](std::uint32_t rva) -> Status {
    auto count = list(rva, 8);
    if (count) owner_ = {rva, 4 + std::uint64_t{*count} * 8};
    for (std::uint32_t i = 0; count && i < *count && budget(); ++i) {
      const std::uint64_t at = std::uint64_t{rva} + 4 + std::uint64_t{i} * 8;
      DG_CHECK(patch_rva(at));
      DG_CHECK(patch_rva(at + 4));
    }
    return ok_status();
  };
  if (e.size < 52) return ok_status();
  // MinidumpCrashpadInfo: simple_annotations (location) at 36, module_list (location) at 44.
  DG_TRY(std::uint32_t simple_size, file_.u32le(e.rva + 36));
  DG_TRY(std::uint32_t simple, file_.u32le(e.rva + 40));
  if (simple_size != 0) DG_CHECK(dictionary(simple));
  owner_ = {e.rva, e.size};
  DG_CHECK(patch_location(e.rva + 36));
  DG_TRY(std::uint32_t modules_size, file_.u32le(e.rva + 44));
  DG_TRY(std::uint32_t modules, file_.u32le(e.rva + 48));
  if (modules_size != 0) {
    // MinidumpModuleCrashpadInfoList: count, then links {module index, location}.
    auto count = list(modules, 12);
    for (std::uint32_t i = 0; count && i < *count && budget(); ++i) {
      const std::uint64_t link = std::uint64_t{modules} + 4 + std::uint64_t{i} * 12;
      DG_TRY(std::uint32_t size, file_.u32le(link + 4));
      DG_TRY(std::uint32_t rva, file_.u32le(link + 8));
      if (size >= 28 && file_.has(rva, size)) {
        // MinidumpModuleCrashpadInfo: list_annotations at 4, simple_annotations at 12,
        // annotation_objects at 20 (locations).
        DG_TRY(std::uint32_t list_size, file_.u32le(rva + 4));
        DG_TRY(std::uint32_t list_rva, file_.u32le(rva + 8));
        if (list_size != 0) {
          auto n = list(list_rva, 4);  // MinidumpRVAList
          if (n) owner_ = {list_rva, 4 + std::uint64_t{*n} * 4};
          for (std::uint32_t j = 0; n && j < *n && budget(); ++j) DG_CHECK(patch_rva(std::uint64_t{list_rva} + 4 + j * 4));
        }
        DG_TRY(std::uint32_t dict_size, file_.u32le(rva + 12));
        DG_TRY(std::uint32_t dict, file_.u32le(rva + 16));
        if (dict_size != 0) DG_CHECK(dictionary(dict));
        DG_TRY(std::uint32_t objects_size, file_.u32le(rva + 20));
        DG_TRY(std::uint32_t objects, file_.u32le(rva + 24));
        if (objects_size != 0) {
          // MinidumpAnnotationList: count, then {name RVA, type u16, reserved u16, value RVA}.
          auto n = list(objects, 12);
          if (n) owner_ = {objects, 4 + std::uint64_t{*n} * 12};
          for (std::uint32_t j = 0; n && j < *n && budget(); ++j) {
            const std::uint64_t at = std::uint64_t{objects} + 4 + std::uint64_t{j} * 12;
            DG_CHECK(patch_rva(at));
            DG_CHECK(patch_rva(at + 8));
          }
        }
        owner_ = {rva, size};
        for (std::uint64_t f : {4u, 12u, 20u}) DG_CHECK(patch_location(rva + f));
      }
      owner_ = {modules, 4 + std::uint64_t{*count} * 12};
      DG_CHECK(patch_location(link + 4));
    }
  }
  owner_ = {e.rva, e.size};
  return patch_location(e.rva + 44);
}

Status Planner::patch_streams() {
  for (const DirectoryEntry& e : entries_) {
    if (e.size == 0 || !file_.has(e.rva, e.size) || is_memory_list(e.type)) continue;
    owner_ = {e.rva, e.size};
    switch (e.type) {
      case kThreadList:
      case kThreadExList:
        DG_CHECK(patch_thread_list(e));
        break;
      case kModuleList: {
        DG_TRY(ByteReader stream, file_.sub(e.rva, e.size));
        auto modules = parse_module_list(stream);
        if (!modules) break;
        for (const ModuleRecord& m : *modules) {
          DG_CHECK(patch_rva(m.record_offset + 20));       // ModuleNameRva
          DG_CHECK(patch_location(m.record_offset + 76));  // CvRecord
          DG_CHECK(patch_location(m.record_offset + 84));  // MiscRecord
        }
        break;
      }
      case kException:
        if (e.size >= 168) DG_CHECK(patch_location(e.rva + 160));  // ThreadContext
        break;
      case kSystemInfo:
        if (e.size >= 28) DG_CHECK(patch_rva(e.rva + 24));  // CSDVersionRva
        break;
      case kThreadNames: {
        // MINIDUMP_THREAD_NAME_LIST: count, then {ThreadId u32, RvaOfThreadName u64} (12 bytes).
        if (e.size < 4) break;
        DG_TRY(std::uint32_t count, file_.u32le(e.rva));
        if (std::uint64_t{count} * 12 > e.size - 4) break;
        for (std::uint32_t i = 0; i < count; ++i) DG_CHECK(patch_rva64(e.rva + 4 + i * 12 + 4));
        break;
      }
      case kUnloadedModuleList:
        // MINIDUMP_UNLOADED_MODULE: ModuleNameRva at 20.
        DG_CHECK(patch_counted_table(e, 24, {20}));
        break;
      case kHandleData:
        // MINIDUMP_HANDLE_DESCRIPTOR(_2): TypeNameRva at 8, ObjectNameRva at 12, ObjectInfoRva at 32.
        DG_CHECK(patch_counted_table(e, 32, {8, 12, 32}));
        break;
      case kLinuxDsoDebug:
        DG_CHECK(patch_dso_debug(e));
        break;
      case kCrashpadInfo:
        DG_CHECK(patch_crashpad_info(e));
        break;
      default:
        break;  // no pointers, or a stream dumpguard does not know: kept as it is
    }
  }
  return ok_status();
}

Result<std::vector<LayoutPatch>> Planner::sorted_patches() {
  std::sort(patches_.begin(), patches_.end(),
            [](const LayoutPatch& a, const LayoutPatch& b) { return a.file_offset < b.file_offset; });
  std::vector<LayoutPatch> out;
  for (LayoutPatch& p : patches_) {
    if (!out.empty() && p.file_offset < out.back().file_offset + out.back().bytes.size()) {
      // The same field reached twice (two structures share it) is fine if both want one value.
      if (p.file_offset == out.back().file_offset && p.bytes == out.back().bytes) continue;
      return unsupported(p.file_offset, "two structures overlap and need different values in one field");
    }
    out.push_back(std::move(p));
  }
  return out;
}

void Planner::summarize(StackOnlyRewrite& out) const {
  std::map<RegionKind, RemovedKind> by_kind;
  std::vector<bool> counted(kept_.size(), false);
  for (std::size_t i = 0; i < model_.regions.size(); ++i) {
    const Region& r = model_.regions[i];
    if (!r.vaddr || r.size == 0) continue;
    std::uint64_t kept = 0;
    if (kept_of_region_[i]) {
      const KeptStack& k = kept_[*kept_of_region_[i]];
      // The range listed twice gives its bytes once.
      if (k.file_offset >= r.file_offset && k.file_offset - r.file_offset < r.size && !counted[*kept_of_region_[i]]) {
        kept = k.size;
        counted[*kept_of_region_[i]] = true;
      }
    }
    if (kept == r.size) continue;
    RemovedKind& k = by_kind[r.kind];
    k.kind = to_string(r.kind);
    if (kept == 0) ++k.regions;
    else ++k.trimmed;
    k.bytes += r.size - kept;
  }
  for (auto& [kind, removed] : by_kind) out.change.removed.push_back(removed);
  out.change.kept_regions = kept_.size();
  for (const KeptStack& k : kept_) out.change.kept_bytes += k.size;
}

Result<StackOnlyRewrite> Planner::run() {
  if (model_.format != Format::minidump || !model_.complete) {
    return unsupported(0, "the dump is not a completely parsed minidump");
  }
  DG_CHECK(read_directory());
  StackOnlyRewrite out;
  out.change.as = "stack-only minidump";
  DG_CHECK(read_threads());
  choose_stacks();
  if (list_entries_.empty()) {
    // No memory list: the only memory is the threads' stacks, so the copy is the input.
    map_.emplace(Ranges{}, file_.size());
    if (file_.size() > 0) out.layout.pieces.push_back({false, {0, file_.size()}, {}});
    summarize(out);
    return out;
  }
  for (std::size_t i : list_entries_) out.change.replaced_streams.push_back(stream_name(entries_[i].type));

  // The new MemoryListStream: count, then one MINIDUMP_MEMORY_DESCRIPTOR per kept stack. It
  // goes where the first memory list was when it fits there (nothing after it moves for it),
  // else after everything else.
  const std::uint64_t list_size = 4 + kept_.size() * kMemoryDescriptorSize;
  const DirectoryEntry& first = entries_[list_entries_.front()];
  const bool in_place = file_.has(first.rva, first.size) && list_size <= first.size;

  // What stays: every byte but memory data and the old lists; of those, whatever a kept
  // structure also claims (a stream, a context, a name, a kept stack) stays too.
  Ranges leaving, staying;
  for (const Region& r : model_.regions) {
    if (r.vaddr) {
      leaving.push_back({r.file_offset, r.size});
    } else if (r.owner.name != stream_name(kMemoryList) && r.owner.name != stream_name(kMemory64List)) {
      staying.push_back({r.file_offset, r.size});
    }
  }
  for (std::size_t i : list_entries_) {
    const DirectoryEntry& e = entries_[i];
    if (file_.has(e.rva, e.size)) leaving.push_back({e.rva, e.size});
  }
  for (const KeptStack& k : kept_) staying.push_back({k.file_offset, k.size});
  if (in_place) staying.push_back({first.rva, list_size});
  staying.push_back({0, std::min<std::uint64_t>(32, file_.size())});
  staying.push_back({directory_rva_, entries_.size() * kDirectoryEntrySize});
  map_.emplace(subtract(normalized(leaving), normalized(staying)), file_.size());
  Ranges claimed;
  for (const Region& r : model_.regions) {
    if (!r.vaddr && r.owner.name != stream_name(kMemoryList) && r.owner.name != stream_name(kMemory64List)) {
      claimed.push_back({r.file_offset, r.size});
    }
  }
  for (const KeptStack& k : kept_) claimed.push_back({k.file_offset, k.size});
  claims_.emplace(std::move(claimed));

  std::uint64_t cursor = 0;
  for (const ByteRange& d : map_->dropped()) {
    if (d.file_offset > cursor) out.layout.pieces.push_back({false, {cursor, d.file_offset - cursor}, {}});
    cursor = d.file_offset + d.size;
  }
  if (cursor < file_.size()) out.layout.pieces.push_back({false, {cursor, file_.size() - cursor}, {}});
  const std::uint64_t kept_total = file_.size() - map_->dropped_bytes();

  std::vector<std::byte> list;
  put_u32(list, static_cast<std::uint32_t>(kept_.size()));
  for (const KeptStack& k : kept_) {
    const auto rva = map_->at(k.file_offset);
    if (!rva || *rva > std::numeric_limits<std::uint32_t>::max() || k.size > std::numeric_limits<std::uint32_t>::max()) {
      return unsupported(k.file_offset, fmt::format("the stack at {:#x} would lie beyond the 4 GiB that a "
                                                    "MemoryListStream can address", k.vaddr));
    }
    put_u64(list, k.vaddr);
    put_u32(list, static_cast<std::uint32_t>(k.size));
    put_u32(list, static_cast<std::uint32_t>(*rva));
  }
  std::uint64_t list_at = 0;
  if (in_place) {
    list_at = *map_->at(first.rva);
    owner_ = {first.rva, list_size};  // the old list's bytes are no structure's any more
    DG_CHECK(patch(first.rva, list));
  } else {
    const std::uint64_t pad = (4 - kept_total % 4) % 4;
    list_at = kept_total + pad;
    if (list_at > std::numeric_limits<std::uint32_t>::max()) {
      return unsupported(0, "the copy would be larger than the 4 GiB a MemoryListStream can address");
    }
    if (pad > 0) out.layout.pieces.push_back({true, {}, std::vector<std::byte>(pad)});
    out.layout.pieces.push_back({true, {}, list});
  }

  // The directory, in place: the first memory list becomes the new MemoryListStream, the
  // others unused entries (type 0, as writers reserve them); every other stream moves with its
  // bytes.
  owner_ = {directory_rva_, entries_.size() * kDirectoryEntrySize};
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const DirectoryEntry& e = entries_[i];
    std::vector<std::byte> b;
    if (is_memory_list(e.type)) {
      const bool chosen = i == list_entries_.front();
      put_u32(b, chosen ? std::uint32_t{kMemoryList} : 0u);
      put_u32(b, chosen ? static_cast<std::uint32_t>(list_size) : 0);
      put_u32(b, chosen ? static_cast<std::uint32_t>(list_at) : 0);
    } else {
      put_u32(b, e.type);
      const bool moves = e.size != 0 && map_->kept(e.rva, e.size);
      put_u32(b, e.size == 0 || moves ? e.size : 0);
      put_u32(b, static_cast<std::uint32_t>(moves ? *map_->at(e.rva) : (e.size == 0 ? moved(e.rva) : 0)));
    }
    DG_CHECK(patch(e.at, std::move(b)));
  }
  // The directory stays, but bytes before it may have gone.
  owner_ = {0, 32};
  DG_CHECK(patch_u32(12, static_cast<std::uint32_t>(*map_->at(directory_rva_))));
  DG_TRY(std::uint64_t flags, file_.u64le(24));
  if (flags & kMemoryFlags) DG_CHECK(patch_u64(24, flags & ~kMemoryFlags));
  DG_CHECK(patch_streams());
  DG_TRY(out.layout.patches, sorted_patches());
  summarize(out);
  return out;
}

}  // namespace

Status check_stack_only(const DumpModel& input, const DumpModel& copy) {
  const auto fail = [](const std::string& what) {
    return Error{Errc::bad_value, 0, fmt::format("the stack-only copy {}; nothing was written", what)};
  };
  if (!copy.complete || !copy.warnings.empty()) return fail("does not parse completely");
  if (copy.threads.size() != input.threads.size()) return fail("lost threads");
  for (std::size_t i = 0; i < copy.threads.size(); ++i) {
    if (copy.threads[i].tid != input.threads[i].tid || copy.threads[i].sp != input.threads[i].sp) {
      return fail(fmt::format("changed thread {}", input.threads[i].tid));
    }
  }
  if (copy.modules.size() != input.modules.size()) return fail("lost modules");
  for (std::size_t i = 0; i < copy.modules.size(); ++i) {
    const Module& a = input.modules[i];
    const Module& b = copy.modules[i];
    if (a.path != b.path || a.base != b.base || a.size != b.size) return fail(fmt::format("changed module {}", a.path));
  }
  for (const Region& r : copy.regions) {
    if (r.vaddr && r.kind != RegionKind::stack) return fail(fmt::format("holds {} memory at {:#x}", to_string(r.kind), *r.vaddr));
  }
  return ok_status();
}

Result<StackOnlyRewrite> plan_stack_only_minidump(const DumpModel& model, std::span<const std::byte> bytes) {
  Planner planner(model, bytes);
  return planner.run();
}

}  // namespace dumpguard
