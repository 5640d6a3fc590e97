// ELF core notes: the note walk (elf(5) "Notes"), note names from <elf.h>, and the
// decoders for NT_PRSTATUS, NT_FILE and NT_AUXV. Every read goes through ByteReader and
// every loop is bounded by the bytes that hold what it reads.
#include "format/elf_notes.hpp"

#include <fmt/format.h>

namespace dumpguard::elf {

namespace {

// The name of a note is short ("CORE", "LINUX", "GDB"); a longer one is kept only in part,
// so a hostile namesz cannot make a big string.
constexpr std::uint64_t kMaxOwnerLength = 64;

std::uint64_t align_up(std::uint64_t value, std::uint64_t align) {
  // value <= 2^33 here (a u32 plus a 12-byte header), so this cannot overflow.
  return (value + align - 1) / align * align;
}

std::string printable(std::span<const std::byte> raw) {
  std::string out;
  for (std::byte b : raw) {
    const auto c = static_cast<unsigned char>(b);
    if (c == 0) break;
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

}  // namespace

std::vector<Note> walk_notes(const ByteReader& segment, std::uint64_t align,
                             std::vector<Warning>& warnings, std::size_t max_notes) {
  std::vector<Note> notes;
  const std::uint64_t end = segment.size();
  std::uint64_t pos = 0;
  // Each iteration consumes at least the 12-byte header, so the walk ends after at most
  // size/12 notes whatever the fields say.
  while (pos < end) {
    const std::uint64_t abs = segment.base() + pos;
    if (notes.size() >= max_notes) {
      warnings.push_back({abs, fmt::format("notes past the model's limit of regions: the last {} bytes of the "
                                           "PT_NOTE segment are not modelled, and are scanned as unaccounted bytes",
                                           end - pos)});
      break;
    }
    if (!segment.has(pos, 12)) {
      warnings.push_back({abs, fmt::format("note header needs 12 bytes, only {} remain in the "
                                           "PT_NOTE segment",
                                           end - pos)});
      break;
    }
    const std::uint32_t namesz = *segment.u32le(pos);
    const std::uint32_t descsz = *segment.u32le(pos + 4);
    const std::uint32_t type = *segment.u32le(pos + 8);
    const std::uint64_t name_pos = pos + 12;
    const std::uint64_t desc_pos = name_pos + align_up(namesz, align);
    const std::uint64_t next = desc_pos + align_up(descsz, align);
    if (desc_pos > end || descsz > end - desc_pos) {
      warnings.push_back(
          {abs, fmt::format("note (type {:#x}) has namesz {} and descsz {}, but only {} bytes "
                            "remain in the PT_NOTE segment",
                            type, namesz, descsz, end - pos)});
      break;
    }
    Note note;
    note.offset = abs;
    // The last note's padding may be missing: clip to the segment.
    note.size = std::min(next, end) - pos;
    note.owner = printable(*segment.bytes(name_pos, std::min<std::uint64_t>(namesz, kMaxOwnerLength)));
    note.type = type;
    note.desc_offset = segment.base() + desc_pos;
    note.desc_size = descsz;
    notes.push_back(std::move(note));
    pos = next;
  }
  return notes;
}

namespace {

const char* core_note_name(std::uint32_t type) {
  switch (type) {
    case 1: return "NT_PRSTATUS";
    case 2: return "NT_FPREGSET";
    case 3: return "NT_PRPSINFO";
    case 4: return "NT_TASKSTRUCT";
    case 6: return "NT_AUXV";
    case NT_FILE: return "NT_FILE";
    case NT_SIGINFO: return "NT_SIGINFO";
    case 0x46e62b7f: return "NT_PRXFPREG";
    default: return nullptr;
  }
}

// Register sets the kernel writes under owner "LINUX" (include/uapi/linux/elf.h).
const char* linux_note_name(std::uint32_t type) {
  switch (type) {
    case 0x200: return "NT_386_TLS";
    case 0x201: return "NT_386_IOPERM";
    case 0x202: return "NT_X86_XSTATE";
    case 0x204: return "NT_X86_SHSTK";
    case 0x205: return "NT_X86_XSAVE_LAYOUT";
    case 0x400: return "NT_ARM_VFP";
    case 0x401: return "NT_ARM_TLS";
    case 0x402: return "NT_ARM_HW_BREAK";
    case 0x403: return "NT_ARM_HW_WATCH";
    case 0x404: return "NT_ARM_SYSTEM_CALL";
    case 0x405: return "NT_ARM_SVE";
    case 0x406: return "NT_ARM_PAC_MASK";
    case 0x407: return "NT_ARM_PACA_KEYS";
    case 0x408: return "NT_ARM_PACG_KEYS";
    case 0x409: return "NT_ARM_TAGGED_ADDR_CTRL";
    case 0x40a: return "NT_ARM_PAC_ENABLED_KEYS";
    case 0x40b: return "NT_ARM_SSVE";
    case 0x40c: return "NT_ARM_ZA";
    case 0x40d: return "NT_ARM_ZT";
    case 0x40e: return "NT_ARM_FPMR";
    case 0x410: return "NT_ARM_GCS";
    default: return core_note_name(type);  // the kernel also writes NT_PRXFPREG as "LINUX"
  }
}

}  // namespace

std::string note_name(std::string_view owner, std::uint32_t type) {
  const char* known = nullptr;
  if (owner == "CORE") known = core_note_name(type);
  if (owner == "LINUX") known = linux_note_name(type);
  if (owner == "GDB" && type == NT_GDB_TDESC) known = "NT_GDB_TDESC";
  if (known != nullptr) return known;
  return fmt::format("note {}/{:#x}", owner, type);
}

bool is_process_note(std::string_view owner, std::uint32_t type) {
  if (owner == "CORE") {
    return type == NT_PRPSINFO || type == NT_AUXV || type == NT_FILE || type == 4;
  }
  return owner == "GDB";
}

PrstatusLayout prstatus_layout(std::uint16_t machine, bool is64) {
  // struct elf_prstatus: elf_siginfo (12), pr_cursig (2 + 2 padding), pr_sigpend and
  // pr_sighold (longs), then pr_pid, pr_ppid, pr_pgrp, pr_sid (ints), four timevals, pr_reg.
  // 64-bit: pr_pid at 32, pr_reg at 112. 32-bit: pr_pid at 24, pr_reg at 72.
  PrstatusLayout layout;
  layout.pid_offset = is64 ? 32 : 24;
  if (is64 && machine == EM_X86_64) {
    layout.sp_offset = 112 + 19 * 8;  // user_regs_struct: rsp is the 20th register
  } else if (is64 && machine == EM_AARCH64) {
    layout.sp_offset = 112 + 31 * 8;  // user_pt_regs: x0..x30, then sp
  } else if (!is64 && machine == EM_386) {
    layout.sp_offset = 72 + 15 * 4;  // user_regs_struct (i386): esp is the 16th register
    layout.sp_width = 4;
  } else if (!is64 && machine == EM_ARM) {
    layout.sp_offset = 72 + 13 * 4;  // pt_regs uregs[18]: sp is r13
    layout.sp_width = 4;
  }
  return layout;
}

Result<PrstatusInfo> parse_prstatus(const ByteReader& desc, const PrstatusLayout& layout) {
  PrstatusInfo info;
  DG_TRY(auto pid, desc.u32le(layout.pid_offset));
  info.tid = pid;
  if (layout.sp_offset) {
    DG_TRY(auto sp, desc.word_le(*layout.sp_offset, layout.sp_width));
    info.sp = sp;
  }
  return info;
}

Result<std::vector<FileMapping>> parse_nt_file(const ByteReader& desc, unsigned word) {
  DG_TRY(auto count, desc.word_le(0, word));
  // Check that count triples fit in the descriptor before anything is allocated.
  const std::uint64_t header = 2ull * word;
  const std::uint64_t room = desc.size() >= header ? desc.size() - header : 0;
  const std::uint64_t entry = 3ull * word;
  if (count > room / entry) {
    return desc.error_at(Errc::too_many, 0,
                         fmt::format("NT_FILE count {} needs {} bytes per entry, but only {} "
                                     "bytes follow",
                                     count, entry, room));
  }
  const std::uint64_t names_pos = header + count * entry;
  // Every path takes at least its NUL, so count cannot exceed the bytes left for names.
  if (count > desc.size() - names_pos) {
    return desc.error_at(Errc::too_many, names_pos,
                         fmt::format("NT_FILE count {} exceeds the {} bytes left for paths",
                                     count, desc.size() - names_pos));
  }
  std::vector<FileMapping> mappings;
  mappings.reserve(count);
  std::uint64_t name = names_pos;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = header + i * entry;
    FileMapping m;
    DG_TRY(m.start, desc.word_le(at, word));
    DG_TRY(m.end, desc.word_le(at + word, word));
    DG_TRY(m.page_offset, desc.word_le(at + 2ull * word, word));
    DG_TRY(m.path, desc.cstring(name, desc.size() - name));
    name += m.path.size() + 1;
    if (m.end < m.start) {
      return desc.error_at(Errc::bad_value, at,
                           fmt::format("NT_FILE entry {} ends ({:#x}) before it starts ({:#x})",
                                       i, m.end, m.start));
    }
    mappings.push_back(std::move(m));
  }
  return mappings;
}

std::optional<std::uint64_t> auxv_vdso(const ByteReader& desc, unsigned word) {
  constexpr std::uint64_t AT_NULL = 0;
  constexpr std::uint64_t AT_SYSINFO_EHDR = 33;
  // Pairs of words (a_type, a_val); the loop ends with the bytes.
  for (std::uint64_t at = 0; desc.has(at, 2ull * word); at += 2ull * word) {
    const std::uint64_t type = *desc.word_le(at, word);
    if (type == AT_NULL) break;
    if (type == AT_SYSINFO_EHDR) return *desc.word_le(at + word, word);
  }
  return std::nullopt;
}

}  // namespace dumpguard::elf
