// The layout table: each runtime's layout written out by hand here, from the runtime's own
// definition, and compared with what lay_out() makes of the same number; then every layout
// reads back what it writes, and rejects slots that are not digits of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "detect/number_layout.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

// 2^64 + 2^32·3 + 5, big-endian: 01 00000003 00000005 as bytes.
const Bytes kNumber = {0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05};

void append_le(Bytes& out, std::uint64_t v, unsigned width) {
  for (unsigned i = 0; i < width; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The number's digits of `bits` bits, least significant first (by long division on 128 bits).
std::vector<std::uint64_t> digits_of(unsigned bits) {
  // kNumber = 2^64 + 3·2^32 + 5 fits in 65 bits: hold it as (hi, lo).
  std::uint64_t lo = (std::uint64_t{3} << 32) | 5, hi = 1;
  std::vector<std::uint64_t> out;
  while (hi != 0 || lo != 0) {
    const std::uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    out.push_back(lo & mask);
    lo = bits >= 64 ? hi : (lo >> bits) | (bits == 0 ? 0 : hi << (64 - bits));
    hi = bits >= 64 ? 0 : hi >> bits;
  }
  return out;
}

Bytes by_hand(const NumberLayout& l) {
  Bytes out;
  const auto digits = digits_of(l.digit_bits);
  std::vector<std::uint64_t> slots;
  for (std::uint64_t d : digits) slots.push_back((d << l.shift) | l.tag);
  if (l.most_significant_first) std::reverse(slots.begin(), slots.end());
  for (std::uint64_t s : slots) {
    if (l.slot_big_endian) {
      for (unsigned i = l.value_bytes; i-- > 0;) out.push_back(static_cast<std::uint8_t>(s >> (8 * i)));
    } else {
      append_le(out, s, l.value_bytes);
    }
    out.resize(out.size() + (l.slot_bytes - l.value_bytes), 0);
  }
  return out;
}

TEST(NumberLayout, RuntimesLayoutsWrittenByHand) {
  // The JVM: int[] mag, most significant word first, each word little-endian on x86.
  EXPECT_EQ(lay_out(layout_named("jvm-int32"), kNumber, 3).bytes,
            (Bytes{1, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0}));
  // CPython: 30-bit digits, least significant first, in uint32.
  // Bits 0..29 hold 5; bits 30..59 hold 3·2^32 >> 30 = 12; bit 64 is bit 4 of the third digit.
  EXPECT_EQ(lay_out(layout_named("cpython-30"), kNumber, 3).bytes, (Bytes{5, 0, 0, 0, 12, 0, 0, 0, 16, 0, 0, 0}));
  // V8 small integers in 64-bit slots: the digit in the high half, zeros below.
  const Bytes smi = lay_out(layout_named("smi64-28"), kNumber, 3).bytes;
  ASSERT_EQ(smi.size(), 24u);
  EXPECT_EQ((Bytes(smi.begin(), smi.begin() + 4)), (Bytes{0, 0, 0, 0}));
  EXPECT_EQ((Bytes(smi.begin() + 4, smi.begin() + 8)), (Bytes{5, 0, 0, 0}));  // bits 0..27 of the number
  // Tagged (n << 1 | 1): the tag bit is set in every slot.
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(lay_out(layout_named("tagged63-30"), kNumber, 2).bytes[8 * i] & 1, 1);
  for (const NumberLayout& l : number_layouts()) {
    const Bytes hand = by_hand(l);
    EXPECT_EQ(lay_out(l, kNumber, digits_for(l, 65)).bytes, hand) << l.name;
  }
}

TEST(NumberLayout, EveryLayoutReadsBackWhatItWrites) {
  std::mt19937_64 random(7);
  for (const NumberLayout& l : number_layouts()) {
    for (std::size_t len : {8, 32, 128, 192}) {
      Bytes n(len);
      for (auto& b : n) b = static_cast<std::uint8_t>(random());
      n[0] |= 0x80;
      const std::size_t digits = digits_for(l, 8 * len);
      const LaidOut laid = lay_out(l, n, digits);
      ASSERT_EQ(laid.bytes.size(), digits * l.slot_bytes);
      const auto back = read_number(l, laid.bytes, digits, len);
      ASSERT_TRUE(back) << l.name;
      EXPECT_EQ(*back, n) << l.name;
      for (std::size_t s = 0; s < digits; ++s) EXPECT_TRUE(valid_slot(l, laid.bytes.data() + s * l.slot_bytes));
    }
  }
}

TEST(NumberLayout, SlotsThatAreNotDigitsAreRefused) {
  // A set bit above a CPython digit, a cleared tag, a V8 slot with its low half set.
  Bytes word = {0, 0, 0, 0x40};
  EXPECT_FALSE(valid_slot(layout_named("cpython-30"), word.data()));
  word = {0x02, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(valid_slot(layout_named("tagged63-30"), word.data()));
  word = {1, 0, 0, 0, 5, 0, 0, 0};
  EXPECT_FALSE(valid_slot(layout_named("smi64-28"), word.data()));
  word = {0, 0, 0, 0, 5, 0, 0, 0};
  EXPECT_TRUE(valid_slot(layout_named("smi64-28"), word.data()));
  EXPECT_FALSE(read_number(layout_named("cpython-30"), Bytes{0, 0, 0, 0x40, 1, 0, 0, 0}, 2, 8));
  // A number that does not fit the output is refused, not cut.
  EXPECT_FALSE(read_number(layout_named("le"), Bytes{1, 2, 3}, 3, 2));
}

}  // namespace
}  // namespace dumpguard
