// ELF core reader: from the bytes of a Linux core (kernel, gdb's gcore) to a DumpModel.
// Header and program header table are fatal when broken; segments and notes are modelled
// as far as they are sound, with a warning for each problem; what is not modelled stays
// unaccounted and is still searched as raw bytes.
#include "format/elf_core.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "format/region_cap.hpp"
#include "format/elf_notes.hpp"
#include "format/environment.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard {

namespace {

using namespace elf;

// elf(5) constants.
constexpr std::uint8_t ELFCLASS32 = 1;
constexpr std::uint8_t ELFCLASS64 = 2;
constexpr std::uint8_t ELFDATA2LSB = 1;
constexpr std::uint8_t ELFDATA2MSB = 2;
constexpr std::uint16_t ET_CORE = 4;
constexpr std::uint32_t PN_XNUM = 0xffff;
constexpr std::uint32_t SHN_XINDEX = 0xffff;
constexpr std::uint32_t PT_LOAD = 1;
constexpr std::uint32_t PT_NOTE = 4;
constexpr std::uint32_t PF_X = 1;
constexpr std::uint32_t PF_W = 2;
constexpr std::uint32_t PF_R = 4;

// A hostile file can ask for one warning per program header; past this many, further
// problems are summarised in one line so reports stay readable.
constexpr std::size_t kMaxCoreWarnings = 200;

struct Header {
  bool is64 = true;
  unsigned word = 8;
  std::uint16_t machine = 0;
  std::uint64_t ehsize = 64;
  std::uint64_t phoff = 0;
  std::uint64_t phentsize = 0;
  std::uint64_t phnum = 0;
  std::uint64_t shoff = 0;
  std::uint64_t shentsize = 0;
  std::uint64_t shnum = 0;
  std::uint64_t shstrndx = 0;
  // Section 0, read when the header says PN_XNUM / SHN_XINDEX or e_shnum == 0 (elf(5)).
  std::optional<std::uint64_t> sh0_size;
  std::optional<std::uint32_t> sh0_link;
  std::optional<std::uint32_t> sh0_info;
};

struct Segment {
  std::size_t index = 0;  // position in the program header table
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t align = 0;
};

struct SectionHeader {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
};

std::string arch_name(std::uint16_t machine, bool is64) {
  switch (machine) {
    case EM_X86_64: return is64 ? "x86_64" : "x32";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "x86";
    case EM_ARM: return "arm";
    default: return "unknown";  // dump.hpp: a fixed word, so reports can match on it
  }
}

Result<SectionHeader> read_section_header(const ByteReader& file, const Header& h,
                                          std::uint64_t index) {
  DG_TRY(auto rel, checked_mul(index, h.shentsize, h.shoff));
  DG_TRY(auto at, checked_add(h.shoff, rel, h.shoff));
  SectionHeader s;
  if (h.is64) {
    DG_TRY(s.offset, file.u64le(at + 24));
    DG_TRY(s.size, file.u64le(at + 32));
    DG_TRY(s.link, file.u32le(at + 40));
    DG_TRY(s.info, file.u32le(at + 44));
  } else {
    DG_TRY(s.offset, file.u32le(at + 16));
    DG_TRY(s.size, file.u32le(at + 20));
    DG_TRY(s.link, file.u32le(at + 24));
    DG_TRY(s.info, file.u32le(at + 28));
  }
  return s;
}

// The ELF header (elf(5) "ELF header"). Every problem here is fatal: without it nothing
// else in the file can be located.
Result<Header> read_header(const ByteReader& file) {
  if (!file.has(0, 16)) {
    return file.error_at(Errc::truncated, 0,
                         fmt::format("expected a 16-byte ELF identification, the file has {} "
                                     "bytes",
                                     file.size()));
  }
  const auto ident = *file.bytes(0, 16);
  const std::byte magic[4] = {std::byte{0x7f}, std::byte{'E'}, std::byte{'L'}, std::byte{'F'}};
  if (!std::equal(magic, magic + 4, ident.begin())) {
    return file.error_at(Errc::bad_magic, 0,
                         fmt::format("expected ELF magic 7f 45 4c 46, found {:02x} {:02x} "
                                     "{:02x} {:02x}",
                                     std::to_integer<unsigned>(ident[0]),
                                     std::to_integer<unsigned>(ident[1]),
                                     std::to_integer<unsigned>(ident[2]),
                                     std::to_integer<unsigned>(ident[3])));
  }
  const auto cls = std::to_integer<std::uint8_t>(ident[4]);
  const auto data = std::to_integer<std::uint8_t>(ident[5]);
  if (cls != ELFCLASS32 && cls != ELFCLASS64) {
    return file.error_at(Errc::bad_value, 4,
                         fmt::format("expected EI_CLASS 1 (ELF32) or 2 (ELF64), found {}", cls));
  }
  if (data == ELFDATA2MSB) {
    return file.error_at(Errc::unsupported, 5, "big-endian ELF cores are not supported");
  }
  if (data != ELFDATA2LSB) {
    return file.error_at(Errc::bad_value, 5,
                         fmt::format("expected EI_DATA 1 (little-endian), found {}", data));
  }
  Header h;
  h.is64 = cls == ELFCLASS64;
  h.word = h.is64 ? 8 : 4;
  h.ehsize = h.is64 ? 64 : 52;
  if (!file.has(0, h.ehsize)) {
    return file.error_at(Errc::truncated, 0,
                         fmt::format("expected a {}-byte ELF header, the file has {} bytes",
                                     h.ehsize, file.size()));
  }
  const std::uint16_t type = *file.u16le(16);
  if (type != ET_CORE) {
    return file.error_at(Errc::bad_value, 16,
                         fmt::format("expected e_type 4 (ET_CORE), found {}: not a core file",
                                     type));
  }
  h.machine = *file.u16le(18);
  if (h.is64) {
    h.phoff = *file.u64le(32);
    h.shoff = *file.u64le(40);
    h.phentsize = *file.u16le(54);
    h.phnum = *file.u16le(56);
    h.shentsize = *file.u16le(58);
    h.shnum = *file.u16le(60);
    h.shstrndx = *file.u16le(62);
  } else {
    h.phoff = *file.u32le(28);
    h.shoff = *file.u32le(32);
    h.phentsize = *file.u16le(42);
    h.phnum = *file.u16le(44);
    h.shentsize = *file.u16le(46);
    h.shnum = *file.u16le(48);
    h.shstrndx = *file.u16le(50);
  }
  const std::uint64_t min_shentsize = h.is64 ? 64 : 40;
  // elf(5): when there are 0xffff or more segments, e_phnum is PN_XNUM and the real count
  // is in sh_info of section 0; likewise e_shnum 0 (sh_size) and SHN_XINDEX (sh_link).
  const bool need_sh0 =
      h.phnum == PN_XNUM || (h.shnum == 0 && h.shoff != 0) || h.shstrndx == SHN_XINDEX;
  if (need_sh0) {
    if (h.shoff != 0 && h.shentsize >= min_shentsize) {
      auto sh0 = read_section_header(file, h, 0);
      if (sh0) {
        h.sh0_size = sh0->size;
        h.sh0_link = sh0->link;
        h.sh0_info = sh0->info;
      }
    }
    if (h.phnum == PN_XNUM) {
      if (!h.sh0_info) {
        return file.error_at(Errc::out_of_range, h.is64 ? 40 : 32,
                             fmt::format("e_phnum is PN_XNUM, but section header 0 (at {:#x}, "
                                         "entry size {}) is not in the file",
                                         h.shoff, h.shentsize));
      }
      h.phnum = *h.sh0_info;
    }
    if (h.shnum == 0 && h.sh0_size) h.shnum = *h.sh0_size;
    if (h.shstrndx == SHN_XINDEX && h.sh0_link) h.shstrndx = *h.sh0_link;
  }
  const std::uint64_t min_phentsize = h.is64 ? 56 : 32;
  if (h.phnum > 0 && h.phentsize < min_phentsize) {
    return file.error_at(Errc::bad_value, h.is64 ? 54 : 42,
                         fmt::format("expected e_phentsize >= {}, found {}", min_phentsize,
                                     h.phentsize));
  }
  // The whole program header table must be in the file: without it the segments are
  // unknown, and guessing would misplace every region.
  DG_TRY(auto table_size, checked_mul(h.phnum, h.phentsize, h.is64 ? 56 : 44));
  if (!file.has(h.phoff, table_size)) {
    return file.error_at(Errc::out_of_range, h.phoff,
                         fmt::format("program header table ({} entries of {} bytes at {:#x}) "
                                     "runs past the end of the file ({} bytes)",
                                     h.phnum, h.phentsize, h.phoff, file.size()));
  }
  return h;
}

Segment read_segment(const ByteReader& file, const Header& h, std::size_t index) {
  // The table was checked to fit in the file, so these reads cannot fail.
  const std::uint64_t at = h.phoff + index * h.phentsize;
  Segment s;
  s.index = index;
  s.type = *file.u32le(at);
  if (h.is64) {
    s.flags = *file.u32le(at + 4);
    s.offset = *file.u64le(at + 8);
    s.vaddr = *file.u64le(at + 16);
    s.filesz = *file.u64le(at + 32);
    s.memsz = *file.u64le(at + 40);
    s.align = *file.u64le(at + 48);
  } else {
    s.offset = *file.u32le(at + 4);
    s.vaddr = *file.u32le(at + 8);
    s.filesz = *file.u32le(at + 16);
    s.memsz = *file.u32le(at + 20);
    s.flags = *file.u32le(at + 24);
    s.align = *file.u32le(at + 28);
  }
  return s;
}

// Builds the model; owns the warning cap and the "complete" flag.
class CoreModelBuilder {
 public:
  CoreModelBuilder(const ByteReader& file, const Header& header) : file_(file), h_(header) {
    model_.format = Format::elf_core;
    model_.arch = arch_name(h_.machine, h_.is64);
  }

  DumpModel build(const std::vector<Segment>& segments);

 private:
  // `summary`: a warning that stands for many (a limit, a count of overlaps) is kept even past
  // the cap on warnings, so the reason a dump is incomplete is always shown.
  void warn(std::uint64_t offset, std::string message, bool summary = false);
  void take_warnings(std::vector<Warning>& warnings);
  // False once the model holds kMaxRegions regions (warned once, at `offset`): a file can
  // describe a region in 12 bytes (an empty note), and every region costs every later consumer.
  bool room_for_region(std::uint64_t offset);
  // The new region's index, or none past the limit of regions.
  std::optional<std::size_t> add_metadata(std::uint64_t offset, std::uint64_t size, std::string name,
                           std::optional<std::uint64_t> tid = std::nullopt);
  // The part of [offset, offset + size) that is in the file, warning about the rest.
  std::optional<std::uint64_t> present_size(std::uint64_t offset, std::uint64_t size,
                                            const std::string& what);
  void read_all_notes(const std::vector<Segment>& segments);
  void read_notes(const Segment& segment);
  void read_note(const Note& note, std::optional<std::uint64_t>& current_tid);
  void read_load(const Segment& segment);
  void check_overlaps(const std::vector<Segment>& segments);
  void read_section_table();
  void classify_loads(const std::vector<Segment>& segments);

  const ByteReader& file_;
  const Header& h_;
  DumpModel model_;
  std::size_t suppressed_ = 0;
  RegionCap region_cap_;
  std::vector<FileMapping> files_;
  std::optional<std::uint64_t> vdso_;
  std::span<const std::byte> auxv_;  // NT_AUXV's descriptor: finds the environment block
  std::vector<std::size_t> load_regions_;  // indices of PT_LOAD regions in model_.regions
};

void CoreModelBuilder::warn(std::uint64_t offset, std::string message, bool summary) {
  model_.complete = false;
  if (summary || model_.warnings.size() < kMaxCoreWarnings) {
    model_.warnings.push_back({offset, std::move(message)});
  } else {
    ++suppressed_;
  }
}

void CoreModelBuilder::take_warnings(std::vector<Warning>& warnings) {
  for (auto& w : warnings) warn(w.file_offset, std::move(w.message));
  warnings.clear();
}

bool CoreModelBuilder::room_for_region(std::uint64_t offset) {
  std::string warning;
  if (region_cap_.room(model_.regions.size(), warning)) return true;
  if (!warning.empty()) warn(offset, std::move(warning), /*summary=*/true);
  return false;
}

std::optional<std::size_t> CoreModelBuilder::add_metadata(std::uint64_t offset, std::uint64_t size,
                                                          std::string name,
                                                          std::optional<std::uint64_t> tid) {
  if (!room_for_region(offset)) return std::nullopt;
  model_.regions.push_back(metadata_region(offset, size, std::move(name), tid));
  return model_.regions.size() - 1;
}

std::optional<std::uint64_t> CoreModelBuilder::present_size(std::uint64_t offset,
                                                            std::uint64_t size,
                                                            const std::string& what) {
  const std::uint64_t file_size = file_.size();
  if (offset >= file_size) {
    warn(offset, fmt::format("{} ({} bytes at {:#x}) lies wholly past the end of the file "
                             "({} bytes)",
                             what, size, offset, file_size));
    return std::nullopt;
  }
  if (size > file_size - offset) {
    warn(offset, fmt::format("{} ({} bytes at {:#x}) is truncated: the file ends at {:#x}, "
                             "{} bytes into it",
                             what, size, offset, file_size, file_size - offset));
    return file_size - offset;
  }
  return size;
}

void CoreModelBuilder::read_all_notes(const std::vector<Segment>& segments) {
  // PT_NOTE segments that share file bytes (check_overlaps warns about them) are read once:
  // a table of thousands of headers naming one big NT_FILE note would otherwise parse it
  // thousands of times. In file order, the longer first at one offset, a segment that starts
  // inside one already kept is skipped; the bytes of its tail stay unaccounted and are scanned.
  std::vector<const Segment*> notes;
  for (const Segment& s : segments) {
    if (s.type == PT_NOTE && s.filesz > 0) notes.push_back(&s);
  }
  std::vector<const Segment*> by_offset = notes;
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const Segment* a, const Segment* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->filesz > b->filesz;
  });
  std::vector<std::size_t> repeated;  // program header indices of the skipped segments
  std::uint64_t covered = 0;
  for (const Segment* s : by_offset) {
    if (s->offset < covered) {
      repeated.push_back(s->index);
      continue;
    }
    covered = s->offset + std::min(s->filesz, UINT64_MAX - s->offset);
  }
  std::sort(repeated.begin(), repeated.end());
  for (const Segment* s : notes) {
    if (!std::binary_search(repeated.begin(), repeated.end(), s->index)) read_notes(*s);
  }
}

void CoreModelBuilder::read_notes(const Segment& segment) {
  if (segment.filesz == 0) return;
  const auto what = fmt::format("PT_NOTE segment #{}", segment.index);
  const auto size = present_size(segment.offset, segment.filesz, what);
  if (!size) return;
  const ByteReader bytes = *file_.sub(segment.offset, *size);
  std::vector<Warning> warnings;
  // Linux cores align notes to 4 bytes in ELF64 as well; 8 only if the segment says so
  // (the convention elfutils follows for NT_GNU_PROPERTY_TYPE_0 in executables).
  const std::size_t room = kMaxRegions - std::min(kMaxRegions, model_.regions.size());
  const auto notes = walk_notes(bytes, segment.align == 8 ? 8 : 4, warnings, room);
  take_warnings(warnings);
  // Register notes that follow an NT_PRSTATUS belong to its thread (core(5); the kernel's
  // fill_thread_core_info and gdb's linux_corefile_thread both write them in that order).
  std::optional<std::uint64_t> current_tid;
  for (const Note& note : notes) read_note(note, current_tid);
}

void CoreModelBuilder::read_note(const Note& note, std::optional<std::uint64_t>& current_tid) {
  const ByteReader desc = *file_.sub(note.desc_offset, note.desc_size);
  const std::string name = note_name(note.owner, note.type);
  if (note.owner == "CORE" && note.type == NT_PRSTATUS) {
    auto info = parse_prstatus(desc, prstatus_layout(h_.machine, h_.is64));
    if (!info) {
      warn(note.offset, fmt::format("NT_PRSTATUS ({} bytes) is too short for {}: {}",
                                    note.desc_size, model_.arch, info.error().message));
      current_tid.reset();
      add_metadata(note.offset, note.size, name);
      return;
    }
    current_tid = info->tid;
    const std::optional<std::size_t> index = add_metadata(note.offset, note.size, name, info->tid);
    model_.threads.push_back(Thread{.tid = info->tid,
                                    .sp = info->sp,
                                    .stack_region = std::nullopt,
                                    .context_region = index});
    return;
  }
  const bool process_wide = is_process_note(note.owner, note.type);
  add_metadata(note.offset, note.size, name, process_wide ? std::nullopt : current_tid);
  if (note.owner != "CORE") return;
  if (note.type == NT_FILE) {
    auto mappings = parse_nt_file(desc, h_.word);
    if (!mappings) {
      warn(mappings.error().offset,
           fmt::format("NT_FILE ignored: {}", mappings.error().message));
      return;
    }
    files_.insert(files_.end(), std::make_move_iterator(mappings->begin()),
                  std::make_move_iterator(mappings->end()));
  } else if (note.type == NT_AUXV) {
    vdso_ = auxv_vdso(desc, h_.word);
    auxv_ = desc.data();
  }
}

void CoreModelBuilder::read_load(const Segment& s) {
  if (s.filesz > s.memsz) {
    // elf(5): "p_filesz may not be larger than p_memsz". The bytes are still modelled
    // (they are in the file and must be scanned), but the header is suspect.
    warn(s.offset, fmt::format("PT_LOAD #{} has p_filesz {:#x} larger than p_memsz {:#x}",
                               s.index, s.filesz, s.memsz));
  }
  const std::uint64_t extent = std::max(s.filesz, s.memsz);
  if (extent > 0 && s.vaddr > UINT64_MAX - (extent - 1)) {
    warn(s.offset, fmt::format("PT_LOAD #{} at vaddr {:#x} with size {:#x} wraps around the "
                               "address space",
                               s.index, s.vaddr, extent));
  }
  // p_filesz 0 is normal: the kernel and gcore leave out pages they could not read or that
  // the file they map still holds (coredump_filter), so such a segment has no bytes here.
  if (s.filesz == 0) return;
  const auto size = present_size(s.offset, s.filesz, fmt::format("PT_LOAD #{}", s.index));
  if (!size || !room_for_region(s.offset)) return;
  Region r;
  r.file_offset = s.offset;
  r.size = *size;
  r.vaddr = s.vaddr;
  if (s.memsz > *size) r.memory_size = s.memsz;
  r.perms = Perms{.read = (s.flags & PF_R) != 0,
                  .write = (s.flags & PF_W) != 0,
                  .execute = (s.flags & PF_X) != 0};
  r.kind = RegionKind::anon;  // refined by classify_loads
  model_.regions.push_back(std::move(r));
  load_regions_.push_back(model_.regions.size() - 1);
}

void CoreModelBuilder::check_overlaps(const std::vector<Segment>& segments) {
  // Two segments claiming the same file bytes, or two PT_LOADs claiming the same
  // addresses, never happen in a core the kernel or gdb wrote.
  struct Span {
    std::uint64_t begin, end;
    std::size_t index;
  };
  std::vector<Span> in_file, in_memory;
  for (const Segment& s : segments) {
    if (s.type != PT_LOAD && s.type != PT_NOTE) continue;
    if (s.filesz > 0) {
      const std::uint64_t end = s.offset + std::min(s.filesz, UINT64_MAX - s.offset);
      in_file.push_back({s.offset, end, s.index});
    }
    const std::uint64_t extent = std::max(s.filesz, s.memsz);
    if (s.type == PT_LOAD && extent > 0) {
      const std::uint64_t end = s.vaddr + std::min(extent, UINT64_MAX - s.vaddr);
      in_memory.push_back({s.vaddr, end, s.index});
    }
  }
  auto report = [this](std::vector<Span>& spans, const char* what,
                       const std::vector<Segment>& segs) {
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });
    const Span* widest = nullptr;  // the earlier span reaching furthest
    for (const Span& s : spans) {
      if (widest != nullptr && s.begin < widest->end) {
        warn(segs[s.index].offset,
             fmt::format("segment #{} overlaps segment #{} in {}", s.index, widest->index,
                         what));
      }
      if (widest == nullptr || s.end > widest->end) widest = &s;
    }
  };
  report(in_file, "the file", segments);
  report(in_memory, "memory", segments);
}

void CoreModelBuilder::read_section_table() {
  // gdb's gcore writes section headers ("note0", "load", ".shstrtab"); the kernel does not.
  // Only the table and the name table are metadata; the other sections repeat segments.
  if (h_.shoff == 0 || h_.shnum == 0) return;
  const std::uint64_t min_shentsize = h_.is64 ? 64 : 40;
  if (h_.shentsize < min_shentsize) {
    warn(h_.is64 ? 58 : 46, fmt::format("section headers ignored: e_shentsize {} is less than "
                                         "{}",
                                         h_.shentsize, min_shentsize));
    return;
  }
  auto table = checked_mul(h_.shnum, h_.shentsize, h_.shoff);
  if (!table) {
    warn(h_.shoff, "section header table size overflows");
    return;
  }
  const auto size = present_size(h_.shoff, *table, "section header table");
  if (!size) return;
  add_metadata(h_.shoff, *size, "section headers");
  if (h_.shstrndx == 0 || h_.shstrndx >= h_.shnum) return;
  auto strtab = read_section_header(file_, h_, h_.shstrndx);
  if (!strtab || strtab->size == 0) return;
  const auto str_size = present_size(strtab->offset, strtab->size, "section name table");
  if (!str_size) return;
  add_metadata(strtab->offset, *str_size, "section names");
}

void CoreModelBuilder::classify_loads(const std::vector<Segment>& segments) {
  // NT_FILE mappings sorted by start, for lookups by address.
  std::sort(files_.begin(), files_.end(),
            [](const FileMapping& a, const FileMapping& b) { return a.start < b.start; });
  // The mapping overlapping [begin, end), if any. Mappings of one process do not overlap,
  // so the one with the greatest start below `end` is the candidate; in a hostile file
  // that overlaps them the answer is merely one of several.
  auto mapping_at = [this](std::uint64_t begin, std::uint64_t end) -> const FileMapping* {
    auto it = std::lower_bound(files_.begin(), files_.end(), end,
                               [](const FileMapping& m, std::uint64_t v) { return m.start < v; });
    if (it == files_.begin()) return nullptr;
    --it;
    return it->end > begin ? &*it : nullptr;
  };
  auto extent_end = [](const Region& r) {
    const std::uint64_t extent = std::max(r.size, r.memory_size.value_or(0));
    return *r.vaddr + std::min(extent, UINT64_MAX - *r.vaddr);
  };

  // A path is a loaded image (kind module) if it has an executable mapping. The kernel
  // writes a PT_LOAD with p_flags for every mapping, even when it dumps no bytes; gdb
  // leaves unmodified text out altogether, but both dump the first page of a mapped ELF
  // file (coredump_filter bit 4; gdb does the same), so "\x7fELF" at the mapping of file
  // offset 0 marks an image too.
  std::map<std::string, bool> image;
  for (const FileMapping& m : files_) image.emplace(m.path, false);
  for (const Segment& s : segments) {
    if (s.type != PT_LOAD || (s.flags & PF_X) == 0) continue;
    const std::uint64_t extent = std::max(s.filesz, s.memsz);
    if (extent == 0) continue;
    if (const FileMapping* m = mapping_at(s.vaddr, s.vaddr + std::min(extent, UINT64_MAX - s.vaddr))) {
      image[m->path] = true;
    }
  }
  // PT_LOAD regions sorted by vaddr, to find the one holding an address.
  std::vector<std::size_t> by_vaddr = load_regions_;
  std::sort(by_vaddr.begin(), by_vaddr.end(), [this](std::size_t a, std::size_t b) {
    return *model_.regions[a].vaddr < *model_.regions[b].vaddr;
  });
  auto region_at = [&](std::uint64_t addr) -> std::optional<std::size_t> {
    auto it = std::upper_bound(by_vaddr.begin(), by_vaddr.end(), addr,
                               [this](std::uint64_t v, std::size_t i) {
                                 return v < *model_.regions[i].vaddr;
                               });
    if (it == by_vaddr.begin()) return std::nullopt;
    --it;
    const Region& r = model_.regions[*it];
    if (addr < extent_end(r)) return *it;
    return std::nullopt;
  };
  for (const FileMapping& m : files_) {
    if (m.page_offset != 0 || image[m.path]) continue;
    const auto index = region_at(m.start);
    if (!index) continue;
    const Region& r = model_.regions[*index];
    const std::uint64_t into = m.start - *r.vaddr;
    if (into > r.size || r.size - into < 4) continue;
    const auto head = *file_.bytes(r.file_offset + into, 4);
    if (head[0] == std::byte{0x7f} && head[1] == std::byte{'E'} && head[2] == std::byte{'L'} &&
        head[3] == std::byte{'F'}) {
      image[m.path] = true;
    }
  }

  for (std::size_t index : load_regions_) {
    Region& r = model_.regions[index];
    if (const FileMapping* m = mapping_at(*r.vaddr, extent_end(r))) {
      r.kind = image[m->path] ? RegionKind::module : RegionKind::file_mapping;
      r.owner.path = m->path;
    } else {
      r.kind = r.perms && r.perms->write ? RegionKind::heap : RegionKind::anon;
      if (vdso_ && *r.vaddr == *vdso_) r.owner.name = "[vdso]";
    }
  }
  // A region holding a thread's stack pointer is that thread's stack (and heap is anonymous
  // writable memory that is no thread's stack).
  for (Thread& t : model_.threads) {
    if (!t.sp) continue;
    const auto index = region_at(*t.sp);
    if (!index) continue;
    t.stack_region = *index;
    Region& r = model_.regions[*index];
    if (r.kind != RegionKind::stack) {
      r.kind = RegionKind::stack;
      r.owner.tid = t.tid;
    }
  }

  // Modules: one per image path, spanning all of its mappings.
  std::map<std::string, Module> modules;
  for (const FileMapping& m : files_) {
    if (!image[m.path]) continue;
    auto [it, inserted] = modules.try_emplace(m.path, Module{m.path, m.start, m.end - m.start});
    if (!inserted) {
      const std::uint64_t end = std::max(it->second.base + it->second.size, m.end);
      it->second.base = std::min(it->second.base, m.start);
      it->second.size = end - it->second.base;
    }
  }
  for (auto& [path, module] : modules) model_.modules.push_back(std::move(module));
  std::sort(model_.modules.begin(), model_.modules.end(),
            [](const Module& a, const Module& b) { return a.base < b.base; });
}

DumpModel CoreModelBuilder::build(const std::vector<Segment>& segments) {
  add_metadata(0, h_.ehsize, "ELF header");
  if (h_.phnum > 0) add_metadata(h_.phoff, h_.phnum * h_.phentsize, "program headers");
  read_all_notes(segments);
  for (const Segment& s : segments) {
    if (s.type == PT_LOAD) read_load(s);
  }
  check_overlaps(segments);
  read_section_table();
  classify_loads(segments);
  if (suppressed_ > 0) {
    model_.warnings.push_back({0, fmt::format("{} further warnings not shown", suppressed_)});
  }
  if (auto env = linux_initial_environment(model_, file_.data(), auxv_, h_.word)) {
    model_.environment.push_back(std::move(*env));
  }
  account_gaps(model_, file_.size());
  return std::move(model_);
}

}  // namespace

Result<DumpModel> read_elf_core(std::span<const std::byte> bytes) {
  const ByteReader file(bytes);
  DG_TRY(const Header header, read_header(file));
  // phnum * phentsize fits in the file (checked), so the vector is bounded by its size.
  std::vector<Segment> segments;
  segments.reserve(header.phnum);
  for (std::size_t i = 0; i < header.phnum; ++i) segments.push_back(read_segment(file, header, i));
  CoreModelBuilder builder(file, header);
  return builder.build(segments);
}

}  // namespace dumpguard
