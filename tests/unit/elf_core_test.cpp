// Unit tests of the ELF core reader on cores written byte by byte by elf_core_builder.hpp:
// threads, stacks, NT_FILE kinds and modules for x86_64, aarch64, i386 and arm, and the
// hostile-input rules (fatal header errors, clipped segments, lying counts and sizes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fixtures/elf_core_builder.hpp"
#include "format/elf_core.hpp"

namespace dumpguard {
namespace {

using testing::Bytes;
using testing::BuiltCore;
using testing::ElfCoreBuilder;
using testing::filled;
using testing::kPfR;
using testing::kPfW;
using testing::kPfX;

constexpr std::uint32_t kNtPrstatus = 1, kNtFpregset = 2, kNtPrpsinfo = 3, kNtAuxv = 6;
constexpr std::uint32_t kNtFile = 0x46494c45, kNtSiginfo = 0x53494749;

Result<DumpModel> read(const Bytes& bytes) { return read_elf_core(std::span<const std::byte>(bytes)); }

const Region* find_named(const DumpModel& m, const std::string& name, std::size_t nth = 0) {
  for (const Region& r : m.regions) {
    if (r.owner.name == name && nth-- == 0) return &r;
  }
  return nullptr;
}

const Region* find_vaddr(const DumpModel& m, std::uint64_t vaddr) {
  for (const Region& r : m.regions) {
    if (r.vaddr && *r.vaddr == vaddr) return &r;
  }
  return nullptr;
}

// Invariants of every successful read: regions and gaps stay inside the file, and
// regions plus unaccounted cover every byte.
void expect_sound(const DumpModel& m, std::uint64_t file_size) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  for (const Region& r : m.regions) {
    EXPECT_LE(r.file_offset, file_size);
    EXPECT_LE(r.size, file_size - std::min(r.file_offset, file_size));
    spans.emplace_back(r.file_offset, r.file_offset + r.size);
  }
  for (const ByteRange& g : m.unaccounted) spans.emplace_back(g.file_offset, g.file_offset + g.size);
  std::sort(spans.begin(), spans.end());
  std::uint64_t covered = 0;
  for (auto [b, e] : spans) {
    EXPECT_LE(b, covered) << "a byte at " << covered << " is in no region and not unaccounted";
    covered = std::max(covered, e);
  }
  EXPECT_EQ(covered, file_size);
  for (const Thread& t : m.threads) {
    if (t.stack_region) {
      EXPECT_LT(*t.stack_region, m.regions.size());
    }
    if (t.context_region) {
      EXPECT_LT(*t.context_region, m.regions.size());
    }
  }
  EXPECT_EQ(m.complete, m.warnings.empty());
}

// A process like the ones gcore and the kernel dump: an executable whose text the core
// leaves out (kernel style: PT_LOAD with p_filesz 0), a library whose text is not in the
// core at all (gdb style) but whose ELF header page is, a mapped data file, heap, two
// thread stacks and the vDSO.
struct X86Fixture {
  static constexpr std::uint64_t kExe = 0x555555554000;
  static constexpr std::uint64_t kLib = 0x7f0000000000;
  static constexpr std::uint64_t kData = 0x7f1000000000;
  static constexpr std::uint64_t kHeap = 0x555555800000;
  static constexpr std::uint64_t kRoAnon = 0x7f2000000000;
  static constexpr std::uint64_t kStack1 = 0x7ffd00000000;
  static constexpr std::uint64_t kStack2 = 0x7f3000000000;
  static constexpr std::uint64_t kVdso = 0x7ffe00001000;
  static constexpr std::uint64_t kSp1 = kStack1 + 0x180;
  static constexpr std::uint64_t kSp2 = kStack2 + 0x100;

  static BuiltCore make(ElfCoreBuilder& b) {
    b.note("CORE", kNtPrpsinfo, b.prpsinfo("prog"))
        .note("CORE", kNtPrstatus, b.prstatus(1001, kSp1))
        .note("CORE", kNtFpregset, filled(512, 1))
        .note("LINUX", 0x202, filled(832, 2))  // NT_X86_XSTATE
        .note("CORE", kNtSiginfo, filled(128, 3))
        .note("CORE", kNtAuxv, b.auxv({{6, 4096}, {33, kVdso}}))
        .note("CORE", kNtFile,
              b.nt_file({{kExe, kExe + 0x1000, 0, "/usr/bin/prog"},
                         {kExe + 0x1000, kExe + 0x3000, 1, "/usr/bin/prog"},
                         {kExe + 0x3000, kExe + 0x4000, 3, "/usr/bin/prog"},
                         {kLib, kLib + 0x1000, 0, "/usr/lib/libfoo.so.1"},
                         {kLib + 0x1000, kLib + 0x5000, 1, "/usr/lib/libfoo.so.1"},
                         {kData, kData + 0x1000, 0, "/srv/data.bin"}}))
        .note("GDB", 0xff000000, filled(40, 4))  // gdb's target description
        .note("CORE", kNtPrstatus, b.prstatus(1002, kSp2))
        .note("CORE", kNtFpregset, filled(512, 5))
        .note("LINUX", 0x202, filled(832, 6));
    b.load(kExe, kPfR, testing::elf_image_page(0x100), 0x1000)
        .load(kExe + 0x1000, kPfR | kPfX, {}, 0x2000)  // text left out, p_filesz 0
        .load(kExe + 0x3000, kPfR | kPfW, filled(0x80, 7), 0x1000)
        .load(kLib, kPfR, testing::elf_image_page(0x100), 0x1000)
        .load(kData, kPfR, filled(0x40, 8), 0x1000)
        .load(kHeap, kPfR | kPfW, filled(0x200, 9))
        .load(kRoAnon, kPfR, filled(0x40, 10))
        .load(kStack1, kPfR | kPfW, filled(0x200, 11))
        .load(kStack2, kPfR | kPfW, filled(0x200, 12))
        .load(kVdso, kPfR | kPfX, filled(0x100, 13));
    return b.build();
  }
};

TEST(ElfCore, X86_64ThreadsFileMappingsAndKinds) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  const BuiltCore core = X86Fixture::make(b);
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  const DumpModel& m = *result;
  EXPECT_EQ(m.format, Format::elf_core);
  EXPECT_EQ(m.arch, "x86_64");
  EXPECT_TRUE(m.complete);
  EXPECT_TRUE(m.warnings.empty()) << m.warnings.front().message;
  expect_sound(m, core.bytes.size());

  ASSERT_EQ(m.threads.size(), 2u);
  EXPECT_EQ(m.threads[0].tid, 1001u);
  EXPECT_EQ(m.threads[0].sp, X86Fixture::kSp1);
  EXPECT_EQ(m.threads[1].tid, 1002u);
  EXPECT_EQ(m.threads[1].sp, X86Fixture::kSp2);
  for (const Thread& t : m.threads) {
    ASSERT_TRUE(t.stack_region);
    const Region& stack = m.regions[*t.stack_region];
    EXPECT_EQ(stack.kind, RegionKind::stack);
    EXPECT_EQ(stack.owner.tid, t.tid);
    EXPECT_GE(*t.sp, *stack.vaddr);
    EXPECT_LT(*t.sp, *stack.vaddr + stack.size);
    ASSERT_TRUE(t.context_region);
    const Region& ctx = m.regions[*t.context_region];
    EXPECT_EQ(ctx.owner.name, "NT_PRSTATUS");
    EXPECT_EQ(ctx.owner.tid, t.tid);
    EXPECT_EQ(ctx.kind, RegionKind::metadata);
    EXPECT_FALSE(ctx.vaddr);
  }
  EXPECT_EQ(*m.regions[*m.threads[0].stack_region].vaddr, X86Fixture::kStack1);
  EXPECT_EQ(*m.regions[*m.threads[1].stack_region].vaddr, X86Fixture::kStack2);

  // Every note is a metadata region covering its header, name and descriptor.
  ASSERT_EQ(core.note_offsets.size(), 11u);
  const char* names[] = {"NT_PRPSINFO", "NT_PRSTATUS", "NT_FPREGSET", "NT_X86_XSTATE",
                         "NT_SIGINFO",  "NT_AUXV",     "NT_FILE",     "NT_GDB_TDESC",
                         "NT_PRSTATUS", "NT_FPREGSET", "NT_X86_XSTATE"};
  const std::optional<std::uint64_t> tids[] = {std::nullopt, 1001, 1001, 1001, 1001,
                                               std::nullopt, std::nullopt, std::nullopt,
                                               1002, 1002, 1002};
  for (std::size_t i = 0; i < 11; ++i) {
    const auto it = std::find_if(m.regions.begin(), m.regions.end(), [&](const Region& r) {
      return r.file_offset == core.note_offsets[i] && r.kind == RegionKind::metadata;
    });
    ASSERT_NE(it, m.regions.end()) << "note " << i;
    EXPECT_EQ(it->owner.name, names[i]);
    EXPECT_EQ(it->owner.tid, tids[i]) << names[i];
    const std::uint64_t next = i + 1 < 11 ? core.note_offsets[i + 1] : core.load_offsets[0];
    EXPECT_LE(it->file_offset + it->size, next);
  }
  EXPECT_EQ(find_named(m, "NT_FPREGSET")->size, 12u + 8u + 512u);

  // Loads: offsets, sizes, memory sizes, permissions, kinds, owners.
  const Region* exe_head = find_vaddr(m, X86Fixture::kExe);
  ASSERT_NE(exe_head, nullptr);
  EXPECT_EQ(exe_head->file_offset, core.load_offsets[0]);
  EXPECT_EQ(exe_head->size, 0x100u);
  EXPECT_EQ(exe_head->memory_size, 0x1000u);
  EXPECT_EQ(to_string(*exe_head->perms), "r--");
  EXPECT_EQ(exe_head->kind, RegionKind::module);
  EXPECT_EQ(exe_head->owner.path, "/usr/bin/prog");
  EXPECT_EQ(find_vaddr(m, X86Fixture::kExe + 0x1000), nullptr) << "p_filesz 0 gives no region";
  const Region* exe_data = find_vaddr(m, X86Fixture::kExe + 0x3000);
  ASSERT_NE(exe_data, nullptr);
  EXPECT_EQ(exe_data->kind, RegionKind::module);
  EXPECT_EQ(to_string(*exe_data->perms), "rw-");
  EXPECT_EQ(find_vaddr(m, X86Fixture::kLib)->kind, RegionKind::module);
  EXPECT_EQ(find_vaddr(m, X86Fixture::kLib)->owner.path, "/usr/lib/libfoo.so.1");
  EXPECT_EQ(find_vaddr(m, X86Fixture::kData)->kind, RegionKind::file_mapping);
  EXPECT_EQ(find_vaddr(m, X86Fixture::kData)->owner.path, "/srv/data.bin");
  const Region* heap = find_vaddr(m, X86Fixture::kHeap);
  EXPECT_EQ(heap->kind, RegionKind::heap);
  EXPECT_FALSE(heap->memory_size) << "memory_size only when larger than the file bytes";
  EXPECT_EQ(heap->file_offset, core.load_offsets[5]);
  EXPECT_EQ(find_vaddr(m, X86Fixture::kRoAnon)->kind, RegionKind::anon);
  EXPECT_EQ(find_vaddr(m, X86Fixture::kVdso)->kind, RegionKind::anon);
  EXPECT_EQ(find_vaddr(m, X86Fixture::kVdso)->owner.name, "[vdso]");
  EXPECT_EQ(to_string(*find_vaddr(m, X86Fixture::kVdso)->perms), "r-x");

  ASSERT_EQ(m.modules.size(), 2u);
  EXPECT_EQ(m.modules[0].path, "/usr/bin/prog");
  EXPECT_EQ(m.modules[0].base, X86Fixture::kExe);
  EXPECT_EQ(m.modules[0].size, 0x4000u);
  EXPECT_EQ(m.modules[1].path, "/usr/lib/libfoo.so.1");
  EXPECT_EQ(m.modules[1].base, X86Fixture::kLib);
  EXPECT_EQ(m.modules[1].size, 0x5000u);

  // Headers are metadata too.
  ASSERT_NE(find_named(m, "ELF header"), nullptr);
  EXPECT_EQ(find_named(m, "ELF header")->size, 64u);
  ASSERT_NE(find_named(m, "program headers"), nullptr);
  EXPECT_EQ(find_named(m, "program headers")->file_offset, 64u);
  EXPECT_EQ(find_named(m, "program headers")->size, 11u * 56u);
  // Only alignment padding between segments is left unaccounted.
  for (const ByteRange& g : m.unaccounted) EXPECT_LT(g.size, 16u);
}

TEST(ElfCore, GdbSectionHeadersAreMetadata) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.section_headers();
  const BuiltCore core = X86Fixture::make(b);
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  EXPECT_TRUE(result->warnings.empty());
  expect_sound(*result, core.bytes.size());
  const Region* table = find_named(*result, "section headers");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->file_offset, core.shoff);
  EXPECT_EQ(table->size, (1u + 1u + 10u + 1u) * 64u);
  const Region* names = find_named(*result, "section names");
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->size, 23u);
  for (const ByteRange& g : result->unaccounted) EXPECT_LT(g.size, 16u);
}

TEST(ElfCore, PnXnumTakesTheCountFromSectionZero) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.pn_xnum();
  const BuiltCore core = X86Fixture::make(b);
  ASSERT_EQ(core.bytes[56], std::byte{0xff});
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  EXPECT_TRUE(result->warnings.empty());
  EXPECT_EQ(result->threads.size(), 2u);
  EXPECT_EQ(find_named(*result, "program headers")->size, 11u * 56u);
  EXPECT_NE(find_vaddr(*result, X86Fixture::kVdso), nullptr);

  // PN_XNUM with no section header table: the segment count is unknown, which is fatal.
  Bytes broken = core.bytes;
  for (std::size_t i = 40; i < 48; ++i) broken[i] = std::byte{0};  // e_shoff = 0
  auto bad = read(broken);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::out_of_range);
}

TEST(ElfCore, Aarch64) {
  ElfCoreBuilder b(true, testing::kEmAarch64);
  const std::uint64_t stack = 0xfffff7ff0000, sp = stack + 0x1f0;
  b.note("CORE", kNtPrstatus, b.prstatus(77, sp))
      .note("CORE", kNtFpregset, filled(528, 1))
      .note("LINUX", 0x401, filled(8, 2))     // NT_ARM_TLS
      .note("LINUX", 0x406, filled(16, 3))    // NT_ARM_PAC_MASK
      .note("LINUX", 0x1234, filled(4, 4))    // unknown: named by owner and number
      .note("CORE", kNtFile, b.nt_file({{0x400000, 0x401000, 0, "/bin/app"},
                                        {0x410000, 0x411000, 1, "/bin/app"}}));
  b.load(0x400000, kPfR | kPfX, testing::elf_image_page(0x80), 0x1000)
      .load(0x410000, kPfR | kPfW, filled(0x40, 5), 0x1000)
      .load(0x420000, kPfR | kPfW, filled(0x100, 6))
      .load(stack, kPfR | kPfW, filled(0x200, 7));
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  const DumpModel& m = *result;
  EXPECT_EQ(m.arch, "aarch64");
  EXPECT_TRUE(m.warnings.empty());
  expect_sound(m, core.bytes.size());
  ASSERT_EQ(m.threads.size(), 1u);
  EXPECT_EQ(m.threads[0].tid, 77u);
  EXPECT_EQ(m.threads[0].sp, sp);
  EXPECT_EQ(*m.regions[*m.threads[0].stack_region].vaddr, stack);
  EXPECT_EQ(find_named(m, "NT_ARM_TLS")->owner.tid, 77u);
  EXPECT_EQ(find_named(m, "NT_ARM_PAC_MASK")->owner.tid, 77u);
  EXPECT_NE(find_named(m, "note LINUX/0x1234"), nullptr);
  EXPECT_EQ(find_vaddr(m, 0x400000)->kind, RegionKind::module);
  EXPECT_EQ(find_vaddr(m, 0x420000)->kind, RegionKind::heap);
  ASSERT_EQ(m.modules.size(), 1u);
  EXPECT_EQ(m.modules[0].path, "/bin/app");
  EXPECT_EQ(m.modules[0].size, 0x11000u);
}

TEST(ElfCore, Elf32I386) {
  ElfCoreBuilder b(false, testing::kEm386);
  const std::uint64_t stack = 0xbffdf000, sp = stack + 0xf0;
  b.note("CORE", kNtPrstatus, b.prstatus(4242, sp))
      .note("LINUX", 0x46e62b7f, filled(512, 1))  // NT_PRXFPREG
      .note("CORE", kNtPrpsinfo, b.prpsinfo("app32"))
      .note("CORE", kNtFile, b.nt_file({{0x08048000, 0x08049000, 0, "/opt/app32"},
                                        {0xf7d00000, 0xf7d01000, 0, "/opt/data"}}))
      .note("CORE", kNtPrstatus, b.prstatus(4243, 0x12345678));  // sp in no region
  b.load(0x08048000, kPfR | kPfX, testing::elf_image_page(0x40), 0x1000)
      .load(0xf7d00000, kPfR | kPfW, filled(0x40, 2), 0x1000)
      .load(stack, kPfR | kPfW, filled(0x100, 3));
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  const DumpModel& m = *result;
  EXPECT_EQ(m.arch, "x86");
  EXPECT_TRUE(m.warnings.empty());
  expect_sound(m, core.bytes.size());
  ASSERT_EQ(m.threads.size(), 2u);
  EXPECT_EQ(m.threads[0].tid, 4242u);
  EXPECT_EQ(m.threads[0].sp, sp);
  EXPECT_EQ(*m.regions[*m.threads[0].stack_region].vaddr, stack);
  EXPECT_EQ(m.threads[1].sp, 0x12345678u);
  EXPECT_FALSE(m.threads[1].stack_region);
  EXPECT_EQ(find_named(m, "NT_PRXFPREG")->owner.tid, 4242u);
  EXPECT_EQ(find_named(m, "ELF header")->size, 52u);
  EXPECT_EQ(find_named(m, "program headers")->size, 4u * 32u);
  EXPECT_EQ(find_vaddr(m, 0x08048000)->kind, RegionKind::module);
  EXPECT_EQ(find_vaddr(m, 0xf7d00000)->kind, RegionKind::file_mapping);
  ASSERT_EQ(m.modules.size(), 1u);
  EXPECT_EQ(m.modules[0].path, "/opt/app32");
}

TEST(ElfCore, Elf32Arm) {
  ElfCoreBuilder b(false, testing::kEmArm);
  const std::uint64_t stack = 0xfffe0000, sp = stack + 0x80;
  b.note("CORE", kNtPrstatus, b.prstatus(9, sp)).note("LINUX", 0x400, filled(260, 1));
  b.load(stack, kPfR | kPfW, filled(0x100, 2));
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result) << describe(result.error());
  EXPECT_EQ(result->arch, "arm");
  ASSERT_EQ(result->threads.size(), 1u);
  EXPECT_EQ(result->threads[0].sp, sp);
  EXPECT_TRUE(result->threads[0].stack_region);
  EXPECT_EQ(find_named(*result, "NT_ARM_VFP")->owner.tid, 9u);
}

// --- Fatal errors: nothing else can be located without the header and the segment table.

TEST(ElfCore, FatalHeaderErrors) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  const Bytes good = X86Fixture::make(b).bytes;

  EXPECT_EQ(read(Bytes{}).error().code, Errc::truncated);
  EXPECT_EQ(read(Bytes(good.begin(), good.begin() + 10)).error().code, Errc::truncated);
  auto cut = read(Bytes(good.begin(), good.begin() + 40));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::truncated);

  Bytes magic = good;
  magic[1] = std::byte{'X'};
  EXPECT_EQ(read(magic).error().code, Errc::bad_magic);

  Bytes exec = good;
  exec[16] = std::byte{2};  // ET_EXEC
  auto not_core = read(exec);
  ASSERT_FALSE(not_core);
  EXPECT_EQ(not_core.error().code, Errc::bad_value);
  EXPECT_EQ(not_core.error().offset, 16u);

  Bytes big = good;
  big[5] = std::byte{2};  // ELFDATA2MSB
  EXPECT_EQ(read(big).error().code, Errc::unsupported);

  Bytes cls = good;
  cls[4] = std::byte{3};
  EXPECT_EQ(read(cls).error().code, Errc::bad_value);

  Bytes entsize = good;
  entsize[54] = std::byte{20};  // e_phentsize smaller than an Elf64_Phdr
  EXPECT_EQ(read(entsize).error().code, Errc::bad_value);
}

TEST(ElfCore, ProgramHeadersOutOfFileAreFatal) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  const BuiltCore core = X86Fixture::make(b);
  // Cut inside the program header table.
  auto cut = read(Bytes(core.bytes.begin(), core.bytes.begin() + 64 + 3 * 56 + 10));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::out_of_range);
  EXPECT_EQ(cut.error().offset, 64u);
  // e_phoff pointing past the end.
  Bytes far = core.bytes;
  testing::put_le(far, 32, far.size() - 8, 8);
  EXPECT_EQ(read(far).error().code, Errc::out_of_range);
  // e_phoff + e_phnum * e_phentsize overflowing.
  Bytes wrap = core.bytes;
  testing::put_le(wrap, 32, ~0ull - 100, 8);
  EXPECT_FALSE(read(wrap));
}

// --- Partly bad cores: modelled as far as sound, with warnings and complete = false.

TEST(ElfCore, TruncatedLastLoadIsClipped) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  const BuiltCore core = X86Fixture::make(b);
  const std::uint64_t last = core.load_offsets.back();  // the vDSO, 0x100 bytes
  const std::uint64_t cut_at = last + 0x30;
  const Bytes cut(core.bytes.begin(), core.bytes.begin() + static_cast<std::ptrdiff_t>(cut_at));
  auto result = read(cut);
  ASSERT_TRUE(result) << describe(result.error());
  const DumpModel& m = *result;
  EXPECT_FALSE(m.complete);
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_EQ(m.warnings[0].file_offset, last);
  const Region* vdso = find_vaddr(m, X86Fixture::kVdso);
  ASSERT_NE(vdso, nullptr);
  EXPECT_EQ(vdso->size, 0x30u);
  EXPECT_EQ(vdso->memory_size, 0x100u);
  for (const Region& r : m.regions) EXPECT_LE(r.file_offset + r.size, cut_at);
  expect_sound(m, cut_at);
  EXPECT_EQ(m.threads.size(), 2u);
}

TEST(ElfCore, SegmentWhollyPastTheEndGivesNoRegion) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.load(0x1000, kPfR | kPfW, filled(0x40, 1))
      .load(0x2000, kPfR | kPfW, filled(0x40, 2), 0, 0x40, 0x100000);
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->complete);
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_EQ(result->warnings[0].file_offset, 0x100000u);
  EXPECT_NE(find_vaddr(*result, 0x1000), nullptr);
  EXPECT_EQ(find_vaddr(*result, 0x2000), nullptr);
  expect_sound(*result, core.bytes.size());
}

TEST(ElfCore, AbsurdNtFileCountIsAWarningNotAnAllocation) {
  for (std::uint64_t count : {1ull << 60, 1000ull, ~0ull}) {
    ElfCoreBuilder b(true, testing::kEmX86_64);
    b.note("CORE", kNtPrstatus, b.prstatus(1, 0x1080))
        .note("CORE", kNtFile, b.nt_file({{0x1000, 0x2000, 0, "/a"}, {0x3000, 0x4000, 0, "/b"}}, count));
    b.load(0x1000, kPfR | kPfW, filled(0x100, 1)).load(0x3000, kPfR | kPfW, filled(0x100, 2));
    const BuiltCore core = b.build();
    auto result = read(core.bytes);
    ASSERT_TRUE(result) << count;
    EXPECT_FALSE(result->complete);
    ASSERT_EQ(result->warnings.size(), 1u);
    EXPECT_NE(result->warnings[0].message.find("NT_FILE"), std::string::npos);
    EXPECT_TRUE(result->modules.empty());
    EXPECT_EQ(find_vaddr(*result, 0x1000)->kind, RegionKind::stack);
    EXPECT_EQ(find_vaddr(*result, 0x3000)->kind, RegionKind::heap);
    EXPECT_NE(find_named(*result, "NT_FILE"), nullptr) << "the note's bytes are still a region";
    expect_sound(*result, core.bytes.size());
  }
}

TEST(ElfCore, HugeNoteSizesStopTheWalkWithAWarning) {
  for (bool huge_name : {true, false}) {
    ElfCoreBuilder b(true, testing::kEmX86_64);
    const std::optional<std::uint32_t> big = 0xfffffff0u;
    b.note("CORE", kNtPrstatus, b.prstatus(5, 0x1010))
        .note("CORE", kNtAuxv, filled(16, 1), huge_name ? big : std::nullopt,
              huge_name ? std::nullopt : big)
        .note("CORE", kNtPrstatus, b.prstatus(6, 0x1020));
    b.load(0x1000, kPfR | kPfW, filled(0x100, 1));
    const BuiltCore core = b.build();
    auto result = read(core.bytes);
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->complete);
    ASSERT_EQ(result->warnings.size(), 1u);
    EXPECT_EQ(result->warnings[0].file_offset, core.note_offsets[1]);
    ASSERT_EQ(result->threads.size(), 1u) << "notes before the bad one are kept";
    EXPECT_EQ(find_vaddr(*result, 0x1000)->kind, RegionKind::stack);
    expect_sound(*result, core.bytes.size());
  }
}

TEST(ElfCore, ShortPrstatusIsAWarning) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.note("CORE", kNtPrstatus, filled(100, 1)).note("CORE", kNtFpregset, filled(512, 2));
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->threads.empty());
  EXPECT_FALSE(result->complete);
  EXPECT_FALSE(find_named(*result, "NT_FPREGSET")->owner.tid);
  EXPECT_NE(find_named(*result, "NT_PRSTATUS"), nullptr);
}

TEST(ElfCore, OverlappingAndAbsurdSegmentsWarn) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.load(0x1000, kPfR | kPfW, filled(0x100, 1))
      .load(0x1080, kPfR | kPfW, filled(0x100, 2))           // overlaps in memory
      .load(0x9000, kPfR, filled(0x100, 3), 0x10)             // p_filesz > p_memsz
      .load(0xfffffffffffff000, kPfR, filled(0x100, 4), 0x2000);  // wraps the address space
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->complete);
  EXPECT_EQ(result->warnings.size(), 3u);
  expect_sound(*result, core.bytes.size());
  // Two segments over the same file bytes.
  ElfCoreBuilder same(true, testing::kEmX86_64);
  same.load(0x1000, kPfR, filled(0x100, 1)).load(0x5000, kPfR, filled(0x100, 2));
  BuiltCore twice = same.build();
  testing::put_le(twice.bytes, 64 + 56 + 8, twice.load_offsets[0] + 0x10, 8);
  auto overlapped = read(twice.bytes);
  ASSERT_TRUE(overlapped);
  ASSERT_EQ(overlapped->warnings.size(), 1u);
  EXPECT_NE(overlapped->warnings[0].message.find("in the file"), std::string::npos);
}

TEST(ElfCore, NoSegmentsIsAnEmptyButValidCore) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  const BuiltCore core = b.build();
  auto result = read(core.bytes);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->complete);
  EXPECT_EQ(result->regions.size(), 1u);  // the ELF header
  expect_sound(*result, core.bytes.size());
}

// Every prefix and a sweep of single-byte corruptions of a valid core must either fail
// cleanly or give a sound model (the fuzz target checks the same, at random).
TEST(ElfCore, EveryPrefixAndByteFlipIsHandled) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.section_headers();
  const BuiltCore core = X86Fixture::make(b);
  for (std::size_t n = 0; n <= core.bytes.size(); n += (n < 2048 ? 1 : 97)) {
    const Bytes prefix(core.bytes.begin(), core.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto result = read(prefix);
    if (result) expect_sound(*result, n);
  }
  const std::uint64_t header_end = core.load_offsets[0];  // headers and notes
  for (std::size_t at = 0; at < header_end; ++at) {
    for (const std::byte value : {std::byte{0x00}, std::byte{0x7f}, std::byte{0xff}}) {
      Bytes flipped = core.bytes;
      flipped[at] = value;
      auto result = read(flipped);
      if (result) expect_sound(*result, flipped.size());
    }
  }
}

// Writes the fuzz seeds when DG_WRITE_ELF_CORE_CORPUS names a directory (run by hand:
// the committed corpus in fuzz/corpus/elf_core/ came from here).
TEST(ElfCore, WriteFuzzCorpus) {
  const char* dir = std::getenv("DG_WRITE_ELF_CORE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set DG_WRITE_ELF_CORE_CORPUS to write seeds";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const Bytes& bytes) {
    std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  };
  // Small versions of each architecture (shorter notes than the real ones, same layout).
  auto small = [](bool is64, std::uint16_t machine, bool sections, bool xnum) {
    ElfCoreBuilder b(is64, machine);
    const std::uint64_t base = is64 ? 0x7f0000000000 : 0xf7000000;
    b.note("CORE", kNtPrpsinfo, b.prpsinfo("seed"))
        .note("CORE", kNtPrstatus, b.prstatus(10, base + 0x2040))
        .note("CORE", kNtFpregset, filled(32, 1))
        .note("LINUX", machine == testing::kEmAarch64 ? 0x406 : 0x202, filled(16, 2))
        .note("CORE", kNtAuxv, b.auxv({{33, base + 0x4000}}))
        .note("CORE", kNtFile, b.nt_file({{base, base + 0x1000, 0, "/bin/seed"},
                                          {base + 0x1000, base + 0x2000, 1, "/bin/seed"},
                                          {base + 0x3000, base + 0x3100, 0, "/d"}}))
        .note("CORE", kNtPrstatus, b.prstatus(11, base + 0x5010));
    b.load(base, kPfR, testing::elf_image_page(0x20), 0x1000)
        .load(base + 0x1000, kPfR | kPfX, {}, 0x1000)
        .load(base + 0x2000, kPfR | kPfW, filled(0x60, 3))
        .load(base + 0x3000, kPfR, filled(0x10, 4), 0x100)
        .load(base + 0x4000, kPfR | kPfX, filled(0x10, 5))
        .load(base + 0x5000, kPfR | kPfW, filled(0x20, 6));
    b.section_headers(sections);
    b.pn_xnum(xnum);
    return b.build();
  };
  const struct {
    const char* name;
    bool is64;
    std::uint16_t machine;
  } arches[] = {{"x86_64", true, testing::kEmX86_64},
                {"aarch64", true, testing::kEmAarch64},
                {"i386", false, testing::kEm386},
                {"arm", false, testing::kEmArm}};
  for (const auto& a : arches) {
    const BuiltCore plain = small(a.is64, a.machine, false, false);
    write(std::string("valid_") + a.name, plain.bytes);
    write(std::string("gdb_sections_") + a.name, small(a.is64, a.machine, true, false).bytes);
    write(std::string("truncated_last_load_") + a.name,
          Bytes(plain.bytes.begin(), plain.bytes.end() - 0x10));
    write(std::string("truncated_in_notes_") + a.name,
          Bytes(plain.bytes.begin(),
                plain.bytes.begin() + static_cast<std::ptrdiff_t>(plain.note_offsets[3] + 6)));
  }
  write("pn_xnum_x86_64", small(true, testing::kEmX86_64, true, true).bytes);
  const BuiltCore x86 = small(true, testing::kEmX86_64, false, false);
  write("truncated_in_phdrs", Bytes(x86.bytes.begin(), x86.bytes.begin() + 64 + 100));
  write("header_only", Bytes(x86.bytes.begin(), x86.bytes.begin() + 64));
  {
    ElfCoreBuilder b(true, testing::kEmX86_64);
    b.note("CORE", kNtFile, b.nt_file({{0x1000, 0x2000, 0, "/a"}}, 1ull << 61));
    b.load(0x1000, kPfR, filled(0x10, 1));
    write("nt_file_absurd_count", b.build().bytes);
  }
  {
    ElfCoreBuilder b(true, testing::kEmX86_64);
    b.note("CORE", kNtAuxv, filled(8, 1), 0xfffffff0u).note("CORE", kNtPrstatus, b.prstatus(1, 0));
    write("note_huge_namesz", b.build().bytes);
  }
  {
    ElfCoreBuilder b(false, testing::kEm386);
    b.load(0x1000, kPfR, filled(0x10, 1)).load(0x1008, kPfR, filled(0x10, 1), 4, 0x10, 0x7fffffff);
    write("overlap_and_past_eof_i386", b.build().bytes);
  }
}

}  // namespace
}  // namespace dumpguard
