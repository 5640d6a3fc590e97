// ELF core notes (PT_NOTE contents): walking the note entries of a segment, naming them,
// and decoding the few whose contents the model needs (NT_PRSTATUS, NT_FILE, NT_AUXV).
// Layouts follow elf(5), core(5) and the kernel's struct elf_prstatus / elf_prpsinfo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard::elf {

// Machines from elf(5) e_machine.
inline constexpr std::uint16_t EM_386 = 3;
inline constexpr std::uint16_t EM_ARM = 40;
inline constexpr std::uint16_t EM_X86_64 = 62;
inline constexpr std::uint16_t EM_AARCH64 = 183;

// Note types of owner "CORE" (and "LINUX" for register sets), from <elf.h>.
inline constexpr std::uint32_t NT_PRSTATUS = 1;
inline constexpr std::uint32_t NT_FPREGSET = 2;
inline constexpr std::uint32_t NT_PRPSINFO = 3;
inline constexpr std::uint32_t NT_AUXV = 6;
inline constexpr std::uint32_t NT_FILE = 0x46494c45;     // "FILE"
inline constexpr std::uint32_t NT_SIGINFO = 0x53494749;  // "SIGI"
inline constexpr std::uint32_t NT_GDB_TDESC = 0xff000000;  // owner "GDB": target description

// One note entry: where its bytes are in the file, and what it says it is.
struct Note {
  std::uint64_t offset = 0;       // file offset of the note header
  std::uint64_t size = 0;         // header + name + desc, padded, clipped to the segment
  std::string owner;              // the name field without its NUL ("CORE", "LINUX", "GDB")
  std::uint32_t type = 0;
  std::uint64_t desc_offset = 0;  // file offset of the descriptor
  std::uint64_t desc_size = 0;
};

// Walks the notes of one PT_NOTE segment (`segment` spans exactly its bytes in the file).
// `align` is 4 for Linux cores (8 only when p_align says so, as elfutils does). Problems
// become warnings and stop the walk; the notes read so far are kept. At most `max_notes`
// are read (an empty note takes 12 bytes, so a file can hold a million in 12 MB): past that
// the walk stops with a warning, and the rest of the segment is left to the caller's gaps.
std::vector<Note> walk_notes(const ByteReader& segment, std::uint64_t align,
                             std::vector<Warning>& warnings, std::size_t max_notes);

// "NT_PRSTATUS", "NT_X86_XSTATE", "NT_ARM_SVE", ... or "note OWNER/0x..." when unknown.
std::string note_name(std::string_view owner, std::uint32_t type);

// True for notes that describe the whole process (PRPSINFO, AUXV, FILE, gdb's target
// description) rather than the thread whose NT_PRSTATUS precedes them.
bool is_process_note(std::string_view owner, std::uint32_t type);

// Where tid and sp sit in NT_PRSTATUS for a machine and ELF class.
struct PrstatusLayout {
  std::uint64_t pid_offset = 0;  // pr_pid: the thread id (LWP)
  std::optional<std::uint64_t> sp_offset;  // stack pointer in pr_reg, unknown machines: none
  unsigned sp_width = 8;
};
PrstatusLayout prstatus_layout(std::uint16_t machine, bool is64);

struct PrstatusInfo {
  std::uint64_t tid = 0;
  std::optional<std::uint64_t> sp;
};
Result<PrstatusInfo> parse_prstatus(const ByteReader& desc, const PrstatusLayout& layout);

// One entry of NT_FILE: a file-backed mapping [start, end) at page `page_offset` of `path`.
struct FileMapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t page_offset = 0;  // in units of the note's page_size
  std::string path;
};
// NT_FILE (fs/binfmt_elf.c fill_files_note): count, page_size, count x (start, end,
// file_ofs), then count NUL-terminated paths. `word` is 4 or 8 by ELF class.
Result<std::vector<FileMapping>> parse_nt_file(const ByteReader& desc, unsigned word);

// The vDSO's address from NT_AUXV (AT_SYSINFO_EHDR), if present.
std::optional<std::uint64_t> auxv_vdso(const ByteReader& desc, unsigned word);

}  // namespace dumpguard::elf
