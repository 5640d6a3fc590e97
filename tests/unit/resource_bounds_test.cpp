// Small hostile files that once cost far more than their size: memory ranges that all repeat
// one block, PT_LOADs and PT_NOTEs over the same bytes, and a region for every 12 or 16 bytes
// of the file. Each is built here byte by byte. The readers must keep the model bounded and
// say that the dump is incomplete; the scan must pass over each byte of the file once (its
// progress total is the work it plans), and findings in shared bytes keep a region and an
// address. `DG_WRITE_BOUNDS_SEEDS=DIR` writes a small version of each shape to
// DIR/minidump and DIR/elf_core (the fuzz corpora).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/aes_key_expansion.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"
#include "fixtures/detector_harness.hpp"
#include "fixtures/elf_core_builder.hpp"
#include "fixtures/minidump_builder.hpp"
#include "format/elf_core.hpp"
#include "format/minidump.hpp"

namespace dumpguard {
namespace {

using testing::BuiltCore;
using testing::Bytes;
using testing::ElfCoreBuilder;
using testing::LeBytes;
using testing::Loc;
using testing::MinidumpBuilder;

constexpr std::uint32_t kMemoryList = 5;
// The limit docs/formats.md states; inputs are sized from it, not from kMaxRegions, so that the tests
// still build their files when the limit is taken away.
constexpr std::size_t kDocumentedLimit = 131072;

// An AES-256 encryption schedule (FIPS-197 5.2) of `key`, in FIPS byte order.
std::vector<std::uint8_t> aes256_schedule(const std::vector<std::uint8_t>& key) {
  std::array<std::uint32_t, aes::kMaxScheduleWords> w{};
  for (unsigned i = 0; i < 8; ++i) {
    w[i] = (std::uint32_t{key[4 * i]} << 24) | (std::uint32_t{key[4 * i + 1]} << 16) |
           (std::uint32_t{key[4 * i + 2]} << 8) | key[4 * i + 3];
  }
  for (unsigned i = 8; i < aes::schedule_words(8); ++i) w[i] = w[i - 8] ^ aes::expansion_term(i, 8, w[i - 1]);
  std::vector<std::uint8_t> out;
  for (unsigned i = 0; i < aes::schedule_words(8); ++i) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>((w[i] >> s) & 0xFF));
  }
  return out;
}

// `size` bytes of text-like filler with an AES-256 schedule at `at`.
std::vector<std::uint8_t> block_with_schedule(std::size_t size, std::size_t at) {
  std::vector<std::uint8_t> block(size, 'x');
  const auto schedule = aes256_schedule(test::seeded_bytes(32, 22));
  std::copy(schedule.begin(), schedule.end(), block.begin() + static_cast<std::ptrdiff_t>(at));
  return block;
}

constexpr std::uint64_t kRangeStart = 0x10000000;
constexpr std::uint64_t kRangeStep = 0x100000;

// A MemoryList of `count` descriptors that all point at one block.
struct SharedBlockDump {
  std::vector<std::byte> bytes;
  Loc block;
};
SharedBlockDump minidump_shared_block(std::size_t count, const std::vector<std::uint8_t>& block) {
  MinidumpBuilder b;
  LeBytes data;
  for (std::uint8_t v : block) data.u8(v);
  const Loc at = b.add(data);
  std::vector<LeBytes> descriptors;
  for (std::size_t i = 0; i < count; ++i) {
    descriptors.push_back(MinidumpBuilder::memory_descriptor(kRangeStart + i * kRangeStep, at));
  }
  b.stream(kMemoryList, MinidumpBuilder::list(descriptors));
  return {b.build(), at};
}

// A MemoryList of `count` one-byte ranges, each at a byte of its own: 17 bytes per region.
std::vector<std::byte> minidump_tiny_ranges(std::size_t count) {
  MinidumpBuilder b;
  const Loc data = b.add_fill(count, 0x5a);
  std::vector<LeBytes> descriptors;
  for (std::size_t i = 0; i < count; ++i) {
    descriptors.push_back(MinidumpBuilder::memory_descriptor(kRangeStart + i * 0x1000,
                                                             Loc{1, data.rva + static_cast<std::uint32_t>(i)}));
  }
  b.stream(kMemoryList, MinidumpBuilder::list(descriptors));
  return b.build();
}

// `count` PT_LOADs over the same file bytes (the first one's), at addresses of their own.
BuiltCore core_repeated_loads(std::size_t count, const std::vector<std::uint8_t>& block, std::uint64_t offset = 0) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  Bytes data;
  for (std::uint8_t v : block) data.push_back(std::byte{v});
  b.load(kRangeStart, testing::kPfR | testing::kPfW, data);
  for (std::size_t i = 1; i < count; ++i) {
    b.load(kRangeStart + i * kRangeStep, testing::kPfR | testing::kPfW, {}, block.size(), block.size(), offset);
  }
  BuiltCore core = b.build();
  if (offset == 0) return core_repeated_loads(count, block, core.load_offsets[0]);  // now that it is known
  return core;
}

// One PT_NOTE of `count` notes with empty descriptors: 16 bytes per region.
BuiltCore core_empty_notes(std::size_t count) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  for (std::size_t i = 0; i < count; ++i) b.note("", 0x100, {});
  return b.build();
}

// `count` PT_NOTE headers that all name one segment (a thread and an NT_FILE note).
BuiltCore core_repeated_note_segments(std::size_t count) {
  ElfCoreBuilder b(true, testing::kEmX86_64);
  b.note("CORE", 1 /* NT_PRSTATUS */, b.prstatus(7, kRangeStart + 0x40))
      .note("CORE", 0x46494c45 /* NT_FILE */,
            b.nt_file({{kRangeStart, kRangeStart + 0x1000, 0, "/lib/one.so"},
                       {kRangeStart + 0x1000, kRangeStart + 0x2000, 1, "/lib/one.so"}}));
  b.load(kRangeStart, testing::kPfR | testing::kPfW, testing::filled(0x100, 1));
  // Placeholders with no file bytes, turned into copies of the PT_NOTE header below.
  for (std::size_t i = 1; i < count; ++i) b.load(kRangeStart + i * kRangeStep, testing::kPfR, {}, 0x1000, 0);
  BuiltCore core = b.build();
  const std::uint64_t phentsize = 56;
  for (std::size_t i = 2; i < count + 1; ++i) {  // header 0 is the PT_NOTE, 1 the real PT_LOAD
    const std::uint64_t at = core.phoff + i * phentsize;
    std::copy_n(core.bytes.begin() + static_cast<std::ptrdiff_t>(core.phoff), phentsize,
                core.bytes.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return core;
}

// Every byte of the file is in a region or an unaccounted range.
void expect_every_byte_accounted(const DumpModel& m, std::uint64_t file_size) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const Region& r : m.regions) ranges.emplace_back(r.file_offset, r.file_offset + r.size);
  for (const ByteRange& u : m.unaccounted) ranges.emplace_back(u.file_offset, u.file_offset + u.size);
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t cursor = 0;
  for (const auto& [begin, end] : ranges) {
    EXPECT_LE(begin, cursor) << "bytes [" << cursor << ", " << begin << ") are nowhere";
    cursor = std::max(cursor, end);
  }
  EXPECT_EQ(cursor, file_size);
}

bool has_warning(const DumpModel& m, const std::string& part) {
  for (const Warning& w : m.warnings) {
    if (w.message.find(part) != std::string::npos) return true;
  }
  return false;
}

std::size_t memory_regions(const DumpModel& m) {
  std::size_t n = 0;
  for (const Region& r : m.regions) n += r.vaddr.has_value();
  return n;
}

// Opens `bytes` as a dump file and scans it with the AES detector alone, noting the bytes the
// scan planned to pass over.
struct Scanned {
  ScanReport report;
  std::uint64_t planned = 0;
  std::uint64_t file_size = 0;
};
Scanned scan_bytes(std::span<const std::byte> bytes, const char* name) {
  const std::string path = ::testing::TempDir() + "resource-bounds-" + name + "-" + std::to_string(::getpid());
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  Scanned s;
  s.file_size = bytes.size();
  auto dump = open_dump(path, OpenOptions{});
  std::remove(path.c_str());
  EXPECT_TRUE(dump) << dump.error().message;
  if (!dump) return s;
  ScanOptions options;
  options.fingerprint_key = test::seeded_bytes(32, 4);
  options.detectors = {"aes-schedule"};
  options.threads = 2;
  ProgressObserver observer([&](const Progress& p) {
    if (p.step == "structure") s.planned = std::max(s.planned, p.total);
  });
  s.report = scan_dump(*dump, options, &observer);
  return s;
}

TEST(ResourceBounds, MinidumpRangesSharingOneBlockAreScannedOnce) {
  constexpr std::size_t kCount = 2000;
  constexpr std::size_t kAt = 0x3000;
  const auto dump = minidump_shared_block(kCount, block_with_schedule(0x8000, kAt));
  auto model = read_minidump(dump.bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  // The ranges stay in the model, and the dump reads as incomplete.
  EXPECT_EQ(memory_regions(*model), kCount);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "1999 regions overlap")) << model->warnings.front().message;

  const Scanned s = scan_bytes(dump.bytes, "minidump");
  EXPECT_GT(s.planned, 0u);
  EXPECT_LE(s.planned, s.file_size);  // was kCount times the block
  ASSERT_EQ(s.report.findings.size(), 1u);
  const Finding& f = s.report.findings[0];
  EXPECT_EQ(f.file_offset, dump.block.rva + kAt);
  // The bytes keep the first range's region and address.
  ASSERT_TRUE(f.region.has_value());
  ASSERT_TRUE(f.vaddr.has_value());
  EXPECT_EQ(*f.vaddr, kRangeStart + kAt);
  EXPECT_EQ(*f.vaddr - *model->regions[*f.region].vaddr, f.file_offset - model->regions[*f.region].file_offset);
}

TEST(ResourceBounds, CoreLoadsOverOneBlockAreScannedOnce) {
  constexpr std::size_t kCount = 2000;
  constexpr std::size_t kAt = 0x5000;
  const BuiltCore core = core_repeated_loads(kCount, block_with_schedule(0x8000, kAt));
  auto model = read_elf_core(core.bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_EQ(memory_regions(*model), kCount);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "overlaps segment"));

  const Scanned s = scan_bytes(core.bytes, "core");
  EXPECT_GT(s.planned, 0u);
  EXPECT_LE(s.planned, s.file_size);
  ASSERT_EQ(s.report.findings.size(), 1u);
  const Finding& f = s.report.findings[0];
  EXPECT_EQ(f.file_offset, core.load_offsets[0] + kAt);
  ASSERT_TRUE(f.region.has_value());
  ASSERT_TRUE(f.vaddr.has_value());
  EXPECT_EQ(*f.vaddr, kRangeStart + kAt);
}

TEST(ResourceBounds, PartlyOverlappingRangesKeepEveryByteOnceWithItsAddress) {
  // Three ranges over one block: the whole, its second half, and a range that starts inside
  // it and runs past its end. The scan covers each byte once; a schedule in the part only the
  // third range holds gets the third range's address.
  MinidumpBuilder b;
  const auto block = block_with_schedule(0x4000, 0x3000);
  LeBytes data;
  for (std::uint8_t v : block) data.u8(v);
  const Loc at = b.add(data);
  b.stream(kMemoryList,
           MinidumpBuilder::list({MinidumpBuilder::memory_descriptor(0x100000, Loc{0x2000, at.rva}),
                                  MinidumpBuilder::memory_descriptor(0x200000, Loc{0x1000, at.rva + 0x1000}),
                                  MinidumpBuilder::memory_descriptor(0x300000, Loc{0x3000, at.rva + 0x1000})}));
  const auto bytes = b.build();
  const Scanned s = scan_bytes(bytes, "partial");
  EXPECT_LE(s.planned, bytes.size());
  ASSERT_EQ(s.report.findings.size(), 1u);
  ASSERT_TRUE(s.report.findings[0].vaddr.has_value());
  EXPECT_EQ(*s.report.findings[0].vaddr, 0x300000u + 0x2000u);
}

TEST(ResourceBounds, TheOverlapWarningOutlivesTheCapOnWarnings) {
  // 300 ranges outside the file (a warning each, past the cap of 256), then two over one block:
  // the reason the dump is incomplete is still named.
  MinidumpBuilder b;
  const Loc block = b.add_fill(0x100, 7);
  std::vector<LeBytes> descriptors;
  for (std::uint32_t i = 0; i < 300; ++i) {
    descriptors.push_back(MinidumpBuilder::memory_descriptor(0x1000 * (i + 1), Loc{0x10, 0xF0000000 + i}));
  }
  descriptors.push_back(MinidumpBuilder::memory_descriptor(0x900000, block));
  descriptors.push_back(MinidumpBuilder::memory_descriptor(0xA00000, block));
  b.stream(kMemoryList, MinidumpBuilder::list(descriptors));
  auto model = read_minidump(b.build());
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_TRUE(has_warning(*model, "1 regions overlap"));
  EXPECT_TRUE(has_warning(*model, "more warnings not shown"));
}

TEST(ResourceBounds, MinidumpRegionsStopAtTheLimitAndTheRestIsScannedRaw) {
  const auto bytes = minidump_tiny_ranges(kDocumentedLimit + 1000);
  auto model = read_minidump(bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_EQ(model->regions.size(), kDocumentedLimit);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "more than 131072 regions"));
  expect_every_byte_accounted(*model, bytes.size());
  EXPECT_FALSE(model->unaccounted.empty());
}

TEST(ResourceBounds, CoreNotesStopAtTheLimitAndTheRestIsScannedRaw) {
  const BuiltCore core = core_empty_notes(kDocumentedLimit + 1000);
  auto model = read_elf_core(core.bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_EQ(model->regions.size(), kDocumentedLimit);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "limit of regions"));
  expect_every_byte_accounted(*model, core.bytes.size());
  // The notes not modelled are one unaccounted range at the segment's end.
  ASSERT_FALSE(model->unaccounted.empty());
  EXPECT_EQ(model->unaccounted.back().file_offset + model->unaccounted.back().size, core.bytes.size());
}

TEST(ResourceBounds, CoreLoadsStopAtTheLimit) {
  // One byte of file per PT_LOAD (a 56-byte header each): the limit, not the file, bounds them.
  // More than e_phnum can hold: PN_XNUM, with the count in section 0.
  ElfCoreBuilder b(true, testing::kEmX86_64);
  for (std::size_t i = 0; i < kDocumentedLimit + 100; ++i) b.load(kRangeStart + i * 0x1000, testing::kPfR, testing::filled(1, 3));
  b.pn_xnum();
  const BuiltCore core = b.build();
  auto model = read_elf_core(core.bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_EQ(model->regions.size(), kDocumentedLimit);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "more than 131072 regions"));
  expect_every_byte_accounted(*model, core.bytes.size());
}

TEST(ResourceBounds, RepeatedNoteSegmentsAreReadOnce) {
  const BuiltCore core = core_repeated_note_segments(500);
  auto model = read_elf_core(core.bytes);
  ASSERT_TRUE(model.ok()) << describe(model.error());
  EXPECT_EQ(model->threads.size(), 1u);  // not one per PT_NOTE header
  std::size_t notes = 0;
  for (const Region& r : model->regions) notes += r.owner.name.starts_with("NT_");
  EXPECT_EQ(notes, 2u);
  EXPECT_FALSE(model->complete);
  EXPECT_TRUE(has_warning(*model, "overlaps segment"));
}

TEST(ResourceBounds, WriteFuzzSeeds) {
  const char* dir = std::getenv("DG_WRITE_BOUNDS_SEEDS");
  if (dir == nullptr) GTEST_SKIP() << "set DG_WRITE_BOUNDS_SEEDS to write seeds";
  auto write = [&](const std::string& name, std::span<const std::byte> bytes) {
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  };
  // Small versions of each shape: the fuzzer grows the counts.
  write("minidump/seed-shared-block.dmp", minidump_shared_block(16, std::vector<std::uint8_t>(64, 'x')).bytes);
  write("minidump/seed-tiny-ranges.dmp", minidump_tiny_ranges(64));
  write("elf_core/repeated_loads", core_repeated_loads(16, std::vector<std::uint8_t>(64, 'x')).bytes);
  write("elf_core/empty_notes", core_empty_notes(64).bytes);
  write("elf_core/repeated_note_segments", core_repeated_note_segments(8).bytes);
}

}  // namespace
}  // namespace dumpguard
