// ByteReader: every read is bounds-checked and errors carry absolute file offsets.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>

#include "io/byte_reader.hpp"

using namespace dumpguard;

TEST(ByteReader, ReadsLittleEndianFields) {
  const std::array<std::byte, 8> raw{std::byte{0x01}, std::byte{0x02}, std::byte{0x03}, std::byte{0x04},
                                     std::byte{0x05}, std::byte{0x06}, std::byte{0x07}, std::byte{0x08}};
  ByteReader r(raw);
  EXPECT_EQ(*r.u16le(0), 0x0201u);
  EXPECT_EQ(*r.u32le(4), 0x08070605u);
  EXPECT_EQ(*r.u64le(0), 0x0807060504030201ull);
  EXPECT_EQ(*r.word_le(0, 4), 0x04030201u);
}

TEST(ByteReader, RefusesReadsPastTheEndWithTheAbsoluteOffset) {
  const std::array<std::byte, 6> raw{};
  ByteReader r(std::span<const std::byte>(raw), 0x1000);
  auto v = r.u32le(4);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, Errc::truncated);
  EXPECT_EQ(v.error().offset, 0x1004u);
  EXPECT_FALSE(r.bytes(1, std::numeric_limits<std::uint64_t>::max()).ok());
  EXPECT_FALSE(r.has(std::numeric_limits<std::uint64_t>::max(), 2));
}

TEST(ByteReader, SubReaderKeepsFileOffsets) {
  const std::array<std::byte, 16> raw{};
  ByteReader r(raw, 100);
  auto sub = r.sub(8, 4);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->base(), 108u);
  EXPECT_EQ(sub->u64le(0).error().offset, 108u);
}

TEST(ByteReader, CheckedArithmeticDetectsOverflow) {
  EXPECT_FALSE(checked_add(std::numeric_limits<std::uint64_t>::max(), 1, 0).ok());
  EXPECT_FALSE(checked_mul(1ull << 33, 1ull << 33, 0).ok());
  EXPECT_EQ(*checked_add(2, 3, 0), 5u);
}

TEST(ByteReader, CStringIsBounded) {
  const std::array<std::byte, 4> raw{std::byte{'a'}, std::byte{'b'}, std::byte{0}, std::byte{'c'}};
  ByteReader r(raw);
  EXPECT_EQ(*r.cstring(0, 10), "ab");
  EXPECT_FALSE(r.cstring(3, 10).ok());  // no terminator before the end
}
