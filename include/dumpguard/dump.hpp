// The dump model: what every detector and the redactor consume, whatever the file format.
// A reader turns a file's bytes into a DumpModel once; afterwards it is immutable. Regions
// describe bytes of the file by offset and size, never by copy, so a 100 GB dump costs
// only its mapping. Nothing here knows ELF or minidump; format details stay in the readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dumpguard {

class MappedFile;

enum class Format { elf_core, minidump, raw };

// What a region of memory is. "heap" is writable anonymous memory that is no thread's stack
// (what `redact --drop heap` fills and a stack-only dump leaves out).
enum class RegionKind {
  stack,         // a thread's stack
  module,        // a loaded executable image (code, data, relro of an ELF/PE file)
  file_mapping,  // a file mapped into memory that is not a loaded image
  heap,          // writable anonymous memory that is no thread's stack
  anon,          // other anonymous memory (read-only or no-access, vdso, ...)
  metadata,      // the format's own structures: headers, directories, notes, registers
  unknown,       // memory whose nature the format does not say (raw images, bare minidumps)
};

// Who a region belongs to. Which fields are set depends on the kind:
// stack -> tid; module and file_mapping -> path; metadata -> name (and tid for registers).
struct Owner {
  std::optional<std::uint64_t> tid;
  std::string path;
  std::string name;
};

struct Perms {
  bool read = false;
  bool write = false;
  bool execute = false;
};

struct Region {
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;                    // bytes present in the file
  std::optional<std::uint64_t> vaddr;        // null for metadata
  std::optional<std::uint64_t> memory_size;  // set when the mapping is larger than its file bytes
  std::optional<Perms> perms;                // null where the format has none
  RegionKind kind = RegionKind::unknown;
  Owner owner;
};

// A region of the format's own bytes (a header, a directory, a note, register state).
inline Region metadata_region(std::uint64_t file_offset, std::uint64_t size, std::string name,
                              std::optional<std::uint64_t> tid = std::nullopt) {
  Region r;
  r.file_offset = file_offset;
  r.size = size;
  r.kind = RegionKind::metadata;
  r.owner.name = std::move(name);
  r.owner.tid = tid;
  return r;
}

struct Thread {
  std::uint64_t tid = 0;
  std::optional<std::uint64_t> sp;
  std::optional<std::size_t> stack_region;    // index into regions
  std::optional<std::size_t> context_region;  // index of the register-state region
};

struct Module {
  std::string path;
  std::uint64_t base = 0;
  std::uint64_t size = 0;
};

struct ByteRange {
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;
};

struct Warning {
  std::uint64_t file_offset = 0;
  std::string message;
};

// A process's environment block: "NAME=VALUE" strings, each NUL-terminated, in one run of the
// file. Text detectors name the variable a secret sits in; `redact --drop env` removes them.
struct EnvironmentBlock {
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;
  std::optional<std::uint64_t> vaddr;  // null when the block is a stream of the format
  std::string encoding;                // "ascii" (Linux); "utf16le" (Windows)
  std::string source;                  // how it was found, in words
  std::size_t variables = 0;
};

// What a reader produces from a file's bytes.
struct DumpModel {
  Format format = Format::raw;
  std::string arch;  // "x86_64", "aarch64", "x86", "arm", ... or "unknown"
  std::vector<Region> regions;
  std::vector<Thread> threads;
  std::vector<Module> modules;
  std::vector<ByteRange> unaccounted;  // bytes no region claims; scanned all the same
  std::vector<EnvironmentBlock> environment;
  std::vector<Warning> warnings;       // problems in a partly sound dump
  bool complete = true;                // false when any part could not be parsed
};

// Compute `unaccounted` as the gaps of [0, file_size) that no region covers.
// Readers call this last; it does not change the regions.
void account_gaps(DumpModel& model, std::uint64_t file_size);

// The most regions a reader models from one file. Every later consumer pays per region (the
// scan about 1.5 KiB, `info --json` about 1.3 KiB), and a hostile file can describe one region
// in 12 or 16 bytes, so without a bound a 16 MB file would cost gigabytes. Real dumps stay far
// below it: full-memory minidumps have tens of thousands of ranges, cores one region per
// mapping (the kernel's default limit is 65530 mappings) plus a few notes per thread. A reader
// that reaches it stops adding regions with a warning (the dump is then incomplete); the bytes
// it did not model are unaccounted, so they are still scanned as raw bytes.
inline constexpr std::size_t kMaxRegions = std::size_t{1} << 17;

// Overlaps in the file that involve a memory region (one with a vaddr): a memory range whose
// bytes another region also claims. No real writer makes them; a hostile minidump can point
// every descriptor at one block. Metadata regions alone may share bytes in real dumps
// (Breakpad points the exception stream and the thread at one context), so those are not
// counted. `count` regions start inside such an overlap; `first_offset` is where the first
// does. Readers warn about them; the scanner searches shared bytes once (src/scan/scan.cpp).
struct RegionOverlaps {
  std::size_t count = 0;
  std::uint64_t first_offset = 0;
};
RegionOverlaps overlapping_regions(const DumpModel& model, std::uint64_t file_size);

// Which file a path named when it was read, to tell later whether the path still names the
// same file with the same content (redact --in-place replaces it only then).
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t links = 0;  // hard links; not part of the identity
  bool regular = false;     // a regular file (not a symlink, device, FIFO, ...)
  bool same_file_and_content(const FileIdentity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
};

// Where the bytes came from, for reports.
struct Source {
  std::string path;                 // as the user named it ("-" for standard input)
  std::string compression;          // "", "zstd", "lz4" or "xz"
  std::uint64_t stored_size = 0;    // size of the file as given
  std::optional<FileIdentity> identity;  // of the file as given (compressed or not); none for stdin
};

// An opened dump: the mapped bytes (decompressed if need be) and the model over them.
struct Dump {
  Source source;
  std::shared_ptr<const MappedFile> file;
  DumpModel model;

  std::span<const std::byte> bytes() const;
  std::span<const std::byte> bytes_of(const Region& region) const;
};

const char* to_string(Format format);
const char* to_string(RegionKind kind);
std::string to_string(const Perms& perms);  // "rwx", "r-x", ...

}  // namespace dumpguard
