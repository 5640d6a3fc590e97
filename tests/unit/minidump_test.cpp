// Unit tests for the minidump reader: fixtures built byte by byte by
// fixtures/minidump_builder.hpp, and the real minidumps of tests/corpus checked
// against counts taken from lldb, not from dumpguard.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "fixtures/minidump_builder.hpp"
#include "format/minidump.hpp"

namespace dumpguard {
namespace {

using testing::LeBytes;
using testing::Loc;
using testing::MinidumpBuilder;

// Stream types (minidumpapiset.h; Breakpad and Crashpad extensions).
constexpr std::uint32_t kThreadList = 3, kModuleList = 4, kMemoryList = 5, kSystemInfo = 7,
                        kThreadExList = 8, kMemory64List = 9, kMiscInfo = 15, kMemoryInfoList = 16,
                        kLinuxEnviron = 0x47670007, kLinuxMaps = 0x47670009,
                        kCrashpadInfo = 0x43500001;

// Checks that hold for every model: indices point into regions, regions lie in the file,
// and regions plus unaccounted ranges cover every byte.
void expect_sound(const DumpModel& m, std::size_t file_size) {
  for (const Region& r : m.regions) {
    EXPECT_LE(r.file_offset, file_size);
    EXPECT_LE(r.size, file_size - r.file_offset);
    if (r.kind == RegionKind::metadata) {
      EXPECT_FALSE(r.vaddr.has_value());
    }
  }
  for (const Thread& t : m.threads) {
    if (t.stack_region) {
      EXPECT_LT(*t.stack_region, m.regions.size());
    }
    if (t.context_region) {
      EXPECT_LT(*t.context_region, m.regions.size());
    }
  }
  std::vector<bool> seen(file_size, false);
  for (const Region& r : m.regions)
    for (std::uint64_t i = 0; i < r.size; ++i) seen[r.file_offset + i] = true;
  for (const ByteRange& u : m.unaccounted)
    for (std::uint64_t i = 0; i < u.size; ++i) {
      EXPECT_FALSE(seen[u.file_offset + i]) << "unaccounted byte inside a region at " << u.file_offset + i;
      seen[u.file_offset + i] = true;
    }
  for (std::size_t i = 0; i < file_size; ++i) ASSERT_TRUE(seen[i]) << "byte " << i << " not covered";
}

const Region* find_named(const DumpModel& m, std::string_view name) {
  for (const Region& r : m.regions)
    if (r.owner.name == name) return &r;
  return nullptr;
}

const Region* find_vaddr(const DumpModel& m, std::uint64_t vaddr) {
  for (const Region& r : m.regions)
    if (r.vaddr == vaddr) return &r;
  return nullptr;
}

bool unaccounted_covers(const DumpModel& m, std::uint64_t offset, std::uint64_t size) {
  for (const ByteRange& u : m.unaccounted)
    if (u.file_offset <= offset && offset + size <= u.file_offset + u.size) return true;
  return false;
}

TEST(MinidumpReader, ThreadsStacksModulesAndArch) {
  MinidumpBuilder b;
  const Loc stack1 = b.add_fill(0x100, 0xAA);
  const Loc stack2 = b.add_fill(0x80, 0xBB);
  const Loc image = b.add_fill(0x40, 0xCC);
  const Loc other = b.add_fill(0x20, 0xDD);
  const Loc ctx1 = b.add(MinidumpBuilder::amd64_context(0x7000'0080));
  const Loc ctx2 = b.add(MinidumpBuilder::amd64_context(0x7100'0010));
  const std::uint32_t name = b.add_string("C:\\app\\app.exe");
  const Loc cv = b.add(LeBytes().text("RSDS").zeros(20).text("app.pdb").u8(0));
  b.stream(kSystemInfo, MinidumpBuilder::system_info(9));  // PROCESSOR_ARCHITECTURE_AMD64
  // Thread 2's stack descriptor is empty: the reader must find its stack through SP.
  b.stream(kThreadList, MinidumpBuilder::list({
                            MinidumpBuilder::thread(0x10, 0x7000'0000, stack1, ctx1),
                            MinidumpBuilder::thread(0x20, 0, Loc{}, ctx2),
                        }));
  b.stream(kModuleList, MinidumpBuilder::list({MinidumpBuilder::module(0x1'4000'0000, 0x10000, name, cv)}));
  b.stream(kMemoryList, MinidumpBuilder::list({
                            MinidumpBuilder::memory_descriptor(0x7000'0000, stack1),
                            MinidumpBuilder::memory_descriptor(0x7100'0000, stack2),
                            MinidumpBuilder::memory_descriptor(0x1'4000'1000, image),
                            MinidumpBuilder::memory_descriptor(0x5000'0000, other),
                        }));
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_EQ(m.format, Format::minidump);
  EXPECT_EQ(m.arch, "x86_64");
  EXPECT_TRUE(m.complete);
  EXPECT_TRUE(m.warnings.empty());
  // Every byte is a region except the builder's 4-byte alignment padding.
  for (const ByteRange& u : m.unaccounted) EXPECT_LT(u.size, 4u) << u.file_offset;

  ASSERT_EQ(m.threads.size(), 2u);
  EXPECT_EQ(m.threads[0].tid, 0x10u);
  EXPECT_EQ(m.threads[0].sp, 0x7000'0080u);
  ASSERT_TRUE(m.threads[0].stack_region);
  const Region& s1 = m.regions[*m.threads[0].stack_region];
  EXPECT_EQ(s1.kind, RegionKind::stack);
  EXPECT_EQ(s1.vaddr, 0x7000'0000u);
  EXPECT_EQ(s1.file_offset, stack1.rva);
  EXPECT_EQ(s1.size, 0x100u);
  EXPECT_EQ(s1.owner.tid, 0x10u);
  ASSERT_TRUE(m.threads[0].context_region);
  const Region& c1 = m.regions[*m.threads[0].context_region];
  EXPECT_EQ(c1.kind, RegionKind::metadata);
  EXPECT_EQ(c1.owner.name, "thread-context");
  EXPECT_EQ(c1.owner.tid, 0x10u);
  EXPECT_EQ(c1.file_offset, ctx1.rva);
  EXPECT_EQ(c1.size, 1232u);

  EXPECT_EQ(m.threads[1].sp, 0x7100'0010u);
  ASSERT_TRUE(m.threads[1].stack_region);
  EXPECT_EQ(m.regions[*m.threads[1].stack_region].vaddr, 0x7100'0000u);
  EXPECT_EQ(m.regions[*m.threads[1].stack_region].kind, RegionKind::stack);

  ASSERT_EQ(m.modules.size(), 1u);
  EXPECT_EQ(m.modules[0].path, "C:\\app\\app.exe");
  EXPECT_EQ(m.modules[0].base, 0x1'4000'0000u);
  EXPECT_EQ(m.modules[0].size, 0x10000u);
  const Region* img = find_vaddr(m, 0x1'4000'1000);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->kind, RegionKind::module);
  EXPECT_EQ(img->owner.path, "C:\\app\\app.exe");
  const Region* unk = find_vaddr(m, 0x5000'0000);
  ASSERT_NE(unk, nullptr);
  EXPECT_EQ(unk->kind, RegionKind::unknown);  // no MemoryInfoList: the format does not say
  EXPECT_FALSE(unk->perms.has_value());

  for (auto n : {"minidump-header", "stream-directory", "system-info", "thread-list", "module-list",
                 "memory-list", "module-name", "codeview"}) {
    EXPECT_NE(find_named(m, n), nullptr) << n;
  }
  EXPECT_EQ(find_named(m, "codeview")->file_offset, cv.rva);
}

TEST(MinidumpReader, ThreadExListOnX86) {
  MinidumpBuilder b;
  const Loc stack = b.add_fill(0x200, 0x11);
  const Loc ctx = b.add(MinidumpBuilder::x86_context(0x0012'f320));
  b.stream(kSystemInfo, MinidumpBuilder::system_info(0));  // PROCESSOR_ARCHITECTURE_INTEL
  // MINIDUMP_THREAD_EX: MINIDUMP_THREAD plus a BackingStore descriptor (empty off IA-64).
  LeBytes ex = MinidumpBuilder::thread(7, 0x0012'f200, stack, ctx);
  ex.append(MinidumpBuilder::memory_descriptor(0, Loc{}));
  b.stream(kThreadExList, MinidumpBuilder::list({ex}));
  b.stream(kMemoryList, MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0x0012'f200, stack)}));
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_TRUE(m.warnings.empty());
  EXPECT_EQ(m.arch, "x86");
  ASSERT_EQ(m.threads.size(), 1u);
  EXPECT_EQ(m.threads[0].tid, 7u);
  EXPECT_EQ(m.threads[0].sp, 0x0012'f320u);
  ASSERT_TRUE(m.threads[0].stack_region);
  EXPECT_EQ(m.regions[*m.threads[0].stack_region].file_offset, stack.rva);
  EXPECT_EQ(m.regions[*m.threads[0].stack_region].kind, RegionKind::stack);
  EXPECT_NE(find_named(m, "thread-ex-list"), nullptr);
}

TEST(MinidumpReader, MemoryInfoListSetsPermsAndKinds) {
  // winnt.h: PAGE_READONLY 0x02, PAGE_READWRITE 0x04, PAGE_EXECUTE_READ 0x20, PAGE_GUARD 0x100;
  // MEM_PRIVATE 0x20000, MEM_MAPPED 0x40000, MEM_IMAGE 0x1000000.
  MinidumpBuilder b;
  const Loc heap = b.add_fill(0x10, 1);
  const Loc mapped = b.add_fill(0x10, 2);
  const Loc image = b.add_fill(0x10, 3);
  const Loc ro_private = b.add_fill(0x10, 4);
  const Loc guarded = b.add_fill(0x10, 5);
  b.stream(kMemoryList, MinidumpBuilder::list({
                            MinidumpBuilder::memory_descriptor(0x10000, heap),
                            MinidumpBuilder::memory_descriptor(0x20008, mapped),
                            MinidumpBuilder::memory_descriptor(0x30000, image),
                            MinidumpBuilder::memory_descriptor(0x40000, ro_private),
                            MinidumpBuilder::memory_descriptor(0x50000, guarded),
                        }));
  LeBytes infos;
  infos.u32(16).u32(48).u64(5);  // SizeOfHeader, SizeOfEntry, NumberOfEntries
  infos.append(MinidumpBuilder::memory_info(0x10000, 0x1000, 0x04, 0x20000));
  infos.append(MinidumpBuilder::memory_info(0x20000, 0x1000, 0x02, 0x40000));
  infos.append(MinidumpBuilder::memory_info(0x30000, 0x1000, 0x20, 0x1000000));
  infos.append(MinidumpBuilder::memory_info(0x40000, 0x1000, 0x02, 0x20000));
  infos.append(MinidumpBuilder::memory_info(0x50000, 0x1000, 0x104, 0x20000));
  b.stream(kMemoryInfoList, infos);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_TRUE(m.warnings.empty());
  struct Expect {
    std::uint64_t vaddr;
    RegionKind kind;
    const char* perms;
  };
  for (const Expect& e : {Expect{0x10000, RegionKind::heap, "rw-"},
                          Expect{0x20008, RegionKind::file_mapping, "r--"},
                          Expect{0x30000, RegionKind::module, "r-x"},
                          Expect{0x40000, RegionKind::anon, "r--"},
                          Expect{0x50000, RegionKind::heap, "rw-"}}) {
    const Region* r = find_vaddr(m, e.vaddr);
    ASSERT_NE(r, nullptr) << e.vaddr;
    EXPECT_EQ(r->kind, e.kind) << e.vaddr;
    ASSERT_TRUE(r->perms.has_value()) << e.vaddr;
    EXPECT_EQ(to_string(*r->perms), e.perms) << e.vaddr;
  }
}

TEST(MinidumpReader, Memory64ListDataIsContiguousFromBaseRva) {
  MinidumpBuilder b;
  LeBytes data;
  for (int i = 0; i < 0x100; ++i) data.u8(0x41);
  for (int i = 0; i < 0x80; ++i) data.u8(0x42);
  for (int i = 0; i < 0x40; ++i) data.u8(0x43);
  const Loc where = b.add(data);
  LeBytes list;
  list.u64(3).u64(where.rva);  // NumberOfMemoryRanges, BaseRva
  list.u64(0x10000).u64(0x100).u64(0x7f0000).u64(0x80).u64(0x20000).u64(0x40);
  b.stream(kMemory64List, list);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_TRUE(m.warnings.empty());
  const std::uint64_t expect[][3] = {{0x10000, 0, 0x100}, {0x7f0000, 0x100, 0x80}, {0x20000, 0x180, 0x40}};
  const std::uint8_t fill[] = {0x41, 0x42, 0x43};
  for (int i = 0; i < 3; ++i) {
    const Region* r = find_vaddr(m, expect[i][0]);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->file_offset, where.rva + expect[i][1]);
    EXPECT_EQ(r->size, expect[i][2]);
    EXPECT_EQ(bytes[r->file_offset], std::byte{fill[i]});
    EXPECT_EQ(bytes[r->file_offset + r->size - 1], std::byte{fill[i]});
  }
  EXPECT_NE(find_named(m, "memory64-list"), nullptr);
}

TEST(MinidumpReader, Memory64ListTruncatedDataKeepsWhatIsThere) {
  // The list first, then 0x90 bytes of data for ranges of 0x80 and 0x1000 bytes: the
  // second range runs into the directory (written last) and past the end of the file.
  MinidumpBuilder b;
  const std::uint32_t base = MinidumpBuilder::kHeaderSize + 16 + 2 * 16;
  b.stream(kMemory64List, LeBytes().u64(2).u64(base).u64(0x10000).u64(0x80).u64(0x20000).u64(0x1000));
  b.add_fill(0x90, 0x41);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_FALSE(m.complete);
  // The truncated range, and its bytes that the directory claims too.
  ASSERT_EQ(m.warnings.size(), 2u);
  EXPECT_NE(m.warnings[1].message.find("overlap"), std::string::npos) << m.warnings[1].message;
  const Region* first = find_vaddr(m, 0x10000);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->file_offset, base);
  EXPECT_EQ(first->size, 0x80u);
  const Region* second = find_vaddr(m, 0x20000);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->file_offset, base + 0x80u);
  EXPECT_EQ(second->memory_size, 0x1000u);
  EXPECT_EQ(second->file_offset + second->size, bytes.size());
}

TEST(MinidumpReader, LinuxMapsGivesPermsAndPaths) {
  MinidumpBuilder b;
  const Loc lib = b.add_fill(0x20, 1);
  const Loc anon = b.add_fill(0x20, 2);
  const Loc file = b.add_fill(0x20, 3);
  b.stream(kMemoryList, MinidumpBuilder::list({
                            MinidumpBuilder::memory_descriptor(0x7f0000001000, lib),
                            MinidumpBuilder::memory_descriptor(0x7f0000010000, anon),
                            MinidumpBuilder::memory_descriptor(0x7f0000020010, file),
                        }));
  const std::uint32_t name = b.add_string("/usr/lib/libssl.so.3");
  b.stream(kModuleList, MinidumpBuilder::list({MinidumpBuilder::module(0x7f0000000000, 0x8000, name)}));
  b.stream(kLinuxMaps,
           LeBytes().text("7f0000000000-7f0000008000 r-xp 00000000 08:01 42   /usr/lib/libssl.so.3\n"
                          "7f0000010000-7f0000011000 rw-p 00000000 00:00 0 \n"
                          "garbage line without fields\n"
                          "7f0000020000-7f0000021000 r--s 00000000 08:01 77   /dev/shm/cache (deleted)\n"));
  b.stream(kLinuxEnviron, LeBytes().text("HOME=/root").u8(0).text("LANG=C").u8(0).zeros(2));
  b.stream(kCrashpadInfo, LeBytes().zeros(52));
  b.stream(kMiscInfo, LeBytes().u32(24).zeros(20));
  b.stream(0x12345678, LeBytes().u32(1));
  b.stream(0, Loc{0, 0});  // UnusedStream: skipped
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_TRUE(m.warnings.empty());
  const Region* r1 = find_vaddr(m, 0x7f0000001000);
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->kind, RegionKind::module);
  EXPECT_EQ(r1->owner.path, "/usr/lib/libssl.so.3");
  EXPECT_EQ(to_string(r1->perms.value()), "r-x");
  const Region* r2 = find_vaddr(m, 0x7f0000010000);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->kind, RegionKind::heap);
  EXPECT_EQ(to_string(r2->perms.value()), "rw-");
  const Region* r3 = find_vaddr(m, 0x7f0000020010);
  ASSERT_NE(r3, nullptr);
  EXPECT_EQ(r3->kind, RegionKind::file_mapping);
  EXPECT_EQ(r3->owner.path, "/dev/shm/cache (deleted)");
  for (auto n : {"linux-maps", "linux-environ", "crashpad-info", "misc-info", "stream 0x12345678"}) {
    EXPECT_NE(find_named(m, n), nullptr) << n;
  }
}

TEST(MinidumpReader, CrashpadAnnotationsAreMetadata) {
  // Crashpad's minidump_extensions.h: MinidumpCrashpadInfo points to a
  // MinidumpSimpleStringDictionary of {key, value} MinidumpUTF8String RVAs.
  MinidumpBuilder b;
  const Loc key = b.add(LeBytes().u32(5).text("token").u8(0));
  const Loc value = b.add(LeBytes().u32(7).text("s3cr3t!").u8(0));
  const Loc dict = b.add(LeBytes().u32(1).u32(key.rva).u32(value.rva));
  LeBytes info;
  info.u32(1).zeros(32).u32(dict.size).u32(dict.rva).u32(0).u32(0);
  b.stream(kCrashpadInfo, info);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  std::vector<std::uint64_t> offsets;
  for (const Region& r : m.regions)
    if (r.owner.name == "crashpad-annotations") offsets.push_back(r.file_offset);
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{dict.rva, key.rva, value.rva}));
}

// ---- Hostile and broken input ----

TEST(MinidumpReader, FatalHeaderErrors) {
  MinidumpBuilder b;
  b.stream(kMiscInfo, LeBytes().u32(24).zeros(20));
  auto good = b.build();
  // Truncated header.
  for (std::size_t n : {0u, 4u, 20u, 31u}) {
    auto r = read_minidump(std::span(good).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, Errc::truncated);
  }
  // Bad signature.
  auto bad = good;
  bad[0] = std::byte{'X'};
  ASSERT_FALSE(read_minidump(bad).ok());
  EXPECT_EQ(read_minidump(bad).error().code, Errc::bad_magic);
  // Directory runs out of the file: NumberOfStreams huge.
  bad = good;
  bad[8] = std::byte{0xFF};
  bad[9] = std::byte{0xFF};
  bad[10] = std::byte{0xFF};
  ASSERT_FALSE(read_minidump(bad).ok());
  EXPECT_EQ(read_minidump(bad).error().code, Errc::out_of_range);
  // Directory RVA past the end.
  bad = good;
  bad[15] = std::byte{0x7F};
  ASSERT_FALSE(read_minidump(bad).ok());
}

TEST(MinidumpReader, StreamOutOfRangeIsAWarningAndItsBytesStayUnaccounted) {
  MinidumpBuilder b;
  const Loc stack = b.add_fill(0x40, 0x55);
  // A thread list that claims 0x1000 bytes from an RVA near the end of the file.
  const Loc partial = b.add(MinidumpBuilder::list({MinidumpBuilder::thread(1, 0x1000, stack, Loc{})}));
  b.stream(kThreadList, Loc{0x1000, partial.rva});
  b.stream(kMemoryList, MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0x1000, stack)}));
  b.stream(kSystemInfo, MinidumpBuilder::system_info(9));
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_FALSE(m.complete);
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].message.find("thread-list"), std::string::npos);
  EXPECT_TRUE(m.threads.empty());
  EXPECT_TRUE(unaccounted_covers(m, partial.rva, partial.size));
  // The other streams are still read.
  EXPECT_EQ(m.arch, "x86_64");
  EXPECT_NE(find_vaddr(m, 0x1000), nullptr);
}

TEST(MinidumpReader, AbsurdCountsAreWarningsWithoutHugeAllocations) {
  MinidumpBuilder b;
  const Loc threads = b.add(LeBytes().u32(0xFFFFFFFF).zeros(12));
  b.stream(kThreadList, threads);
  const Loc modules = b.add(LeBytes().u32(0x7FFFFFFF).zeros(108));
  b.stream(kModuleList, modules);
  const Loc mem64 = b.add(LeBytes().u64(0xFFFFFFFFFFFFFFFFull).u64(0).u64(0).u64(16));
  b.stream(kMemory64List, mem64);
  const Loc infos = b.add(LeBytes().u32(16).u32(48).u64(1ull << 60).zeros(48));
  b.stream(kMemoryInfoList, infos);
  // Count one more than the bytes hold.
  const Loc mem = b.add(MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0, Loc{4, 0})}).patch_u32(0, 2));
  b.stream(kMemoryList, mem);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.warnings.size(), 5u);
  EXPECT_TRUE(m.threads.empty());
  EXPECT_TRUE(m.modules.empty());
  for (const Loc& l : {threads, modules, mem64, infos, mem}) {
    EXPECT_TRUE(unaccounted_covers(m, l.rva, l.size)) << l.rva;
  }

  // Zero-sized entries would make the count unbounded: rejected.
  MinidumpBuilder z;
  const Loc infos0 = z.add(LeBytes().u32(16).u32(0).u64(1ull << 60));
  z.stream(kMemoryInfoList, infos0);
  const auto zbytes = z.build();
  auto zero = read_minidump(zbytes);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->warnings.size(), 1u);
  EXPECT_TRUE(unaccounted_covers(*zero, infos0.rva, infos0.size));
}

TEST(MinidumpReader, RepeatedStreamsAndSharedNamesStayCheap) {
  // One memory list named 1000 times, and 300 modules sharing one over-long name: the
  // reader parses the list once and refuses the name, in time and memory linear in the file.
  MinidumpBuilder b;
  const Loc data = b.add_fill(0x10, 1);
  const Loc mem = b.add(MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0x1000, data)}));
  LeBytes long_name;
  long_name.u32(0x20000).zeros(0x20000);
  const Loc name = b.add(long_name);
  std::vector<LeBytes> modules(300, MinidumpBuilder::module(0x400000, 0x1000, name.rva));
  b.stream(kModuleList, MinidumpBuilder::list(modules));
  for (int i = 0; i < 1000; ++i) b.stream(kMemoryList, mem);
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.modules.size(), 300u);
  EXPECT_TRUE(m.modules[0].path.empty());
  std::size_t memory_regions = 0;
  for (const Region& r : m.regions) memory_regions += r.vaddr.has_value();
  EXPECT_EQ(memory_regions, 1u);
  EXPECT_LE(m.warnings.size(), 257u);  // capped, with a count of the rest
}

TEST(MinidumpReader, PaddedListCountIsAccepted) {
  MinidumpBuilder b;
  const Loc data = b.add_fill(0x10, 7);
  b.stream(kMemoryList, MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0x9000, data)}, /*pad=*/true));
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->warnings.empty());
  EXPECT_NE(find_vaddr(*result, 0x9000), nullptr);
}

TEST(MinidumpReader, OverlappingAndWrappingRanges) {
  MinidumpBuilder b;
  const Loc data = b.add_fill(0x100, 9);
  const Loc ctx = b.add(MinidumpBuilder::amd64_context(0x2050));
  b.stream(kThreadList, MinidumpBuilder::list({MinidumpBuilder::thread(3, 0x2000, Loc{}, ctx)}));
  b.stream(kMemoryList,
           MinidumpBuilder::list({
               MinidumpBuilder::memory_descriptor(0x2000, data),                         // whole
               MinidumpBuilder::memory_descriptor(0x2040, Loc{0x40, data.rva + 0x40}),  // inside it
               MinidumpBuilder::memory_descriptor(0x2000, data),                         // twice
               MinidumpBuilder::memory_descriptor(0xFFFFFFFFFFFFFFF0ull, data),          // wraps
               MinidumpBuilder::memory_descriptor(0x3000, Loc{0x10, 0xFFFFFFF0}),       // outside file
           }));
  const auto bytes = b.build();
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  expect_sound(m, bytes.size());
  EXPECT_FALSE(m.complete);
  // The wrapping range, the one outside the file, and the two that repeat bytes of the first.
  ASSERT_EQ(m.warnings.size(), 3u);
  EXPECT_NE(m.warnings[2].message.find("2 regions overlap"), std::string::npos) << m.warnings[2].message;
  ASSERT_EQ(m.threads.size(), 1u);
  ASSERT_TRUE(m.threads[0].stack_region);
  const Region& s = m.regions[*m.threads[0].stack_region];
  EXPECT_EQ(s.kind, RegionKind::stack);
  EXPECT_LE(*s.vaddr, 0x2050u);
  EXPECT_GT(*s.vaddr + s.size, 0x2050u);
}

TEST(MinidumpReader, VersionMismatchIsAWarning) {
  MinidumpBuilder b;
  b.stream(kMiscInfo, LeBytes().u32(24).zeros(20));
  auto result = read_minidump(b.build(0x1234));
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->complete);
  EXPECT_EQ(result->warnings.size(), 1u);
}

TEST(MinidumpReader, ModuleNameIsConvertedFromUtf16) {
  MinidumpBuilder b;
  // "C:\é\😀.dll": a BMP character and a surrogate pair.
  LeBytes s;
  const std::uint16_t units[] = {'C', ':', '\\', 0x00E9, '\\', 0xD83D, 0xDE00, '.', 'd', 'l', 'l'};
  s.u32(sizeof(units));
  for (auto u : units) s.u16(u);
  s.u16(0);
  const Loc name = b.add(s);
  b.stream(kModuleList, MinidumpBuilder::list({MinidumpBuilder::module(0x10000, 0x1000, name.rva)}));
  auto result = read_minidump(b.build());
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->modules.size(), 1u);
  EXPECT_EQ(result->modules[0].path, "C:\\\xC3\xA9\\\xF0\x9F\x98\x80.dll");
}

// ---- The real minidumps of tests/corpus ----

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::byte> bytes(static_cast<std::size_t>(std::filesystem::file_size(path)));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

// Set by tests/CMakeLists.txt to the repository's tests/corpus/minidumps.
std::filesystem::path corpus_dir() { return DG_TEST_MINIDUMPS_DIR; }

// Thread and module counts from lldb 14, independent of dumpguard:
//   lldb --batch -c FILE -o "thread list" -o "image list"
// counting "thread #N" lines and "[ N]" image lines (fullmem-full.dmp decompressed with
// `zstd -d` first). SOURCE.md's own directory counts agree for the fullmem dumps.
struct CorpusFile {
  const char* name;
  std::size_t threads;
  std::size_t modules;
  const char* arch;
};
constexpr CorpusFile kCorpus[] = {
    {"test.dmp", 2, 13, "x86"},
    {"linux-mini.dmp", 1, 8, "x86_64"},
    {"simple-crashpad.dmp", 1, 40, "x86_64"},
    {"pipeline-inlines-macos-segv.dmp", 11, 47, "x86_64"},
    {"invalid-parameter.dmp", 6, 31, "x86_64"},
    {"fullmem-normal.dmp", 4, 9, "x86_64"},
};

TEST(MinidumpCorpus, ValidDumpsParseWithoutWarningsAndMatchLldb) {
  for (const CorpusFile& f : kCorpus) {
    SCOPED_TRACE(f.name);
    const auto bytes = read_file(corpus_dir() / f.name);
    ASSERT_FALSE(bytes.empty()) << "missing " << (corpus_dir() / f.name);
    auto result = read_minidump(bytes);
    ASSERT_TRUE(result.ok()) << describe(result.error());
    const DumpModel& m = *result;
    expect_sound(m, bytes.size());
    EXPECT_TRUE(m.complete);
    for (const Warning& w : m.warnings) ADD_FAILURE() << w.file_offset << ": " << w.message;
    EXPECT_EQ(m.arch, f.arch);
    EXPECT_EQ(m.threads.size(), f.threads);
    EXPECT_EQ(m.modules.size(), f.modules);
    // Every thread that has a stack pointer has its stack found.
    for (const Thread& t : m.threads) {
      if (t.sp && *t.sp != 0) {
        EXPECT_TRUE(t.stack_region.has_value()) << t.tid;
      }
    }
  }
}

TEST(MinidumpCorpus, FullMemoryDumpMapsMarkersToTheirFileOffsets) {
  const auto zst = corpus_dir() / "fullmem-full.dmp.zst";
  ASSERT_TRUE(std::filesystem::exists(zst)) << "missing " << zst;
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("dg-minidump-test-" + std::to_string(::getpid()) + ".dmp");
  const std::string cmd = "zstd -q -d -f -o '" + tmp.string() + "' '" + zst.string() + "'";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "zstd CLI not available";
  const auto bytes = read_file(tmp);
  std::filesystem::remove(tmp);
  ASSERT_EQ(bytes.size(), 111'780'885u);
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  const DumpModel& m = *result;
  EXPECT_TRUE(m.complete);
  EXPECT_TRUE(m.warnings.empty());
  EXPECT_EQ(m.threads.size(), 4u);  // lldb and SOURCE.md: 4 threads, 8 modules
  EXPECT_EQ(m.modules.size(), 8u);
  // SOURCE.md: the marker is at vaddr 0x34d420 (ASCII) and 0x34fe10 (UTF-16LE), file
  // offsets 3,287,093 and 3,297,829; the vaddrs are translated through our regions here.
  auto to_offset = [&](std::uint64_t vaddr) -> std::optional<std::uint64_t> {
    for (const Region& r : m.regions)
      if (r.vaddr && vaddr >= *r.vaddr && vaddr - *r.vaddr < r.size) return r.file_offset + (vaddr - *r.vaddr);
    return std::nullopt;
  };
  EXPECT_EQ(to_offset(0x34d420), 3'287'093u);
  EXPECT_EQ(to_offset(0x34fe10), 3'297'829u);
  const std::string marker = "dumpguard-conformance-marker-7f3a9c";
  const auto at = to_offset(0x34d420);
  ASSERT_TRUE(at);
  EXPECT_EQ(0, std::memcmp(bytes.data() + *at, marker.data(), marker.size()));
}

TEST(MinidumpCorpus, MalformedDumpsGiveWarningsNotErrors) {
  for (const char* name : {"invalid-range.dmp", "invalid-record-count.dmp"}) {
    SCOPED_TRACE(name);
    const auto bytes = read_file(corpus_dir() / name);
    ASSERT_FALSE(bytes.empty());
    auto result = read_minidump(bytes);
    ASSERT_TRUE(result.ok()) << describe(result.error());
    expect_sound(*result, bytes.size());
    EXPECT_FALSE(result->complete);
    EXPECT_FALSE(result->warnings.empty());
    EXPECT_FALSE(result->unaccounted.empty());
  }
}

}  // namespace
}  // namespace dumpguard

namespace dumpguard {
namespace {

// A Windows process environment reached through TEB → PEB → ProcessParameters (x64 offsets
// 0x60, 0x20, 0x80), built from those pages alone; then the same chain broken at each link.
std::vector<std::byte> environment_dump(bool terminated, std::uint64_t peb_pointer) {
  constexpr std::uint64_t kTeb = 0x7ffde000, kPeb = 0x7ffdf000, kParams = 0x20000, kEnv = 0x30000;
  MinidumpBuilder b;
  LeBytes teb;
  teb.zeros(0x60).u64(peb_pointer).zeros(0x18);
  LeBytes peb;
  peb.zeros(0x20).u64(kParams).zeros(0x18);
  LeBytes params;
  params.zeros(0x80).u64(kEnv).zeros(0x18);
  LeBytes env;
  for (const char* var : {"PATH=C:\\Windows", "=C:=C:\\app", "API_TOKEN=not-a-real-token-1234"}) {
    for (const char* c = var; *c != 0; ++c) env.u16(static_cast<std::uint16_t>(*c));
    env.u16(0);
  }
  if (terminated) env.u16(0);
  const Loc teb_at = b.add(teb), peb_at = b.add(peb), params_at = b.add(params), env_at = b.add(env);
  const Loc ctx = b.add(MinidumpBuilder::amd64_context(0));
  b.stream(kSystemInfo, MinidumpBuilder::system_info(9));
  b.stream(kThreadList, MinidumpBuilder::list({MinidumpBuilder::thread(0x10, 0, Loc{}, ctx)}));
  b.stream(kMemoryList, MinidumpBuilder::list({
                            MinidumpBuilder::memory_descriptor(kTeb, teb_at),
                            MinidumpBuilder::memory_descriptor(kPeb, peb_at),
                            MinidumpBuilder::memory_descriptor(kParams, params_at),
                            MinidumpBuilder::memory_descriptor(kEnv, env_at),
                        }));
  return b.build();
}

TEST(MinidumpReader, WindowsEnvironmentThroughTebAndPeb) {
  const auto bytes = environment_dump(true, 0x7ffdf000);
  auto result = read_minidump(bytes);
  ASSERT_TRUE(result.ok()) << describe(result.error());
  ASSERT_EQ(result->environment.size(), 1u);
  const EnvironmentBlock& e = result->environment[0];
  EXPECT_EQ(e.encoding, "utf16le");
  EXPECT_EQ(e.variables, 3u);
  EXPECT_EQ(e.vaddr, 0x30000u);
  // The block ends with the empty string's terminator.
  EXPECT_EQ(bytes[e.file_offset + e.size - 1], std::byte{0});
  EXPECT_EQ(bytes[e.file_offset], std::byte{'P'});
  // `DG_WRITE_MINIDUMP_SEED=DIR` keeps this dump as a fuzz seed (fuzz/corpus/minidump).
  if (const char* dir = std::getenv("DG_WRITE_MINIDUMP_SEED")) {
    std::ofstream out(std::string(dir) + "/windows_environment.dmp", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

TEST(MinidumpReader, BrokenEnvironmentChainsGiveNoBlock) {
  const std::pair<const char*, std::vector<std::byte>> cases[] = {
      {"no terminating empty string", environment_dump(false, 0x7ffdf000)},
      {"PEB pointer to memory the dump lacks", environment_dump(true, 0x12345000)},
      {"no PEB", environment_dump(true, 0)},
  };
  for (const auto& [what, bytes] : cases) {
    auto result = read_minidump(bytes);
    ASSERT_TRUE(result.ok()) << describe(result.error());
    EXPECT_TRUE(result->environment.empty()) << what;
  }
}

}  // namespace
}  // namespace dumpguard
