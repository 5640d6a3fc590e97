// The UTF-16LE run finder and narrower of the text rules (src/rules/utf16_runs.cpp) against
// byte-by-byte definitions written here, on every vector width this CPU has: runs at odd and
// even offsets, across 16/32/64-byte block edges, at the end of the buffer, of exactly the
// minimum length and one less, runs of both parities that touch, and dense random text.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fixtures/detector_harness.hpp"
#include "rules/engine.hpp"
#include "rules/utf16_runs.hpp"

namespace dumpguard {
namespace {

namespace utf16 = rules::utf16;
using Runs = std::vector<std::pair<std::size_t, std::size_t>>;  // offset, characters

bool is_unit(const std::vector<std::uint8_t>& b, std::size_t i) {
  if (i + 1 >= b.size()) return false;
  const std::uint8_t lo = b[i];
  return b[i + 1] == 0 && ((lo >= 0x20 && lo <= 0x7e) || lo == '\t' || lo == '\n' || lo == '\r');
}

// The definition: scan for a unit, walk its chain 2 bytes at a time, keep it if long enough,
// and go on from where the chain ended.
Runs reference_runs(const std::vector<std::uint8_t>& b, std::size_t min_chars) {
  Runs runs;
  for (std::size_t i = 0; i + 1 < b.size();) {
    if (!is_unit(b, i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (is_unit(b, j)) j += 2;
    if ((j - i) / 2 >= min_chars) runs.emplace_back(i, (j - i) / 2);
    i = j;
  }
  return runs;
}

Runs vector_runs(utf16::Width width, const std::vector<std::uint8_t>& b, std::size_t min_chars) {
  Runs runs;
  utf16::find_runs(width, b, min_chars, [&](std::size_t at, std::size_t chars) { runs.emplace_back(at, chars); });
  return runs;
}

std::vector<utf16::Width> widths_here() {
  std::vector<utf16::Width> widths;
  for (auto w : {utf16::Width::sse2, utf16::Width::avx2, utf16::Width::avx512}) {
    if (utf16::cpu_has(w)) widths.push_back(w);
  }
  return widths;
}

void put_units(std::vector<std::uint8_t>& b, std::size_t at, std::size_t chars, char c = 'a') {
  for (std::size_t k = 0; k < chars && at + 2 * k + 1 < b.size(); ++k) {
    b[at + 2 * k] = static_cast<std::uint8_t>(c + static_cast<char>(k % 26));
    b[at + 2 * k + 1] = 0;
  }
}

// Filler with no units: bytes 0x80-0xff.
std::vector<std::uint8_t> no_text(std::size_t n, std::uint32_t seed) {
  auto b = test::seeded_bytes(n, seed);
  for (auto& x : b) x |= 0x80;
  return b;
}

void expect_same_runs(const std::vector<std::uint8_t>& b, const std::string& what) {
  for (std::size_t min_chars : {std::size_t{rules::kMinUtf16Run}, std::size_t{1}, std::size_t{2}, std::size_t{5},
                                std::size_t{32}}) {
    const Runs want = reference_runs(b, min_chars);
    for (auto width : widths_here()) {
      EXPECT_EQ(vector_runs(width, b, min_chars), want)
          << what << ", width " << static_cast<int>(width) << ", at least " << min_chars << " characters";
    }
  }
}

TEST(Utf16Runs, RunsAtEveryOffsetAndLengthAcrossBlockEdges) {
  ASSERT_EQ(rules::kMinUtf16Run, 8u);
  for (std::size_t at = 0; at < 130; ++at) {
    for (std::size_t chars : {1u, 6u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 63u, 64u, 65u, 100u}) {
      auto b = no_text(at + 2 * chars + 150, static_cast<std::uint32_t>(at));
      put_units(b, at, chars);
      expect_same_runs(b, "run of " + std::to_string(chars) + " at " + std::to_string(at));
      const Runs found = vector_runs(utf16::best_width(), b, rules::kMinUtf16Run);
      if (chars >= rules::kMinUtf16Run) {
        EXPECT_EQ(found, (Runs{{at, chars}})) << "an independent check: exactly the planted run";
      } else {
        EXPECT_TRUE(found.empty());
      }
    }
  }
}

// Every buffer size from 2 to 400 bytes, the run ending at the last byte or one before it, at
// both parities: the blocks whose 65 bytes are not all there are handled byte by byte.
TEST(Utf16Runs, RunsThatEndAtTheEndOfTheBuffer) {
  for (std::size_t n = 2; n <= 400; ++n) {
    for (std::size_t dangling : {0u, 1u}) {
      if (n < dangling + 2) continue;
      auto b = no_text(n, static_cast<std::uint32_t>(n));
      const std::size_t chars = (n - dangling) / 2;
      const std::size_t at = n - dangling - 2 * chars;
      put_units(b, at, chars);
      if (dangling) b[n - 1] = 'z';  // a text byte with no high byte after it: no unit
      expect_same_runs(b, "buffer of " + std::to_string(n) + ", dangling " + std::to_string(dangling));
      if (chars >= rules::kMinUtf16Run) {
        EXPECT_EQ(vector_runs(utf16::best_width(), b, rules::kMinUtf16Run), (Runs{{at, chars}})) << n;
      }
    }
  }
}

// A run of one parity that ends where one of the other parity starts, and runs 1 byte apart.
TEST(Utf16Runs, RunsOfBothParitiesThatTouch) {
  for (std::size_t at = 0; at < 70; ++at) {
    for (std::size_t first : {8u, 9u, 30u, 40u}) {
      auto b = no_text(at + 400, static_cast<std::uint32_t>(at + first));
      put_units(b, at, first);
      const std::size_t end = at + 2 * first;  // a non-unit byte of the first run's parity
      b[end] = 'q';                              // text, but followed by text: no unit
      put_units(b, end + 1, 12, 'A');            // the other parity, from the next byte
      expect_same_runs(b, "touching runs at " + std::to_string(at));
      EXPECT_EQ(vector_runs(utf16::best_width(), b, rules::kMinUtf16Run), (Runs{{at, first}, {end + 1, 12}}));
    }
  }
}

// Dense random bytes from text, zeros and a few others: units of both parities everywhere,
// chains of every length.
TEST(Utf16Runs, DenseRandomTextMatchesTheDefinition) {
  std::mt19937 rng(8);
  const std::uint8_t alphabet[] = {'a', 'Z', ' ', '\t', '\n', '\r', 0, 0, 0, 0, 0x7f, 0x1f, 0xff, 0x80, 0x08, 0x0b};
  for (int round = 0; round < 200; ++round) {
    std::vector<std::uint8_t> b(1 + rng() % 3000);
    for (auto& x : b) x = alphabet[rng() % sizeof alphabet];
    // Some long runs too, at random offsets.
    for (int k = 0; k < 3; ++k) put_units(b, rng() % b.size(), rng() % 300);
    expect_same_runs(b, "random round " + std::to_string(round));
  }
}

TEST(Utf16Runs, NarrowKeepsTheLowBytesOnEveryWidth) {
  std::mt19937 rng(9);
  for (std::size_t src_at : {0u, 1u, 7u, 64u}) {
    for (std::size_t chars = 0; chars <= 200; ++chars) {
      for (std::size_t extra : {0u, 1u, 31u, 64u, 130u}) {
        std::vector<std::uint8_t> src(src_at + 2 * chars + extra, 0xEE);
        std::string want;
        for (std::size_t k = 0; k < chars; ++k) {
          const char c = static_cast<char>(0x20 + rng() % 0x5f);
          src[src_at + 2 * k] = static_cast<std::uint8_t>(c);
          src[src_at + 2 * k + 1] = 0;
          want.push_back(c);
        }
        for (auto width : widths_here()) {
          std::string dst(chars + utf16::kNarrowSlack + 8, '#');
          utf16::narrow(width, src.data() + src_at, chars, 2 * chars + extra, dst.data());
          EXPECT_EQ(dst.substr(0, chars), want) << chars << " characters, width " << static_cast<int>(width);
          EXPECT_EQ(dst.substr(chars + utf16::kNarrowSlack), std::string(8, '#')) << "wrote past its slack";
        }
      }
    }
  }
}

}  // namespace
}  // namespace dumpguard
