// Minidump stream parsers: bytes of one stream in, plain records out. Every count is
// checked against the stream's size before anything is allocated or looped over, so a
// hostile count costs an Error, never memory or time.
#include "format/minidump_streams.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dumpguard::minidump {

namespace {

// Record sizes from minidumpapiset.h.
constexpr std::uint64_t kThreadSize = 48;            // MINIDUMP_THREAD
constexpr std::uint64_t kThreadExSize = 64;          // MINIDUMP_THREAD_EX
constexpr std::uint64_t kModuleSize = 108;           // MINIDUMP_MODULE (packed, 4-byte aligned)
constexpr std::uint64_t kMemoryDescriptorSize = 16;  // MINIDUMP_MEMORY_DESCRIPTOR
constexpr std::uint64_t kMemoryDescriptor64Size = 16;
constexpr std::uint64_t kMemoryInfoSize = 48;        // MINIDUMP_MEMORY_INFO
constexpr std::uint64_t kMemoryInfoHeaderSize = 16;  // MINIDUMP_MEMORY_INFO_LIST header
constexpr std::uint64_t kSystemInfoSize = 56;        // MINIDUMP_SYSTEM_INFO
constexpr std::uint64_t kExceptionStreamSize = 168;  // MINIDUMP_EXCEPTION_STREAM

// A list stream is a u32 count followed by records. Some writers (older dbghelp, Breakpad)
// pad the count to 8 bytes so the records are 8-aligned, so both 4 + n*rec and 8 + n*rec
// are accepted; anything else means the count does not fit the stream. Returns the offset
// of the first record.
Result<std::uint64_t> list_header(const ByteReader& stream, std::uint64_t record_size,
                                  std::uint32_t& count) {
  DG_TRY(count, stream.u32le(0));
  DG_TRY(std::uint64_t body, checked_mul(count, record_size, stream.base()));
  if (stream.size() >= 4 && stream.size() - 4 == body) return std::uint64_t{4};
  if (stream.size() >= 8 && stream.size() - 8 == body) return std::uint64_t{8};
  return stream.error_at(Errc::too_many, 0,
                         fmt::format("count {} of {}-byte records does not fit a stream of {} bytes "
                                     "(expected {} or {} bytes)",
                                     count, record_size, stream.size(), body + 4, body + 8));
}

Result<Location> read_location(const ByteReader& r, std::uint64_t offset) {
  DG_TRY(std::uint32_t size, r.u32le(offset));
  DG_TRY(std::uint32_t rva, r.u32le(offset + 4));
  return Location{size, rva};
}

Result<MemoryDescriptor> read_memory_descriptor(const ByteReader& r, std::uint64_t offset) {
  DG_TRY(std::uint64_t start, r.u64le(offset));
  DG_TRY(Location data, read_location(r, offset + 8));
  return MemoryDescriptor{start, data, r.base() + offset};
}

}  // namespace

std::string stream_name(std::uint32_t type) {
  switch (type) {
    case 3: return "thread-list";
    case 4: return "module-list";
    case 5: return "memory-list";
    case 6: return "exception";
    case 7: return "system-info";
    case 8: return "thread-ex-list";
    case 9: return "memory64-list";
    case 10: return "comment-a";
    case 11: return "comment-w";
    case 12: return "handle-data";
    case 13: return "function-table";
    case 14: return "unloaded-module-list";
    case 15: return "misc-info";
    case 16: return "memory-info-list";
    case 17: return "thread-info-list";
    case 18: return "handle-operation-list";
    case 19: return "token";
    case 20: return "javascript-data";
    case 21: return "system-memory-info";
    case 22: return "process-vm-counters";
    case 23: return "ipt-trace";
    case 24: return "thread-names";
    // Breakpad extensions, 0x4767 = "Gg" (minidump_format.h).
    case 0x47670001: return "breakpad-info";
    case 0x47670002: return "assertion-info";
    case 0x47670003: return "linux-cpuinfo";
    case 0x47670004: return "linux-proc-status";
    case 0x47670005: return "linux-lsb-release";
    case 0x47670006: return "linux-cmdline";
    case 0x47670007: return "linux-environ";
    case 0x47670008: return "linux-auxv";
    case 0x47670009: return "linux-maps";
    case 0x4767000A: return "linux-dso-debug";
    // Crashpad extension, 0x4350 = "CP" (minidump_extensions.h).
    case 0x43500001: return "crashpad-info";
    // Mozilla extensions, 0x4D7A = "Mz".
    case 0x4d7a0001: return "moz-macos-crash-info";
    case 0x4d7a0002: return "moz-macos-bootargs";
    case 0x4d7a0003: return "moz-linux-limits";
    case 0x4d7a0004: return "moz-soft-errors";
    default: return fmt::format("stream {:#010x}", type);
  }
}

Result<std::vector<ThreadRecord>> parse_thread_list(const ByteReader& stream, bool extended) {
  const std::uint64_t record_size = extended ? kThreadExSize : kThreadSize;
  std::uint32_t count = 0;
  DG_TRY(std::uint64_t first, list_header(stream, record_size, count));
  std::vector<ThreadRecord> threads;
  threads.reserve(count);  // bounded: count * record_size == stream size
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t at = first + i * record_size;
    ThreadRecord t;
    t.record_offset = stream.base() + at;
    // MINIDUMP_THREAD: ThreadId, SuspendCount, PriorityClass, Priority, Teb (u64),
    // Stack (MINIDUMP_MEMORY_DESCRIPTOR) at 24, ThreadContext (location) at 40.
    DG_TRY(t.tid, stream.u32le(at));
    DG_TRY(t.teb, stream.u64le(at + 16));
    DG_TRY(t.stack, read_memory_descriptor(stream, at + 24));
    DG_TRY(t.context, read_location(stream, at + 40));
    if (extended) {
      DG_TRY(MemoryDescriptor backing, read_memory_descriptor(stream, at + 48));
      if (backing.data.size != 0) t.backing_store = backing;
    }
    threads.push_back(t);
  }
  return threads;
}

Result<std::vector<ModuleRecord>> parse_module_list(const ByteReader& stream) {
  std::uint32_t count = 0;
  DG_TRY(std::uint64_t first, list_header(stream, kModuleSize, count));
  std::vector<ModuleRecord> modules;
  modules.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t at = first + i * kModuleSize;
    ModuleRecord m;
    m.record_offset = stream.base() + at;
    // MINIDUMP_MODULE: BaseOfImage u64, SizeOfImage u32 at 8, CheckSum, TimeDateStamp,
    // ModuleNameRva at 20, VS_FIXEDFILEINFO (52 bytes) at 24, CvRecord at 76, MiscRecord at 84.
    DG_TRY(m.base, stream.u64le(at));
    DG_TRY(m.size, stream.u32le(at + 8));
    DG_TRY(m.name_rva, stream.u32le(at + 20));
    DG_TRY(m.cv_record, read_location(stream, at + 76));
    DG_TRY(m.misc_record, read_location(stream, at + 84));
    modules.push_back(m);
  }
  return modules;
}

Result<std::vector<MemoryDescriptor>> parse_memory_list(const ByteReader& stream) {
  std::uint32_t count = 0;
  DG_TRY(std::uint64_t first, list_header(stream, kMemoryDescriptorSize, count));
  std::vector<MemoryDescriptor> ranges;
  ranges.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    DG_TRY(MemoryDescriptor d, read_memory_descriptor(stream, first + i * kMemoryDescriptorSize));
    ranges.push_back(d);
  }
  return ranges;
}

Result<Memory64List> parse_memory64_list(const ByteReader& stream) {
  // MINIDUMP_MEMORY64_LIST: NumberOfMemoryRanges u64, BaseRva u64, then
  // MINIDUMP_MEMORY_DESCRIPTOR64 {StartOfMemoryRange, DataSize}. The data of all ranges is
  // laid out back to back from BaseRva, in descriptor order.
  DG_TRY(std::uint64_t count, stream.u64le(0));
  DG_TRY(std::uint64_t base_rva, stream.u64le(8));
  if (count > (stream.size() - 16) / kMemoryDescriptor64Size ||
      stream.size() - 16 != count * kMemoryDescriptor64Size) {
    return stream.error_at(Errc::too_many, 0,
                           fmt::format("count {} of 16-byte ranges does not fit a stream of {} bytes",
                                       count, stream.size()));
  }
  Memory64List list;
  list.ranges.reserve(count);
  std::uint64_t cursor = base_rva;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = 16 + i * kMemoryDescriptor64Size;
    Memory64Range r;
    r.record_offset = stream.base() + at;
    DG_TRY(r.start, stream.u64le(at));
    DG_TRY(r.size, stream.u64le(at + 8));
    r.file_offset = cursor;
    auto next = checked_add(cursor, r.size, r.record_offset);
    if (!next) {
      list.overflow_at = r.record_offset;
      break;
    }
    cursor = *next;
    list.ranges.push_back(r);
  }
  return list;
}

Result<std::vector<MemoryInfo>> parse_memory_info_list(const ByteReader& stream) {
  // MINIDUMP_MEMORY_INFO_LIST: SizeOfHeader u32, SizeOfEntry u32, NumberOfEntries u64. The
  // two sizes let later versions grow both structures, so only minimums are enforced.
  DG_TRY(std::uint32_t header_size, stream.u32le(0));
  DG_TRY(std::uint32_t entry_size, stream.u32le(4));
  DG_TRY(std::uint64_t count, stream.u64le(8));
  if (header_size < kMemoryInfoHeaderSize || entry_size < kMemoryInfoSize) {
    return stream.error_at(Errc::bad_value, 0,
                           fmt::format("header size {} / entry size {} below the minimum 16 / 48",
                                       header_size, entry_size));
  }
  if (header_size > stream.size() || count > (stream.size() - header_size) / entry_size ||
      stream.size() - header_size != count * entry_size) {
    return stream.error_at(Errc::too_many, 8,
                           fmt::format("count {} of {}-byte entries after a {}-byte header does not "
                                       "fit a stream of {} bytes",
                                       count, entry_size, header_size, stream.size()));
  }
  std::vector<MemoryInfo> infos;
  infos.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = header_size + i * entry_size;
    // MINIDUMP_MEMORY_INFO: BaseAddress, AllocationBase, AllocationProtect u32, pad u32,
    // RegionSize u64 at 24, State at 32, Protect at 36, Type at 40, pad.
    MemoryInfo m;
    DG_TRY(m.base, stream.u64le(at));
    DG_TRY(m.size, stream.u64le(at + 24));
    DG_TRY(m.state, stream.u32le(at + 32));
    DG_TRY(m.protect, stream.u32le(at + 36));
    DG_TRY(m.type, stream.u32le(at + 40));
    infos.push_back(m);
  }
  return infos;
}

Result<ExceptionRecord> parse_exception(const ByteReader& stream) {
  // MINIDUMP_EXCEPTION_STREAM: ThreadId, alignment, MINIDUMP_EXCEPTION (152 bytes),
  // ThreadContext (location) at 160.
  if (stream.size() < kExceptionStreamSize) {
    return stream.error_at(Errc::truncated, 0,
                           fmt::format("exception stream of {} bytes, expected {}", stream.size(),
                                       kExceptionStreamSize));
  }
  ExceptionRecord e;
  e.record_offset = stream.base();
  DG_TRY(e.tid, stream.u32le(0));
  DG_TRY(e.context, read_location(stream, 160));
  return e;
}

Result<std::string> parse_system_info(const ByteReader& stream) {
  if (stream.size() < kSystemInfoSize) {
    return stream.error_at(Errc::truncated, 0,
                           fmt::format("system info stream of {} bytes, expected {}", stream.size(),
                                       kSystemInfoSize));
  }
  // ProcessorArchitecture: PROCESSOR_ARCHITECTURE_* from winnt.h; 0x8001.. are Breakpad's.
  DG_TRY(std::uint16_t arch, stream.u16le(0));
  switch (arch) {
    case 0: return std::string("x86");
    case 1: return std::string("mips");
    case 3: return std::string("ppc");
    case 4: return std::string("sh");
    case 5: return std::string("arm");
    case 6: return std::string("ia64");
    case 9: return std::string("x86_64");
    case 10: return std::string("x86");  // IA32 on Win64 (WoW64)
    case 12: return std::string("aarch64");
    case 0x8001: return std::string("sparc");
    case 0x8002: return std::string("ppc64");
    case 0x8003: return std::string("aarch64");  // Breakpad's pre-standard ARM64 value
    case 0x8004: return std::string("mips64");
    default: return std::string("unknown");
  }
}

namespace {

// Collects ranges of a walk over Crashpad's structures, with a cap so a hostile file
// cannot make one region per four bytes of input a million times over.
class RangeWalk {
 public:
  explicit RangeWalk(const ByteReader& file) : file_(file) {}
  std::vector<ByteRange> ranges;

  bool add(std::uint64_t offset, std::uint64_t size) {
    if (size == 0 || !file_.has(offset, size) || ranges.size() >= kMaxRanges) return false;
    ranges.push_back({offset, size});
    return true;
  }
  // MinidumpUTF8String / MinidumpByteArray: u32 length, bytes (plus a NUL for strings).
  void counted(std::uint32_t rva, std::uint64_t extra) {
    auto length = file_.u32le(rva);
    if (!length) return;
    const std::uint64_t size = 4 + std::uint64_t{*length};
    if (!add(rva, file_.has(rva, size + extra) ? size + extra : size)) return;
  }
  // An array of `count` records of `record` bytes at `loc`, after a u32 count.
  std::optional<std::uint32_t> list(std::uint32_t rva, std::uint64_t record) {
    auto count = file_.u32le(rva);
    if (!count || !file_.has(std::uint64_t{rva} + 4, std::uint64_t{*count} * record)) return std::nullopt;
    if (!add(rva, 4 + std::uint64_t{*count} * record)) return std::nullopt;
    return *count;
  }
  // MinidumpSimpleStringDictionary: count, then {key RVA, value RVA} entries.
  void dictionary(std::uint32_t rva) {
    auto count = list(rva, 8);
    for (std::uint32_t i = 0; count && i < *count && ranges.size() < kMaxRanges; ++i) {
      const std::uint64_t at = std::uint64_t{rva} + 4 + std::uint64_t{i} * 8;
      if (auto key = file_.u32le(at)) counted(*key, 1);
      if (auto value = file_.u32le(at + 4)) counted(*value, 1);
    }
  }
  const ByteReader& file() const { return file_; }

 private:
  static constexpr std::size_t kMaxRanges = 1 << 16;
  const ByteReader& file_;
};

// Parses a hex number at the front of `s`, advancing it. Caps at 16 digits so no value
// can overflow.
std::optional<std::uint64_t> take_hex(std::string_view& s) {
  std::uint64_t value = 0;
  std::size_t n = 0;
  while (n < s.size() && n < 17) {
    const char c = s[n];
    unsigned digit = 0;
    if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
    else break;
    value = (value << 4) | digit;
    ++n;
  }
  if (n == 0 || n > 16) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

std::string_view take_field(std::string_view& s) {
  const auto start = s.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(start);
  const auto end = std::min(s.find(' '), s.size());
  const std::string_view field = s.substr(0, end);
  s.remove_prefix(end);
  return field;
}

}  // namespace

std::vector<ByteRange> crashpad_info_ranges(const ByteReader& file, const ByteReader& stream) {
  // MinidumpCrashpadInfo: version, report_id (16), client_id (16), simple_annotations
  // (location) at 36, module_list (location) at 44.
  RangeWalk walk(file);
  auto simple = stream.u32le(36 + 4);
  auto simple_size = stream.u32le(36);
  if (simple && simple_size && *simple_size != 0) walk.dictionary(*simple);
  auto modules_size = stream.u32le(44);
  auto modules = stream.u32le(44 + 4);
  if (!modules || !modules_size || *modules_size == 0) return std::move(walk.ranges);
  // MinidumpModuleCrashpadInfoList: count, then links {module index u32, location}.
  auto count = walk.list(*modules, 12);
  for (std::uint32_t i = 0; count && i < *count; ++i) {
    const std::uint64_t link = std::uint64_t{*modules} + 4 + std::uint64_t{i} * 12;
    auto size = file.u32le(link + 4);
    auto rva = file.u32le(link + 8);
    if (!size || !rva || !walk.add(*rva, *size)) continue;
    // MinidumpModuleCrashpadInfo: version, list_annotations at 4, simple_annotations at
    // 12, annotation_objects at 20 (each a location).
    auto info = file.sub(*rva, *size);
    if (!info) continue;
    if (auto list_rva = info->u32le(8); list_rva && info->u32le(4).ok() && *info->u32le(4) != 0) {
      // MinidumpRVAList of MinidumpUTF8String.
      auto n = walk.list(*list_rva, 4);
      for (std::uint32_t j = 0; n && j < *n; ++j) {
        if (auto s = file.u32le(std::uint64_t{*list_rva} + 4 + std::uint64_t{j} * 4)) walk.counted(*s, 1);
      }
    }
    if (auto dict = info->u32le(16); dict && info->u32le(12).ok() && *info->u32le(12) != 0) {
      walk.dictionary(*dict);
    }
    if (auto objects = info->u32le(24); objects && info->u32le(20).ok() && *info->u32le(20) != 0) {
      // MinidumpAnnotationList: count, then {name RVA, type u16, reserved u16, value RVA}.
      auto n = walk.list(*objects, 12);
      for (std::uint32_t j = 0; n && j < *n; ++j) {
        const std::uint64_t at = std::uint64_t{*objects} + 4 + std::uint64_t{j} * 12;
        if (auto name = file.u32le(at)) walk.counted(*name, 1);
        if (auto value = file.u32le(at + 8)) walk.counted(*value, 0);
      }
    }
  }
  return std::move(walk.ranges);
}

std::optional<ByteRange> system_info_csd_range(const ByteReader& file, const ByteReader& stream) {
  // CSDVersionRva at 24: a MINIDUMP_STRING (u32 byte length, UTF-16LE, NUL).
  auto rva = stream.u32le(24);
  if (!rva || *rva == 0) return std::nullopt;
  std::uint64_t stored = 0;
  if (!read_string(file, *rva, stored)) return std::nullopt;
  return ByteRange{*rva, stored};
}

std::vector<MapsEntry> parse_linux_maps(const ByteReader& stream) {
  // proc(5): "start-end perms offset dev inode [path]", one mapping per line.
  // A copy as chars (bounded by the stream's size, which lies in the file) rather than a
  // cast of the file bytes.
  std::string copy(stream.size(), '\0');
  std::transform(stream.data().begin(), stream.data().end(), copy.begin(),
                 [](std::byte b) { return static_cast<char>(b); });
  const std::string_view text(copy);
  std::vector<MapsEntry> entries;
  std::size_t pos = 0;
  while (pos < text.size()) {  // each turn consumes at least one byte
    const std::size_t eol = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    MapsEntry e;
    auto start = take_hex(line);
    if (!start || line.empty() || line.front() != '-') continue;
    line.remove_prefix(1);
    auto end = take_hex(line);
    if (!end || *end < *start) continue;
    const std::string_view perms = take_field(line);
    if (perms.size() < 3) continue;
    e.start = *start;
    e.end = *end;
    e.perms = Perms{perms[0] == 'r', perms[1] == 'w', perms[2] == 'x'};
    take_field(line);  // offset
    take_field(line);  // dev
    take_field(line);  // inode
    const auto path_start = line.find_first_not_of(' ');
    if (path_start != std::string_view::npos) e.path = std::string(line.substr(path_start));
    entries.push_back(std::move(e));
  }
  return entries;
}

std::string utf16le_to_utf8(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i]) |
                                      (static_cast<std::uint8_t>(bytes[i + 1]) << 8));
  };
  auto put = [&](std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  const std::size_t n = bytes.size() / 2 * 2;
  for (std::size_t i = 0; i < n; i += 2) {
    const std::uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
      const std::uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        put(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    put(u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u);
  }
  return out;
}

Result<std::string> read_string(const ByteReader& file, std::uint32_t rva, std::uint64_t& stored_size) {
  // MINIDUMP_STRING: Length (bytes, excluding the terminator), then UTF-16LE Buffer.
  DG_TRY(std::uint32_t length, file.u32le(rva));
  DG_TRY(auto text, file.bytes(std::uint64_t{rva} + 4, length));
  stored_size = 4 + std::uint64_t{length};
  // The terminator is counted only when it is there: writers that leave it out put the next
  // record right after the text (seen in real dumps), which must not read as an overlap.
  if (auto nul = file.u16le(std::uint64_t{rva} + 4 + length); nul && *nul == 0) stored_size += 2;
  return utf16le_to_utf8(text);
}

std::optional<std::uint64_t> stack_pointer(const ByteReader& context, std::string_view arch) {
  // Offsets of the stack pointer in each CONTEXT layout:
  //   AMD64 CONTEXT (winnt.h, 1232 bytes): Rsp at 0x98.
  //   x86 CONTEXT (winnt.h, 716 bytes): Esp at 0xC4.
  //   ARM64 (Windows CONTEXT and Breakpad MDRawContextARM64): flags u32, cpsr u32,
  //     x0..x30 u64, then sp at 8 + 31*8.
  //   ARM (Breakpad MDRawContextARM): flags u32, iregs[16] u32, sp = r13 at 4 + 13*4.
  enum class Layout { none, amd64, x86, arm64, arm };
  Layout layout = Layout::none;
  if (arch == "x86_64") layout = Layout::amd64;
  else if (arch == "x86") layout = Layout::x86;
  else if (arch == "aarch64") layout = Layout::arm64;
  else if (arch == "arm") layout = Layout::arm;
  else if (context.size() == 1232) layout = Layout::amd64;
  else if (context.size() == 716) layout = Layout::x86;

  Result<std::uint64_t> sp = Error{Errc::unsupported, 0, ""};
  switch (layout) {
    case Layout::amd64: sp = context.u64le(0x98); break;
    case Layout::x86: sp = context.word_le(0xC4, 4); break;
    case Layout::arm64: sp = context.u64le(8 + 31 * 8); break;
    case Layout::arm: sp = context.word_le(4 + 13 * 4, 4); break;
    case Layout::none: break;
  }
  if (!sp) return std::nullopt;
  return *sp;
}

std::optional<Perms> perms_from_protect(std::uint32_t protect) {
  // winnt.h PAGE_* values; the low byte is the access, higher bits are modifiers
  // (PAGE_GUARD 0x100, PAGE_NOCACHE 0x200, PAGE_WRITECOMBINE 0x400).
  switch (protect & 0xFF) {
    case 0x01: return Perms{false, false, false};  // PAGE_NOACCESS
    case 0x02: return Perms{true, false, false};   // PAGE_READONLY
    case 0x04: return Perms{true, true, false};    // PAGE_READWRITE
    case 0x08: return Perms{true, true, false};    // PAGE_WRITECOPY
    case 0x10: return Perms{false, false, true};   // PAGE_EXECUTE
    case 0x20: return Perms{true, false, true};    // PAGE_EXECUTE_READ
    case 0x40: return Perms{true, true, true};     // PAGE_EXECUTE_READWRITE
    case 0x80: return Perms{true, true, true};     // PAGE_EXECUTE_WRITECOPY
    default: return std::nullopt;                   // 0 (free/reserved) or not one value
  }
}

}  // namespace dumpguard::minidump
