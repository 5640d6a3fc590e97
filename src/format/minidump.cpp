// Minidump reader: header and stream directory, then each stream through its parser
// (minidump_streams.cpp), then the model: memory regions classified from what the
// threads, modules, memory info and Linux maps say, and every other byte as metadata.
#include "format/minidump.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "format/region_cap.hpp"
#include "format/environment.hpp"
#include "format/minidump_streams.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard {

namespace {

using namespace minidump;

constexpr std::uint32_t kSignature = 0x504D444D;  // "MDMP" read as u32le
constexpr std::uint16_t kVersion = 0xA793;        // MINIDUMP_VERSION, the low 16 bits
constexpr std::uint64_t kHeaderSize = 32;         // MINIDUMP_HEADER
constexpr std::uint64_t kDirectoryEntrySize = 12; // MINIDUMP_DIRECTORY
// Module names are UNICODE_STRINGs, at most 0xFFFF bytes; all of them together get a
// budget, so modules that share one huge "name" cannot cost memory quadratic in the file.
constexpr std::uint32_t kMaxModuleNameBytes = 0xFFFF;
constexpr std::uint64_t kModuleNameBudget = 16ull << 20;
// Warnings beyond this many are counted, not stored: a hostile file can make one per record.
constexpr std::size_t kMaxMinidumpWarnings = 256;

// winnt.h MEM_* values of MINIDUMP_MEMORY_INFO.Type.
constexpr std::uint32_t kMemImage = 0x1000000;
constexpr std::uint32_t kMemMapped = 0x40000;
constexpr std::uint32_t kMemPrivate = 0x20000;

// What the streams said, gathered before any memory region is classified: streams may
// come in any order, and a region's kind depends on threads, modules and memory info.
struct Streams {
  std::vector<ThreadRecord> threads;
  std::vector<ModuleRecord> modules;
  std::vector<MemoryDescriptor> memory;
  std::vector<Memory64Range> memory64;
  std::vector<MemoryInfo> memory_info;
  std::vector<MapsEntry> maps;
  std::vector<ExceptionRecord> exceptions;
  std::vector<std::string> module_paths;  // parallel to modules
};

class Builder {
 public:
  Builder(std::span<const std::byte> bytes) : file_(bytes) {}

  Result<DumpModel> run();

 private:
  // `summary`: a warning that stands for many (a limit, a count of overlaps) is kept even past
  // the cap on warnings, so the reason a dump is incomplete is always shown.
  void warn(std::uint64_t offset, std::string message, bool summary = false);
  // False once the model holds kMaxRegions regions (warned once, at `offset`): a file can
  // describe a region in 12 or 16 bytes, and every region costs every later consumer.
  bool room_for_region(std::uint64_t offset);
  // Returns whether the region was added.
  bool add_metadata(std::uint64_t offset, std::uint64_t size, std::string name,
                    std::optional<std::uint64_t> tid = std::nullopt);
  // A metadata region for a location descriptor inside a stream; warns when it lies
  // outside the file. Returns the region's index.
  std::optional<std::size_t> add_location(const Location& loc, std::uint64_t record_offset,
                                          std::string name, std::optional<std::uint64_t> tid);
  void read_stream(std::uint32_t type, const ByteReader& stream);
  void read_module_names();
  void add_memory_regions();
  void classify_memory();
  void add_threads();
  void add_modules();
  std::optional<std::size_t> memory_region_at(std::uint64_t address) const;
  void sort_memory_index();

  ByteReader file_;
  DumpModel model_;
  Streams s_;
  std::size_t dropped_warnings_ = 0;
  RegionCap region_cap_;
  // Indices of memory regions sorted by vaddr, for lookups by address.
  std::vector<std::size_t> by_vaddr_;
  // Stream types already parsed: a second stream of a type is kept as bytes, not parsed,
  // as rust-minidump and dbghelp use the first. It also keeps a directory that names one
  // big stream thousands of times from costing thousands of parses.
  std::vector<std::uint32_t> parsed_types_;
};

void Builder::warn(std::uint64_t offset, std::string message, bool summary) {
  model_.complete = false;
  if (summary || model_.warnings.size() < kMaxMinidumpWarnings) {
    model_.warnings.push_back({offset, std::move(message)});
  } else {
    ++dropped_warnings_;
  }
}

bool Builder::room_for_region(std::uint64_t offset) {
  std::string warning;
  if (region_cap_.room(model_.regions.size(), warning)) return true;
  if (!warning.empty()) warn(offset, std::move(warning), /*summary=*/true);
  return false;
}

bool Builder::add_metadata(std::uint64_t offset, std::uint64_t size, std::string name,
                           std::optional<std::uint64_t> tid) {
  if (size == 0 || !room_for_region(offset)) return false;
  model_.regions.push_back(metadata_region(offset, size, std::move(name), tid));
  return true;
}

std::optional<std::size_t> Builder::add_location(const Location& loc, std::uint64_t record_offset,
                                                 std::string name, std::optional<std::uint64_t> tid) {
  if (loc.size == 0) return std::nullopt;
  if (!file_.has(loc.rva, loc.size)) {
    warn(record_offset, fmt::format("{} at [{:#x}, +{:#x}) lies outside the file of {} bytes", name,
                                    loc.rva, loc.size, file_.size()));
    return std::nullopt;
  }
  if (!add_metadata(loc.rva, loc.size, std::move(name), tid)) return std::nullopt;
  return model_.regions.size() - 1;
}

Result<DumpModel> Builder::run() {
  // MINIDUMP_HEADER: Signature, Version, NumberOfStreams, StreamDirectoryRva, CheckSum,
  // TimeDateStamp, Flags (u64). The only fatal errors are here: without a header and a
  // directory there is no minidump to speak of.
  if (file_.size() < kHeaderSize) {
    return Error{Errc::truncated, 0,
                 fmt::format("minidump header needs {} bytes, the file has {}", kHeaderSize,
                             file_.size())};
  }
  DG_TRY(std::uint32_t signature, file_.u32le(0));
  if (signature != kSignature) {
    return Error{Errc::bad_magic, 0,
                 fmt::format("expected minidump signature 'MDMP', found {:#010x}", signature)};
  }
  DG_TRY(std::uint32_t version, file_.u32le(4));
  DG_TRY(std::uint32_t stream_count, file_.u32le(8));
  DG_TRY(std::uint32_t directory_rva, file_.u32le(12));
  const std::uint64_t directory_size = std::uint64_t{stream_count} * kDirectoryEntrySize;
  if (!file_.has(directory_rva, directory_size)) {
    return Error{Errc::out_of_range, 12,
                 fmt::format("stream directory of {} entries at {:#x} runs past the end of the "
                             "file ({} bytes)",
                             stream_count, directory_rva, file_.size())};
  }
  model_.format = Format::minidump;
  model_.arch = "unknown";
  add_metadata(0, kHeaderSize, "minidump-header");
  add_metadata(directory_rva, directory_size, "stream-directory");
  // The high 16 bits of Version are implementation-specific; only the low half is fixed.
  if ((version & 0xFFFF) != kVersion) {
    warn(4, fmt::format("minidump version {:#06x}, expected {:#06x}", version & 0xFFFF, kVersion));
  }

  for (std::uint32_t i = 0; i < stream_count; ++i) {
    const std::uint64_t entry = directory_rva + i * kDirectoryEntrySize;
    DG_TRY(std::uint32_t type, file_.u32le(entry));
    DG_TRY(std::uint32_t size, file_.u32le(entry + 4));
    DG_TRY(std::uint32_t rva, file_.u32le(entry + 8));
    // UnusedStream entries are placeholders that writers reserve and leave empty.
    if (type == kUnused || size == 0) continue;
    if (!file_.has(rva, size)) {
      warn(entry, fmt::format("{} stream at [{:#x}, +{:#x}) lies outside the file of {} bytes",
                              stream_name(type), rva, size, file_.size()));
      continue;
    }
    auto stream = file_.sub(rva, size);
    if (!stream) {
      warn(entry, describe(stream.error()));
      continue;
    }
    read_stream(type, *stream);
  }

  read_module_names();
  add_memory_regions();
  sort_memory_index();
  add_threads();
  classify_memory();
  add_modules();
  if (!s_.threads.empty()) {
    if (auto env = windows_environment(model_, file_.data(), s_.threads.front().teb)) {
      model_.environment.push_back(std::move(*env));
    }
  }

  // Writers give each memory range bytes of its own; shared bytes mean a broken or hostile
  // file (every descriptor of a MemoryList pointing at one block), which must not read as a
  // sound dump. The scanner searches shared bytes once.
  if (const RegionOverlaps o = overlapping_regions(model_, file_.size()); o.count > 0) {
    warn(o.first_offset, fmt::format("{} regions overlap the file ranges of memory regions (the first at "
                                     "{:#x}); their shared bytes are searched once", o.count, o.first_offset),
         /*summary=*/true);
  }
  if (dropped_warnings_ > 0) {
    model_.warnings.push_back({0, fmt::format("{} more warnings not shown", dropped_warnings_)});
  }
  account_gaps(model_, file_.size());
  return std::move(model_);
}

// Parses one stream. On success its bytes become a metadata region and its records are
// kept for the model; on failure it gets a warning and no region, so its bytes are left
// unaccounted (and still scanned as raw bytes).
void Builder::read_stream(std::uint32_t type, const ByteReader& stream) {
  const std::string name = stream_name(type);
  auto fail = [&](const Error& e) { warn(e.offset, fmt::format("{} stream: {}", name, e.message)); };
  if (std::find(parsed_types_.begin(), parsed_types_.end(), type) != parsed_types_.end()) {
    warn(stream.base(), fmt::format("second {} stream: kept as metadata, not parsed", name));
    add_metadata(stream.base(), stream.size(), name);
    return;
  }
  if (type == kThreadList || type == kThreadExList || type == kModuleList || type == kMemoryList ||
      type == kMemory64List || type == kMemoryInfoList || type == kSystemInfo ||
      type == kException || type == kLinuxMaps || type == kCrashpadInfo) {
    parsed_types_.push_back(type);
  }

  switch (type) {
    case kThreadList:
    case kThreadExList: {
      auto threads = parse_thread_list(stream, type == kThreadExList);
      if (!threads) return fail(threads.error());
      s_.threads.insert(s_.threads.end(), threads->begin(), threads->end());
      break;
    }
    case kModuleList: {
      auto modules = parse_module_list(stream);
      if (!modules) return fail(modules.error());
      s_.modules.insert(s_.modules.end(), modules->begin(), modules->end());
      break;
    }
    case kMemoryList: {
      auto memory = parse_memory_list(stream);
      if (!memory) return fail(memory.error());
      s_.memory.insert(s_.memory.end(), memory->begin(), memory->end());
      break;
    }
    case kMemory64List: {
      auto list = parse_memory64_list(stream);
      if (!list) return fail(list.error());
      if (list->overflow_at) {
        warn(*list->overflow_at, "memory64-list stream: range data offset overflows 64 bits; "
                                 "later ranges dropped");
      }
      s_.memory64.insert(s_.memory64.end(), list->ranges.begin(), list->ranges.end());
      break;
    }
    case kMemoryInfoList: {
      auto infos = parse_memory_info_list(stream);
      if (!infos) return fail(infos.error());
      s_.memory_info.insert(s_.memory_info.end(), infos->begin(), infos->end());
      break;
    }
    case kSystemInfo: {
      auto arch = parse_system_info(stream);
      if (!arch) return fail(arch.error());
      model_.arch = *arch;
      if (auto csd = system_info_csd_range(file_, stream)) add_metadata(csd->file_offset, csd->size, "csd-version");
      break;
    }
    case kException: {
      auto exception = parse_exception(stream);
      if (!exception) return fail(exception.error());
      s_.exceptions.push_back(*exception);
      break;
    }
    case kLinuxMaps: {
      auto maps = parse_linux_maps(stream);
      s_.maps.insert(s_.maps.end(), std::make_move_iterator(maps.begin()),
                     std::make_move_iterator(maps.end()));
      break;
    }
    case kCrashpadInfo:
      for (const ByteRange& r : crashpad_info_ranges(file_, stream)) {
        add_metadata(r.file_offset, r.size, "crashpad-annotations");
      }
      break;
    default:
      // MiscInfo, the Breakpad Linux text streams, Crashpad info and unknown types: their
      // bytes are kept whole as metadata so detectors scan them (environ holds secrets).
      break;
  }
  add_metadata(stream.base(), stream.size(), name);
  if (name == "linux-environ") {
    if (auto env = environment_stream(file_.data(), stream.base(), stream.size(), "Breakpad linux-environ stream")) {
      model_.environment.push_back(std::move(*env));
    }
  }
}

void Builder::add_memory_regions() {
  auto add = [&](std::uint64_t start, std::uint64_t offset, std::uint64_t size,
                 std::uint64_t record_offset) {
    if (size == 0) return;
    // A range whose end wraps the address space is backwards: its bytes stay unaccounted.
    if (!checked_add(start, size - 1, record_offset)) {
      warn(record_offset, fmt::format("memory range at {:#x} of {:#x} bytes wraps the address "
                                      "space", start, size));
      return;
    }
    if (!room_for_region(record_offset)) return;
    Region r;
    r.file_offset = offset;
    r.vaddr = start;
    r.size = size;
    if (!file_.has(offset, size)) {
      // Keep what the file holds of a truncated range, and say how big it should be.
      if (offset >= file_.size()) {
        warn(record_offset, fmt::format("memory range at {:#x}: data at {:#x} lies outside the "
                                        "file of {} bytes", start, offset, file_.size()));
        return;
      }
      r.size = file_.size() - offset;
      r.memory_size = size;
      warn(record_offset, fmt::format("memory range at {:#x}: {:#x} bytes at {:#x}, the file "
                                      "holds only {:#x}", start, size, offset, r.size));
    }
    model_.regions.push_back(std::move(r));
  };
  for (const MemoryDescriptor& d : s_.memory) add(d.start, d.data.rva, d.data.size, d.record_offset);
  // Memory64List data is contiguous, so once one range runs past the end every later one
  // does too: report the first and drop the rest with one warning.
  std::size_t missing = 0;
  for (const Memory64Range& r : s_.memory64) {
    if (r.size != 0 && r.file_offset >= file_.size()) {
      ++missing;
      continue;
    }
    add(r.start, r.file_offset, r.size, r.record_offset);
  }
  if (missing > 0) {
    warn(file_.size(), fmt::format("memory64-list: {} ranges lie past the end of the file",
                                   missing));
  }
}

void Builder::sort_memory_index() {
  by_vaddr_.clear();
  for (std::size_t i = 0; i < model_.regions.size(); ++i) {
    if (model_.regions[i].vaddr) by_vaddr_.push_back(i);
  }
  std::sort(by_vaddr_.begin(), by_vaddr_.end(), [&](std::size_t a, std::size_t b) {
    return *model_.regions[a].vaddr < *model_.regions[b].vaddr;
  });
}

std::optional<std::size_t> Builder::memory_region_at(std::uint64_t address) const {
  // The last region starting at or below the address; when regions overlap the one that
  // holds the address may start earlier, so look a few regions further back.
  auto it = std::upper_bound(by_vaddr_.begin(), by_vaddr_.end(), address,
                             [&](std::uint64_t a, std::size_t i) { return a < *model_.regions[i].vaddr; });
  for (int step = 0; step < 8 && it != by_vaddr_.begin(); ++step) {
    --it;
    const Region& r = model_.regions[*it];
    const std::uint64_t span = r.memory_size.value_or(r.size);
    if (address - *r.vaddr < span) return *it;
  }
  return std::nullopt;
}

void Builder::add_threads() {
  // Stacks that only the thread record holds (no MemoryList entry names their address)
  // become regions first, all at once, so the index is sorted once, not once per thread.
  bool added = false;
  for (const ThreadRecord& t : s_.threads) {
    if (t.stack.data.size == 0 || memory_region_at(t.stack.start)) continue;
    if (file_.has(t.stack.data.rva, t.stack.data.size) &&
        checked_add(t.stack.start, t.stack.data.size - 1, 0)) {
      if (!room_for_region(t.record_offset + 24)) break;
      Region r;
      r.file_offset = t.stack.data.rva;
      r.size = t.stack.data.size;
      r.vaddr = t.stack.start;
      model_.regions.push_back(std::move(r));
      added = true;
    } else {
      warn(t.record_offset + 24, fmt::format("stack of thread {} at [{:#x}, +{:#x}) lies outside "
                                             "the file", t.tid, t.stack.data.rva, t.stack.data.size));
    }
  }
  if (added) sort_memory_index();

  const std::string arch = model_.arch;
  for (const ThreadRecord& t : s_.threads) {
    Thread thread;
    thread.tid = t.tid;
    thread.context_region = add_location(t.context, t.record_offset + 40, "thread-context", t.tid);
    if (thread.context_region) {
      const Region& ctx = model_.regions[*thread.context_region];
      auto reader = file_.sub(ctx.file_offset, ctx.size);
      if (reader) thread.sp = stack_pointer(*reader, arch);
    }
    // The stack: the memory region that holds the thread's Stack descriptor, else the one
    // that holds the stack pointer (full-memory dumps list stacks only in Memory64List).
    std::optional<std::size_t> stack;
    if (t.stack.data.size != 0) stack = memory_region_at(t.stack.start);
    if (!stack && thread.sp) stack = memory_region_at(*thread.sp);
    if (stack) {
      Region& r = model_.regions[*stack];
      r.kind = RegionKind::stack;
      r.owner.tid = t.tid;
      thread.stack_region = stack;
    }
    if (t.backing_store) {
      // IA-64 register backing store: part of the thread's stack memory.
      if (auto bs = memory_region_at(t.backing_store->start)) {
        model_.regions[*bs].kind = RegionKind::stack;
        model_.regions[*bs].owner.tid = t.tid;
      }
    }
    model_.threads.push_back(thread);
  }
  for (const ExceptionRecord& e : s_.exceptions) {
    add_location(e.context, e.record_offset + 160, "exception-context", e.tid);
  }
}

void Builder::classify_memory() {
  // Lookup tables sorted by start address, so classification is n log n even for a
  // hostile file with tens of thousands of ranges and infos.
  std::vector<const MemoryInfo*> infos;
  infos.reserve(s_.memory_info.size());
  for (const MemoryInfo& m : s_.memory_info) infos.push_back(&m);
  std::sort(infos.begin(), infos.end(), [](auto* a, auto* b) { return a->base < b->base; });
  std::sort(s_.maps.begin(), s_.maps.end(), [](auto& a, auto& b) { return a.start < b.start; });
  std::vector<const ModuleRecord*> modules;
  modules.reserve(s_.modules.size());
  for (const ModuleRecord& m : s_.modules) modules.push_back(&m);
  std::sort(modules.begin(), modules.end(), [](auto* a, auto* b) { return a->base < b->base; });

  auto info_at = [&](std::uint64_t a) -> const MemoryInfo* {
    auto it = std::upper_bound(infos.begin(), infos.end(), a, [](std::uint64_t x, auto* m) { return x < m->base; });
    if (it == infos.begin()) return nullptr;
    --it;
    return a - (*it)->base < (*it)->size ? *it : nullptr;
  };
  auto maps_at = [&](std::uint64_t a) -> const MapsEntry* {
    auto it = std::upper_bound(s_.maps.begin(), s_.maps.end(), a, [](std::uint64_t x, auto& m) { return x < m.start; });
    if (it == s_.maps.begin()) return nullptr;
    --it;
    return a < it->end ? &*it : nullptr;
  };
  auto module_at = [&](std::uint64_t a) -> const ModuleRecord* {
    auto it = std::upper_bound(modules.begin(), modules.end(), a, [](std::uint64_t x, auto* m) { return x < m->base; });
    for (int step = 0; step < 8 && it != modules.begin(); ++step) {
      --it;
      if (a - (*it)->base < (*it)->size) return *it;
    }
    return nullptr;
  };

  auto path_of = [&](const ModuleRecord* m) -> const std::string& {
    return s_.module_paths[static_cast<std::size_t>(m - s_.modules.data())];
  };

  for (std::size_t idx : by_vaddr_) {
    Region& r = model_.regions[idx];
    const std::uint64_t start = *r.vaddr;
    const MemoryInfo* info = info_at(start);
    const MapsEntry* map = maps_at(start);
    if (info) r.perms = perms_from_protect(info->protect);
    if (!r.perms && map) r.perms = map->perms;
    if (r.kind == RegionKind::stack) continue;
    if (const ModuleRecord* m = module_at(start)) {
      r.kind = RegionKind::module;
      r.owner.path = path_of(m);
    } else if (map) {
      // /proc/PID/maps: a path is a mapped file, "[...]" a special mapping, none anonymous.
      const bool writable = map->perms.write;
      if (map->path.empty()) {
        r.kind = writable ? RegionKind::heap : RegionKind::anon;
      } else if (map->path == "[heap]") {
        r.kind = RegionKind::heap;
      } else if (map->path == "[stack]" || map->path.starts_with("[stack:")) {
        r.kind = RegionKind::stack;
      } else if (map->path.front() == '[') {
        r.kind = RegionKind::anon;
      } else {
        r.kind = RegionKind::file_mapping;
        r.owner.path = map->path;
      }
    } else if (info) {
      const bool writable = r.perms && r.perms->write;
      if (info->type == kMemImage) r.kind = RegionKind::module;
      else if (info->type == kMemMapped) r.kind = RegionKind::file_mapping;
      else if (info->type == kMemPrivate) r.kind = writable ? RegionKind::heap : RegionKind::anon;
    }
  }
}

void Builder::read_module_names() {
  s_.module_paths.assign(s_.modules.size(), std::string());
  std::uint64_t budget = kModuleNameBudget;
  for (std::size_t i = 0; i < s_.modules.size(); ++i) {
    const ModuleRecord& m = s_.modules[i];
    auto length = file_.u32le(m.name_rva);
    if (length && *length > kMaxModuleNameBytes) {
      warn(m.record_offset + 20, fmt::format("module at {:#x}: name of {} bytes is longer than a "
                                             "UNICODE_STRING can be", m.base, *length));
      continue;
    }
    if (length && *length > budget) {
      warn(m.record_offset + 20, fmt::format("module at {:#x}: name skipped, the names of all "
                                             "modules exceed {} bytes", m.base, kModuleNameBudget));
      continue;
    }
    std::uint64_t stored = 0;
    auto path = read_string(file_, m.name_rva, stored);
    if (!path) {
      warn(m.record_offset + 20, fmt::format("module at {:#x}: name: {}", m.base, path.error().message));
      continue;
    }
    budget -= *length;
    s_.module_paths[i] = std::move(*path);
    add_metadata(m.name_rva, stored, "module-name");
  }
}

void Builder::add_modules() {
  for (std::size_t i = 0; i < s_.modules.size(); ++i) {
    const ModuleRecord& m = s_.modules[i];
    add_location(m.cv_record, m.record_offset + 76, "codeview", std::nullopt);
    add_location(m.misc_record, m.record_offset + 84, "module-misc", std::nullopt);
    model_.modules.push_back(Module{s_.module_paths[i], m.base, m.size});
  }
}

}  // namespace

Result<DumpModel> read_minidump(std::span<const std::byte> bytes) {
  Builder builder(bytes);
  return builder.run();
}

}  // namespace dumpguard
