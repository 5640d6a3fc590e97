// The ASCII stretch finder of the text rules (src/rules/ascii_stretches.cpp) against a
// byte-by-byte definition written here, on every vector width this CPU has: runs of text of
// exactly the minimum length and one less, across 64-byte block edges and the end of the
// buffer, long runs over several blocks, stretches joined or kept apart by the gap between
// them, and random bytes with text mixed in.
#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "rules/ascii_stretches.hpp"

namespace dumpguard {
namespace {

namespace ascii = rules::ascii;
using Stretches = std::vector<std::pair<std::size_t, std::size_t>>;

bool text(std::uint8_t c) { return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n' || c == '\r'; }

// The definition: a block of 64 bytes holds text when one of its bytes ends min_chars text
// bytes in a row (counted from anywhere before it); each such block, widened by the margin,
// is covered; covered bytes closer than `join` are one stretch.
Stretches reference(const std::vector<std::uint8_t>& b, std::size_t min_chars, std::size_t margin, std::size_t join) {
  std::vector<bool> holds((b.size() + 63) / 64, false);
  std::size_t run = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    run = text(b[i]) ? run + 1 : 0;
    if (run >= min_chars) holds[i / 64] = true;
  }
  Stretches out;
  for (std::size_t k = 0; k < holds.size(); ++k) {
    if (!holds[k]) continue;
    const std::size_t from = 64 * k > margin ? 64 * k - margin : 0, to = std::min(b.size(), 64 * k + 64 + margin);
    if (!out.empty() && from <= out.back().second + join) {
      out.back().second = to;
    } else {
      out.emplace_back(from, to);
    }
  }
  return out;
}

Stretches found(ascii::Width width, const std::vector<std::uint8_t>& b, std::size_t min_chars, std::size_t margin,
                std::size_t join) {
  Stretches out;
  ascii::find_stretches(width, b, min_chars, margin, join, [&](std::size_t from, std::size_t to) { out.emplace_back(from, to); });
  return out;
}

std::vector<ascii::Width> widths_here() {
  std::vector<ascii::Width> widths;
  for (auto w : {ascii::Width::sse2, ascii::Width::avx2, ascii::Width::avx512}) {
    if (simd::cpu_has(w)) widths.push_back(w);
  }
  return widths;
}

void expect_same(const std::vector<std::uint8_t>& b, std::size_t min_chars, std::size_t margin, std::size_t join) {
  const Stretches want = reference(b, min_chars, margin, join);
  for (ascii::Width w : widths_here()) {
    EXPECT_EQ(found(w, b, min_chars, margin, join), want)
        << "width " << static_cast<int>(w) << ", " << b.size() << " bytes, min " << min_chars;
  }
}

std::vector<std::uint8_t> binary(std::size_t n) { return std::vector<std::uint8_t>(n, 0x01); }

void put_text(std::vector<std::uint8_t>& b, std::size_t at, std::size_t chars) {
  for (std::size_t k = 0; k < chars && at + k < b.size(); ++k) b[at + k] = static_cast<std::uint8_t>('a' + k % 26);
}

TEST(AsciiStretches, BinaryBytesHaveNone) {
  for (std::size_t n : {0, 1, 63, 64, 65, 4096, 5000}) {
    for (ascii::Width w : widths_here()) EXPECT_TRUE(found(w, binary(n), 8, 64, 256).empty()) << n;
  }
}

TEST(AsciiStretches, RunsOfTheMinimumAndOneLessEverywhere) {
  for (std::size_t at : {0, 1, 56, 57, 60, 63, 64, 120, 127, 4090, 8188}) {
    for (std::size_t chars : {7, 8, 9, 64, 65, 200}) {
      auto b = binary(8192 + 3);
      put_text(b, at, chars);
      expect_same(b, 8, 64, 256);
      expect_same(b, 8, 0, 0);
    }
  }
}

TEST(AsciiStretches, TabsAndLineBreaksAreTextOtherControlsAndHighBytesAreNot) {
  auto b = binary(1024);
  const std::uint8_t line[] = {'k', '=', '\t', 'v', 'a', 'l', '\r', '\n'};
  std::copy(std::begin(line), std::end(line), b.begin() + 300);
  auto high = binary(1024);
  const std::uint8_t utf8[] = {'p', 0xC3, 0xA4, 's', 's', 'w', 'o', 'r', 't'};
  std::copy(std::begin(utf8), std::end(utf8), high.begin() + 300);
  for (ascii::Width w : widths_here()) {
    EXPECT_EQ(found(w, b, 8, 64, 256), (Stretches{{256 - 64, 320 + 64}})) << static_cast<int>(w);
    EXPECT_TRUE(found(w, high, 8, 64, 256).empty()) << static_cast<int>(w);
  }
}

TEST(AsciiStretches, NearStretchesJoinAndFarOnesDoNot) {
  for (std::size_t gap : {0, 64, 128, 192, 256, 320, 384, 512, 1024}) {
    auto b = binary(4096);
    put_text(b, 100, 10);
    put_text(b, 100 + 10 + gap, 10);
    expect_same(b, 8, 64, 256);
  }
}

TEST(AsciiStretches, RandomBytesWithTextMixedIn) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::uint8_t> b(1 + rng() % 20000);
    for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    for (int k = 0; k < 20; ++k) put_text(b, rng() % b.size(), rng() % 40);
    const std::size_t min_chars = 1 + rng() % 16, margin = rng() % 200, join = rng() % 400;
    expect_same(b, min_chars, margin, join);
  }
}

}  // namespace
}  // namespace dumpguard
