// ExactPatterns::search (the hunts' closures): every occurrence of every pattern, in offset
// order, exactly as a plain comparison at every offset finds them. Patterns are planted at
// every alignment around the vector loop's 16-, 32- and 64-byte blocks, overlapping each other,
// and at the very end of the buffer, where the scalar tail takes over. The dispatched width is
// the widest this CPU has (AVX-512BW on the project's machine).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "detect/exact_search.hpp"

namespace dumpguard {
namespace {

using Hit = std::tuple<std::size_t, std::size_t, std::size_t>;  // offset, length, tag

std::vector<Hit> plain_search(const std::vector<std::vector<std::uint8_t>>& patterns, const std::vector<std::uint8_t>& data) {
  std::vector<Hit> hits;
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      const auto& p = patterns[k];
      if (p.size() >= 8 && p.size() <= data.size() - i && std::memcmp(data.data() + i, p.data(), p.size()) == 0) {
        hits.emplace_back(i, p.size(), k);
      }
    }
  }
  return hits;
}

std::vector<Hit> vector_search(const std::vector<std::vector<std::uint8_t>>& patterns,
                               const std::vector<std::uint8_t>& data) {
  ExactPatterns set;
  for (std::size_t k = 0; k < patterns.size(); ++k) set.add(patterns[k], k);
  std::vector<Hit> hits;
  set.search(std::as_bytes(std::span<const std::uint8_t>(data)),
             [&](std::size_t offset, std::size_t length, std::size_t tag) { hits.emplace_back(offset, length, tag); });
  return hits;
}

TEST(ExactSearch, FindsWhatAPlainComparisonFindsAtEveryAlignment) {
  std::mt19937_64 random(20261127);
  const auto bytes = [&](std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(random());
    return v;
  };
  // More patterns than the prefilter's 8 buckets, of several lengths; one shares another's
  // first three bytes, one is a prefix of another, one is too short to be searched.
  std::vector<std::vector<std::uint8_t>> patterns;
  for (std::size_t k = 0; k < 19; ++k) patterns.push_back(bytes(8 + 7 * k));
  patterns.push_back(patterns[3]);
  std::memcpy(patterns.back().data() + 3, bytes(patterns.back().size() - 3).data(), patterns.back().size() - 3);
  patterns.emplace_back(patterns[5].begin(), patterns[5].begin() + 9);
  patterns.push_back(bytes(7));

  for (std::size_t size : {std::size_t{7}, std::size_t{65}, std::size_t{200}, std::size_t{4096 + 37}}) {
    for (std::size_t trial = 0; trial < 24; ++trial) {
      std::vector<std::uint8_t> data = bytes(size);
      // Plant at positions around block edges, at the end, and overlapping.
      for (std::size_t n = 0; n < 12; ++n) {
        const auto& p = patterns[random() % patterns.size()];
        if (p.size() > size) continue;
        std::size_t at = 0;
        switch (n % 4) {
          case 0: at = (random() % (size / 64 + 1)) * 64 + random() % 8; break;
          case 1: at = size - p.size(); break;
          case 2: at = (random() % (size / 16 + 1)) * 16 + 15 - random() % 4; break;
          default: at = random() % (size - p.size() + 1); break;
        }
        at = std::min(at, size - p.size());
        std::memcpy(data.data() + at, p.data(), p.size());
      }
      EXPECT_EQ(vector_search(patterns, data), plain_search(patterns, data)) << "size " << size << " trial " << trial;
    }
  }
}

TEST(ExactSearch, ZeroPagesAndRepeatedBytes) {
  std::vector<std::vector<std::uint8_t>> patterns = {std::vector<std::uint8_t>(16, 0), std::vector<std::uint8_t>(9, 0xAB)};
  std::vector<std::uint8_t> data(1000, 0);
  std::fill(data.begin() + 300, data.begin() + 340, 0xAB);
  EXPECT_EQ(vector_search(patterns, data), plain_search(patterns, data));
}

}  // namespace
}  // namespace dumpguard
