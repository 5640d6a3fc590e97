// Runtime numbers found from values alone: a random number of the sizes the RSA hunt seeks,
// and an EC scalar of each size, written here in each layout the hunts read (by the layout
// table's own writer, itself checked against the runtimes' definitions in
// number_layout_test.cpp), is found at its offset amid other data; text, counters, pointers,
// zeros and the top digits of a longer number propose nothing; the JVM's magnitudes need their
// array length; a JVM EC key's DER needs its byte[]'s header; and the layouts read follow the
// runtimes the dump maps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "detect/runtime_numbers.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

// An odd number of exactly `bits` bits, big-endian.
Bytes random_number(std::mt19937_64& random, unsigned bits) {
  Bytes n((bits + 7) / 8);
  for (auto& b : n) b = static_cast<std::uint8_t>(random());
  const unsigned top = bits % 8 == 0 ? 8 : bits % 8;
  n[0] = static_cast<std::uint8_t>((n[0] & ((1u << top) - 1)) | (1u << (top - 1)));
  n.back() |= 1;
  return n;
}

// Data that is not a number: English text, UTF-16LE text, 64-bit counters, pointers, zeros.
Bytes filler(std::mt19937_64& random, std::size_t size) {
  Bytes out;
  const std::string text = "2026-12-07T10:00:00Z INFO request served in 12 ms; user=svc path=/api/v1/items ";
  while (out.size() < size) {
    switch (out.size() / 4096 % 5) {
      case 0:
        out.insert(out.end(), text.begin(), text.end());
        break;
      case 1:
        for (char c : text) out.insert(out.end(), {static_cast<std::uint8_t>(c), 0});
        break;
      case 2:
        for (std::uint64_t i = 0; i < 64; ++i) {
          const std::uint64_t v = out.size() / 8 + i;
          for (unsigned k = 0; k < 8; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
        }
        break;
      case 3:
        for (int i = 0; i < 64; ++i) {
          const std::uint64_t v = 0x00007f0000000000ull | ((random() & 0xFFFFFFFFFull) << 3);
          for (unsigned k = 0; k < 8; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
        }
        break;
      default:
        out.resize(out.size() + 512, 0);
    }
  }
  out.resize(size);
  return out;
}

struct Found {
  std::size_t which;
  std::size_t offset;
  std::string layout;
};

std::vector<Found> search(const Bytes& data, std::span<const NumberLayout* const> layouts,
                          std::span<const unsigned> bits, unsigned word = 8) {
  LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, word, 0};
  std::vector<Found> out;
  for_each_runtime_number(s, layouts, bits, [&](std::size_t which, std::size_t offset, const NumberLayout& l) {
    out.push_back({which, offset, std::string(l.name)});
  });
  return out;
}

std::vector<const NumberLayout*> every_layout(unsigned process_bits) {
  return runtime_layouts(DumpModel{}, process_bits, true);
}

TEST(RuntimeNumbers, EachLayoutFindsANumberPlantedAmidOtherData) {
  std::mt19937_64 random(11);
  const unsigned bits[] = {1024, 2048};
  for (unsigned process_bits : {64u, 32u}) {
    for (const NumberLayout* l : every_layout(process_bits)) {
      if (l->scalars_hunted) continue;  // read for EC scalars only
      SCOPED_TRACE(std::string(l->name));
      for (std::size_t b = 0; b < 2; ++b) {
        const Bytes n = random_number(random, bits[b]);
        const LaidOut laid = lay_out(*l, n, digits_for(*l, bits[b]));
        Bytes data = filler(random, 64 * 1024);
        std::size_t at = 20000 + 8 * (random() % 1000);
        if (l->most_significant_first) {  // the JVM's int[]: its length right before its words
          const std::uint32_t words = static_cast<std::uint32_t>(laid.bytes.size() / 4);
          std::memcpy(data.data() + at - 4, &words, 4);
        }
        std::copy(laid.bytes.begin(), laid.bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
        const auto found = search(data, std::span<const NumberLayout* const>(&l, 1), bits, process_bits / 8);
        const bool hit = std::any_of(found.begin(), found.end(),
                                     [&](const Found& f) { return f.which == b && f.offset == at; });
        ASSERT_TRUE(hit) << bits[b] << " bits at " << at << "; " << found.size() << " other candidates";
        const auto back = read_number(*l, std::span<const std::uint8_t>(data).subspan(at), digits_for(*l, bits[b]),
                                      n.size());
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, n);
        // Nothing else in the data is taken for a number of these sizes.
        EXPECT_LE(found.size(), 1u);
      }
    }
  }
}

TEST(RuntimeNumbers, TextCountersPointersAndZerosProposeNothing) {
  std::mt19937_64 random(12);
  const Bytes data = filler(random, 1 << 20);
  const unsigned bits[] = {1024, 1536, 2048, 3072, 4096};
  for (unsigned process_bits : {64u, 32u}) {
    const auto layouts = every_layout(process_bits);
    ASSERT_FALSE(layouts.empty());
    EXPECT_TRUE(search(data, layouts, bits, process_bits / 8).empty());
  }
}

TEST(RuntimeNumbers, AJvmMagnitudeNeedsItsArrayLength) {
  std::mt19937_64 random(13);
  const unsigned bits[] = {1024};
  const NumberLayout* jvm = &layout_named("jvm-int32");
  const Bytes n = random_number(random, 1024);
  const Bytes words = lay_out(*jvm, n, digits_for(*jvm, 1024)).bytes;
  Bytes data = filler(random, 16 * 1024);
  std::copy(words.begin(), words.end(), data.begin() + 8192);
  EXPECT_TRUE(search(data, std::span<const NumberLayout* const>(&jvm, 1), bits).empty());
  const std::uint32_t count = 32;
  std::memcpy(data.data() + 8188, &count, 4);
  const auto found = search(data, std::span<const NumberLayout* const>(&jvm, 1), bits);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, 8192u);
}

// HotSpot's int[] header (64-bit, JDK 17's markWord): mark word, klass, length, then the
// words. With compressed class pointers the words are 8-byte aligned, without them 4 past that.
TEST(RuntimeNumbers, AWholeJvmArrayHasHotSpotsObjectHeader) {
  const NumberLayout& jvm = layout_named("jvm-int32");
  const auto put = [](Bytes& data, std::size_t at, std::uint64_t v, unsigned width) {
    for (unsigned k = 0; k < width; ++k) data[at + k] = static_cast<std::uint8_t>(v >> (8 * k));
  };
  const auto at = [&](const Bytes& data, std::size_t offset, unsigned word = 8) {
    LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, word, 0};
    return jvm_int_array_at(s, offset, jvm, 8);
  };
  Bytes data(256, 0xA5);
  // Compressed class pointers: mark 0x1 (unlocked, age 0), klass 0x00c0e470, length 8.
  put(data, 64, 0x1, 8);
  put(data, 72, 0x00c0e470, 4);
  put(data, 76, 8, 4);
  EXPECT_TRUE(at(data, 80));
  EXPECT_FALSE(at(data, 80, 4));  // a 32-bit process's objects are laid out otherwise
  put(data, 64, 0x0000003456789a79ull, 8);  // aged 15 times, with an identity hash
  EXPECT_TRUE(at(data, 80));
  for (const std::uint64_t mark : {0x0ull, 0x2ull, 0x3ull, 0x5ull, 0x81ull, 0x0000800000000001ull, 0xA5A5A5A5A5A5A5A5ull}) {
    put(data, 64, mark, 8);
    EXPECT_FALSE(at(data, 80)) << std::hex << mark;  // locked, biased, marked, or not a mark word
  }
  put(data, 64, 0x1, 8);
  put(data, 76, 7, 4);
  EXPECT_FALSE(at(data, 80));  // another length
  put(data, 76, 8, 4);
  put(data, 72, 0, 4);
  EXPECT_FALSE(at(data, 80));  // no klass
  // Without compressed class pointers: mark, a 64-bit klass pointer, length, words 20 bytes in.
  Bytes wide(256, 0xA5);
  put(wide, 128, 0x9, 8);
  put(wide, 136, 0x00007f12345678c0ull, 8);
  put(wide, 144, 8, 4);
  EXPECT_TRUE(at(wide, 148));
  EXPECT_FALSE(at(wide, 152));
  put(wide, 136, 0xA5A5A5A5A5A5A5A5ull, 8);
  EXPECT_FALSE(at(wide, 148));
  // Only the JVM's layout, and never before the data.
  LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, 8, 0};
  EXPECT_FALSE(jvm_int_array_at(s, 80, layout_named("cpython-30"), 8));
  EXPECT_FALSE(jvm_int_array_at(s, 8, jvm, 8));
}

// An EC key's DER as OpenJDK 17's ECPrivateKeyImpl keeps it (SEQUENCE { INTEGER 1, OCTET STRING
// d }, a whole byte[] of the scalar's length + 7): found by the walk over the JVM's arrays at the
// scalar's first byte, for its length, behind a byte[]'s header only, and where the walk's
// positions own the array.
TEST(RuntimeNumbers, AJvmKeysDerIsFoundByItsArrayAndItsSevenBytes) {
  const auto put = [](Bytes& data, std::size_t at, std::uint64_t v, unsigned width) {
    for (unsigned k = 0; k < width; ++k) data[at + k] = static_cast<std::uint8_t>(v >> (8 * k));
  };
  // A byte[] of n + 7 bytes whose first element is at `at`: the DER, then a random scalar.
  std::mt19937_64 random(17);
  const auto plant = [&](Bytes& data, std::size_t at, std::size_t n, bool compressed) {
    put(data, at - (compressed ? 16 : 20), 0x1, 8);
    if (compressed) put(data, at - 8, 0x00c0e470, 4);
    else put(data, at - 12, 0x00007f12345678c0ull, 8);
    put(data, at - 4, n + 7, 4);
    const std::uint8_t der[] = {0x30, static_cast<std::uint8_t>(n + 5), 0x02, 0x01, 0x01, 0x04, static_cast<std::uint8_t>(n)};
    std::copy(std::begin(der), std::end(der), data.begin() + static_cast<std::ptrdiff_t>(at));
    for (std::size_t k = 0; k < n; ++k) data[at + 7 + k] = static_cast<std::uint8_t>(random());
  };
  const std::size_t lengths[] = {32, 48, 66};
  const NumberLayout* jvm[] = {&layout_named("jvm-int32")};
  const auto found = [&](const Bytes& data, unsigned word = 8, std::size_t from = 0, std::size_t to = SIZE_MAX,
                         std::span<const NumberLayout* const> layouts = {}) {
    if (layouts.empty()) layouts = jvm;
    LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, word, 0, from, to};
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for_each_runtime_number(s, layouts, {}, {}, {}, {}, lengths,
                            [&](std::size_t which, std::size_t offset) { out.emplace_back(which, offset); });
    return out;
  };
  using DerHits = std::vector<std::pair<std::size_t, std::size_t>>;
  Bytes data(1024, 0xA5);
  plant(data, 80, 32, true);
  plant(data, 260, 48, false);  // without compressed class pointers: 4 past an 8-byte boundary
  plant(data, 512, 66, true);
  EXPECT_EQ(found(data), (DerHits{{0, 87}, {1, 267}, {2, 519}}));
  EXPECT_EQ(found(data, 4), DerHits{});                    // a 32-bit process's objects are laid out otherwise
  const NumberLayout* cpython[] = {&layout_named("cpython-30")};
  EXPECT_EQ(found(data, 8, 0, SIZE_MAX, cpython), DerHits{});  // only where the JVM's layout is read
  EXPECT_EQ(found(data, 8, 84, 512), (DerHits{{1, 267}}));  // the positions are the arrays' first elements
  Bytes other = data;
  put(other, 76, 40, 4);
  EXPECT_EQ(found(other), (DerHits{{1, 267}, {2, 519}}));  // an array of another length
  other = data;
  put(other, 64, 0xA5A5A5A5A5A5A5A5ull, 8);
  EXPECT_EQ(found(other), (DerHits{{1, 267}, {2, 519}}));  // no object header
  other = data;
  other[84] = 0x02;
  EXPECT_EQ(found(other), (DerHits{{1, 267}, {2, 519}}));  // version 2 is no RFC 5915 key
  other = data;
  other[86] = 0x30;
  EXPECT_EQ(found(other), (DerHits{{1, 267}, {2, 519}}));  // a scalar of another length
  // An array that would run past the data is not read.
  Bytes cut(data.begin(), data.begin() + 100);
  EXPECT_EQ(found(cut), DerHits{});
}

// EC scalars, in the same walk as the RSA sizes: (which, offset, digits) of each.
struct FoundScalar {
  std::size_t which;
  std::size_t offset;
  std::size_t digits;
  const NumberLayout* layout;
};
std::vector<FoundScalar> search_scalars(const Bytes& data, std::span<const NumberLayout* const> layouts,
                                        std::span<const unsigned> scalar_bits, unsigned word = 8) {
  LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, word, 0};
  std::vector<FoundScalar> out;
  const unsigned rsa_bits[] = {1024, 2048};
  for_each_runtime_number(
      s, layouts, rsa_bits, [](std::size_t, std::size_t, const NumberLayout&) {}, scalar_bits,
      [&](std::size_t which, std::size_t offset, const NumberLayout& l, std::size_t digits) {
        out.push_back({which, offset, digits, &l});
      });
  return out;
}

// A scalar of `bits` less `short_by` bits, odd or even: what a key below the group's order is.
Bytes random_scalar(std::mt19937_64& random, unsigned bits, unsigned short_by) {
  Bytes n = random_number(random, bits - short_by);
  n.back() ^= static_cast<std::uint8_t>(random() & 1);
  Bytes out((bits + 7) / 8 - n.size(), 0);
  out.insert(out.end(), n.begin(), n.end());
  return out;
}

TEST(RuntimeNumbers, AV8DigitArrayHasItsFixedArrayHeader) {
  // A FixedArray as V8 lays one out without pointer compression: the map (a tagged pointer),
  // the length as a small integer (the value in the high half), then the elements; here a
  // 256-bit scalar's ten 26-bit digits as small integers, as bn.js keeps them, in an array of
  // eleven (the spare element zero).
  const NumberLayout& l = layout_named("smi64-26");
  std::mt19937_64 random(16);
  Bytes n;
  const std::size_t count = 10;
  for (;;) {
    n = random_scalar(random, 256, 0);
    const LaidOut laid = lay_out(l, n, count);
    bool strong = true;
    for (std::size_t k = 0; k + 1 < count; ++k) strong = strong && digit_of(l, laid.bytes.data() + 8 * k) >= (1u << 13);
    if (strong) break;
  }
  const LaidOut laid = lay_out(l, n, count);
  const auto put = [](Bytes& data, std::size_t at, std::uint64_t v) {
    for (unsigned k = 0; k < 8; ++k) data[at + k] = static_cast<std::uint8_t>(v >> (8 * k));
  };
  Bytes data(1024, 0);
  const std::size_t at = 512;
  put(data, at - 16, 0x00002ba5fbb40211ull);
  put(data, at - 8, std::uint64_t{11} << 32);
  std::copy(laid.bytes.begin(), laid.bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
  put(data, at + 8 * count + 8, 0x00002ba5fbb405b9ull);  // the next object's map
  LimbSearch s{{data.data(), data.size()}, 0x7f0000000000, 8, 0};
  EXPECT_TRUE(v8_digit_array_at(s, at, l, count));
  EXPECT_FALSE(v8_digits_follow(s, at, l, count));
  // The walk proposes it, with its ten digits.
  const NumberLayout* one = &l;
  const unsigned bits[] = {256};
  const auto found = search_scalars(data, std::span<const NumberLayout* const>(&one, 1), bits);
  const auto whole = [&](const FoundScalar& f) { return f.offset == at && f.digits == count; };
  EXPECT_TRUE(std::any_of(found.begin(), found.end(), whole));
  // Stale digits after it (bn.js keeps a product's digits past a reduced number's length): still
  // proposed, and marked as followed by more.
  Bytes stale = data;
  put(stale, at - 8, std::uint64_t{20} << 32);
  for (std::size_t k = count; k < 20; ++k) {
    put(stale, at + 8 * k, (std::uint64_t{0x2000000} | (random() & 0x1FFFFFF)) << 32);
  }
  LimbSearch t{{stale.data(), stale.size()}, 0x7f0000000000, 8, 0};
  EXPECT_TRUE(v8_digit_array_at(t, at, l, count));
  EXPECT_TRUE(v8_digits_follow(t, at, l, count));
  const auto after = search_scalars(stale, std::span<const NumberLayout* const>(&one, 1), bits);
  EXPECT_TRUE(std::any_of(after.begin(), after.end(), whole));
  // Not an array: a map that is no tagged pointer, a length that is no small integer or is
  // shorter than the number, a misaligned start; nor in a 32-bit process, another runtime's
  // layout, or the same digits read as jsbn's 28-bit ones.
  for (const std::uint64_t map : {0x00002ba5fbb40210ull, 0x00002ba5fbb40213ull, 0x0ull, 0xA5A5A5A5A5A5A5A5ull}) {
    Bytes bad = data;
    put(bad, at - 16, map);
    LimbSearch b{{bad.data(), bad.size()}, 0x7f0000000000, 8, 0};
    EXPECT_FALSE(v8_digit_array_at(b, at, l, count)) << std::hex << map;
  }
  for (const std::uint64_t length : {std::uint64_t{11}, std::uint64_t{9} << 32, std::uint64_t{5000} << 32}) {
    Bytes bad = data;
    put(bad, at - 8, length);
    LimbSearch b{{bad.data(), bad.size()}, 0x7f0000000000, 8, 0};
    EXPECT_FALSE(v8_digit_array_at(b, at, l, count)) << std::hex << length;
  }
  LimbSearch misaligned{{data.data(), data.size()}, 0x7f0000000004, 8, 0};
  EXPECT_FALSE(v8_digit_array_at(misaligned, at, l, count));
  LimbSearch narrow{{data.data(), data.size()}, 0x7f0000000000, 4, 0};
  EXPECT_FALSE(v8_digit_array_at(narrow, at, l, count));
  EXPECT_FALSE(v8_digit_array_at(s, at, layout_named("cpython-30"), count));
  EXPECT_FALSE(v8_digit_array_at(s, at, layout_named("smi64-28"), 9));
  EXPECT_FALSE(v8_digit_array_at(s, 8, l, count));
}

TEST(RuntimeNumbers, EachLayoutFindsAScalarPlantedAmidOtherData) {
  std::mt19937_64 random(14);
  const unsigned bits[] = {256, 384, 521};
  for (unsigned process_bits : {64u, 32u}) {
    for (const NumberLayout* l : every_layout(process_bits)) {
      for (std::size_t b = 0; b < 3; ++b) {
        for (unsigned short_by : {0u, 3u, 15u}) {
          SCOPED_TRACE(std::string(l->name) + ", " + std::to_string(bits[b] - short_by) + " bits");
          Bytes n = random_scalar(random, bits[b], short_by);
          const Magnitude m = magnitude_of(n);
          const LaidOut laid = lay_out_magnitude(*l, m);
          // The digits a scalar is proposed from have a bit set in their upper half (the
          // documented blind spot, one scalar in thousands, is drawn again).
          bool strong = true;
          const std::size_t count = laid.bytes.size() / l->slot_bytes;
          for (std::size_t k = 0; k < count; ++k) {
            const bool top = l->most_significant_first ? k == 0 : k + 1 == count;
            if (!top) strong = strong && (digit_of(*l, laid.bytes.data() + k * l->slot_bytes) >> (l->digit_bits / 2)) != 0;
          }
          if (!strong) continue;
          Bytes data = filler(random, 64 * 1024);
          const std::size_t at = 20000 + 8 * (random() % 1000);
          // As runtimes keep them: a size field right before the digits (CPython's ob_size, a V8
          // array's length, the JVM's int[] length), and the next object's header after them.
          const std::uint32_t words = static_cast<std::uint32_t>(count);
          std::fill(data.begin() + static_cast<std::ptrdiff_t>(at - 8),
                    data.begin() + static_cast<std::ptrdiff_t>(at + laid.bytes.size() + 8), 0);
          if (l->most_significant_first) std::memcpy(data.data() + at - 4, &words, 4);
          std::copy(laid.bytes.begin(), laid.bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
          const auto found = search_scalars(data, std::span<const NumberLayout* const>(&l, 1), bits, process_bits / 8);
          // The number, read with the digit count it was written with (and perhaps with one digit
          // fewer, as a shorter scalar); what else the walk proposes, the hunts' test drops.
          for (const FoundScalar& f : found) {
            if (f.offset == at) continue;
            EXPECT_FALSE(number_looks_random(*l, std::span<const std::uint8_t>(data).subspan(f.offset), f.digits,
                                             (bits[f.which] + 7) / 8))
                << "at " << f.offset;
          }
          const auto hit = std::find_if(found.begin(), found.end(), [&](const FoundScalar& f) {
            return f.which == b && f.offset == at && f.digits == count;
          });
          ASSERT_NE(hit, found.end()) << "at " << at << "; " << found.size() << " other candidates";
          const auto back = read_number(*l, std::span<const std::uint8_t>(data).subspan(at), count, n.size());
          ASSERT_TRUE(back);
          EXPECT_EQ(*back, n);
        }
      }
    }
  }
}

TEST(RuntimeNumbers, NoScalarIsProposedFromTextCountersPointersZerosOrInsideALongerNumber) {
  std::mt19937_64 random(15);
  Bytes data = filler(random, 1 << 20);
  const unsigned bits[] = {256, 384, 521};
  // A 2048-bit number in each layout, in place of some zeros: its top digits are no scalar.
  std::size_t at = 4 * 4096 + 64;
  for (const NumberLayout* l : every_layout(64)) {
    if (!l->narrow()) continue;
    const LaidOut laid = lay_out(*l, random_number(random, 2048), digits_for(*l, 2048));
    std::copy(laid.bytes.begin(), laid.bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
    at += 5 * 4096;
  }
  // What the hunts take: candidates whose bytes look random (number_looks_random). The longer
  // numbers are in a 64-bit process's layouts; a 32-bit process's are tried on the filler alone
  // (another layout may read a random number's digits as a random scalar: one multiplication).
  const Bytes plain = filler(random, 1 << 20);
  for (unsigned process_bits : {64u, 32u}) {
    const auto layouts = every_layout(process_bits);
    const Bytes& searched = process_bits == 64 ? data : plain;
    LimbSearch s{{searched.data(), searched.size()}, 0x7f0000000000, process_bits / 8, 0};
    for (const FoundScalar& f : search_scalars(searched, layouts, bits, process_bits / 8)) {
      // In V8's layouts a longer number's first digits are proposed (a number followed by its
      // array's stale digits), and marked as followed by more, which the hunts never multiply.
      if (f.layout->name.starts_with("smi") && v8_digits_follow(s, f.offset, *f.layout, f.digits)) continue;
      EXPECT_FALSE(number_looks_random(*f.layout, std::span<const std::uint8_t>(searched).subspan(f.offset), f.digits,
                                       (bits[f.which] + 7) / 8))
          << f.layout->name << " at " << f.offset;
    }
  }
}

TEST(RuntimeNumbers, TheLayoutsReadFollowTheRuntimesTheDumpMaps) {
  const auto names = [](const DumpModel& model, unsigned process_bits) {
    std::vector<std::string> out;
    for (const NumberLayout* l : runtime_layouts(model, process_bits, false)) out.emplace_back(l->name);
    return out;
  };
  using Names = std::vector<std::string>;
  DumpModel plain;
  plain.modules = {{"/usr/sbin/nginx", 0x1000, 0x1000}, {"/usr/lib/x86_64-linux-gnu/libc.so.6", 0x3000, 0x1000}};
  EXPECT_EQ(names(plain, 64), Names{});
  DumpModel python = plain;
  python.modules.push_back({"/usr/bin/python3.11", 0x5000, 0x1000});
  EXPECT_EQ(names(python, 64), Names{"cpython-30"});
  EXPECT_EQ(names(python, 32), Names{"cpython-15"});
  DumpModel node = plain;
  node.modules.push_back({"/usr/bin/node", 0x5000, 0x1000});
  EXPECT_EQ(names(node, 64), (Names{"smi64-26", "smi64-28", "smi32-28"}));
  DumpModel jvm = plain;
  jvm.modules.push_back({"/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", 0x5000, 0x1000});
  EXPECT_EQ(names(jvm, 64), Names{"jvm-int32"});
  DumpModel windows = plain;
  windows.modules.push_back({"C:\\Program Files\\Dropbear\\DROPBEAR.EXE", 0x5000, 0x1000});
  EXPECT_EQ(names(windows, 64), Names{"limb60-64"});
  // A raw image names no module: every layout is read.
  EXPECT_EQ(runtime_layouts(DumpModel{}, 64, false).size(), runtime_layouts(plain, 64, true).size());
  EXPECT_GE(runtime_layouts(DumpModel{}, 64, false).size(), 4u);
}

}  // namespace
}  // namespace dumpguard
