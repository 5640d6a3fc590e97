// Minidump stream parsers: one function per stream type, each reading the stream's bytes
// (a ByteReader whose base is the stream's file offset) into plain records, or an Error.
// Layouts follow Microsoft's minidumpapiset.h plus the Breakpad and Crashpad extensions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard::minidump {

// MINIDUMP_STREAM_TYPE values this reader interprets (minidumpapiset.h, Breakpad's
// minidump_format.h, Crashpad's minidump_extensions.h).
enum StreamType : std::uint32_t {
  kUnused = 0,
  kThreadList = 3,
  kModuleList = 4,
  kMemoryList = 5,
  kException = 6,
  kSystemInfo = 7,
  kThreadExList = 8,
  kMemory64List = 9,
  kMemoryInfoList = 16,
  kLinuxMaps = 0x47670009,
  kCrashpadInfo = 0x43500001,
};

// MINIDUMP_LOCATION_DESCRIPTOR: {DataSize, Rva}, 8 bytes.
struct Location {
  std::uint32_t size = 0;
  std::uint32_t rva = 0;
};

// MINIDUMP_MEMORY_DESCRIPTOR: {StartOfMemoryRange, Memory}, 16 bytes.
struct MemoryDescriptor {
  std::uint64_t start = 0;
  Location data;
  std::uint64_t record_offset = 0;  // file offset of the descriptor, for warnings
};

struct ThreadRecord {
  std::uint32_t tid = 0;
  std::uint64_t teb = 0;  // the thread environment block's address (Windows)
  MemoryDescriptor stack;
  Location context;
  std::optional<MemoryDescriptor> backing_store;  // MINIDUMP_THREAD_EX only (IA-64 RSE)
  std::uint64_t record_offset = 0;
};

struct ModuleRecord {
  std::uint64_t base = 0;
  std::uint32_t size = 0;
  std::uint32_t name_rva = 0;
  Location cv_record;
  Location misc_record;
  std::uint64_t record_offset = 0;
};

// One MINIDUMP_MEMORY_DESCRIPTOR64, with its data's file offset already computed from
// BaseRva plus the sizes of the ranges before it.
struct Memory64Range {
  std::uint64_t start = 0;
  std::uint64_t size = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t record_offset = 0;
};

struct Memory64List {
  std::vector<Memory64Range> ranges;
  // Set when the running data offset overflowed 64 bits: ranges from here on are dropped.
  std::optional<std::uint64_t> overflow_at;
};

// MINIDUMP_MEMORY_INFO, the fields that say what a range of address space is.
struct MemoryInfo {
  std::uint64_t base = 0;
  std::uint64_t size = 0;
  std::uint32_t state = 0;
  std::uint32_t protect = 0;
  std::uint32_t type = 0;
};

// MINIDUMP_EXCEPTION_STREAM: the faulting thread and its context at the exception.
struct ExceptionRecord {
  std::uint32_t tid = 0;
  Location context;
  std::uint64_t record_offset = 0;
};

// One line of /proc/PID/maps as Breakpad stores it in the LinuxMaps stream.
struct MapsEntry {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  Perms perms;
  std::string path;  // empty for anonymous mappings; "[stack]", "[heap]", ... for special ones
};

// A name for the stream's metadata region: "thread-list", "linux-environ", "stream 0x4d7a0001".
std::string stream_name(std::uint32_t type);

Result<std::vector<ThreadRecord>> parse_thread_list(const ByteReader& stream, bool extended);
Result<std::vector<ModuleRecord>> parse_module_list(const ByteReader& stream);
Result<std::vector<MemoryDescriptor>> parse_memory_list(const ByteReader& stream);
Result<Memory64List> parse_memory64_list(const ByteReader& stream);
Result<std::vector<MemoryInfo>> parse_memory_info_list(const ByteReader& stream);
Result<ExceptionRecord> parse_exception(const ByteReader& stream);
// The architecture name ("x86_64", "aarch64", ...) from MINIDUMP_SYSTEM_INFO.
Result<std::string> parse_system_info(const ByteReader& stream);
// The file ranges the Crashpad info stream points to: its annotation dictionaries, module
// info records and their strings (Crashpad's minidump_extensions.h). Lenient: a link that
// leads outside the file is skipped, since its bytes are scanned as unaccounted anyway.
std::vector<ByteRange> crashpad_info_ranges(const ByteReader& file, const ByteReader& stream);
// The CSDVersion string's range (MINIDUMP_SYSTEM_INFO.CSDVersionRva), if in the file.
std::optional<ByteRange> system_info_csd_range(const ByteReader& file, const ByteReader& stream);
// Lenient: malformed lines are skipped, since the stream is only a hint for perms and paths.
std::vector<MapsEntry> parse_linux_maps(const ByteReader& stream);

// MINIDUMP_STRING at `rva` of the whole file: u32 byte length, UTF-16LE text. Returns the
// text as UTF-8 and, in `stored_size`, the bytes it occupies (length field, text, and the
// NUL terminator when the file holds one).
Result<std::string> read_string(const ByteReader& file, std::uint32_t rva, std::uint64_t& stored_size);

// The stack pointer from a thread context, chosen by arch ("x86_64", "x86", "aarch64",
// "arm") or, when the arch is unknown, by the context's size.
std::optional<std::uint64_t> stack_pointer(const ByteReader& context, std::string_view arch);

// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(std::span<const std::byte> bytes);

// Perms from a Windows PAGE_* protection value (winnt.h memory protection constants).
std::optional<Perms> perms_from_protect(std::uint32_t protect);

}  // namespace dumpguard::minidump
