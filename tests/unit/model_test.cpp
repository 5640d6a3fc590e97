// The format-independent parts of the model: gap accounting and format detection.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dumpguard/dump.hpp"
#include "format/detect_format.hpp"
#include "io/decompress.hpp"

using namespace dumpguard;

namespace {
Region at(std::uint64_t offset, std::uint64_t size) {
  Region r;
  r.file_offset = offset;
  r.size = size;
  return r;
}
std::vector<std::byte> bytes_of(std::initializer_list<unsigned> v) {
  std::vector<std::byte> out;
  for (unsigned b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}
}  // namespace

TEST(AccountGaps, ReportsEveryByteNoRegionClaims) {
  DumpModel m;
  m.regions = {at(10, 10), at(40, 5)};
  account_gaps(m, 50);
  ASSERT_EQ(m.unaccounted.size(), 3u);
  EXPECT_EQ(m.unaccounted[0].file_offset, 0u);
  EXPECT_EQ(m.unaccounted[0].size, 10u);
  EXPECT_EQ(m.unaccounted[1].file_offset, 20u);
  EXPECT_EQ(m.unaccounted[1].size, 20u);
  EXPECT_EQ(m.unaccounted[2].file_offset, 45u);
  EXPECT_EQ(m.unaccounted[2].size, 5u);
}

TEST(AccountGaps, OverlappingUnsortedAndOversizedRegions) {
  DumpModel m;
  m.regions = {at(30, 100), at(0, 20), at(10, 15), at(500, 10)};  // 30+100 runs past the end
  account_gaps(m, 60);
  ASSERT_EQ(m.unaccounted.size(), 1u);
  EXPECT_EQ(m.unaccounted[0].file_offset, 25u);
  EXPECT_EQ(m.unaccounted[0].size, 5u);
}

TEST(AccountGaps, EmptyModelLeavesTheWholeFileUnaccounted) {
  DumpModel m;
  account_gaps(m, 7);
  ASSERT_EQ(m.unaccounted.size(), 1u);
  EXPECT_EQ(m.unaccounted[0].size, 7u);
}

TEST(DetectFormat, ByMagicOnly) {
  EXPECT_EQ(*detect_format(bytes_of({0x7F, 'E', 'L', 'F', 2, 1})), Format::elf_core);
  EXPECT_EQ(*detect_format(bytes_of({'M', 'D', 'M', 'P', 0x93, 0xA7})), Format::minidump);
  auto unknown = detect_format(bytes_of({'P', 'K', 3, 4}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::unknown_format);
  EXPECT_NE(unknown.error().message.find("--format raw"), std::string::npos);
  EXPECT_FALSE(detect_format({}).ok());
  EXPECT_FALSE(detect_format(bytes_of({0x7F, 'E', 'L'})).ok());  // too short for the magic
}

TEST(DetectCompression, ByMagicOnly) {
  EXPECT_EQ(detect_compression(bytes_of({0x28, 0xB5, 0x2F, 0xFD, 0})), Compression::zstd);
  EXPECT_EQ(detect_compression(bytes_of({0x04, 0x22, 0x4D, 0x18, 0})), Compression::lz4);
  EXPECT_EQ(detect_compression(bytes_of({0xFD, '7', 'z', 'X', 'Z', 0})), Compression::xz);
  EXPECT_EQ(detect_compression(bytes_of({0x7F, 'E', 'L', 'F'})), Compression::none);
  EXPECT_EQ(detect_compression(bytes_of({0x28, 0xB5})), Compression::none);
}

TEST(Decompress, GarbageAfterAMagicIsAnErrorNotAnEmptyDump) {
  // Whether the decoder calls it corrupt or cut short, no bytes came out: that is an error.
  for (auto kind : {Compression::zstd, Compression::lz4, Compression::xz}) {
    auto data = bytes_of({0x28, 0xB5, 0x2F, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
    CompressedInput input(data);
    auto out = decompress(input, kind, DecompressLimits{});
    ASSERT_FALSE(out.ok()) << to_string(kind);
    EXPECT_NE(out.error().message.find(to_string(kind)), std::string::npos) << out.error().message;
  }
}
