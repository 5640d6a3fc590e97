#include "detect/anchor_prefilter.hpp"

#include "detect/nibble_lookup.hpp"
#include "simd/cpu.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace dumpguard {

namespace {

// A group of patterns sharing a bucket, as nibble sets per position (bit n: nibble n allowed).
struct Group {
  std::vector<std::size_t> patterns;
  std::array<std::uint16_t, AnchorPrefilter::kPositions> lo{}, hi{};

  // The share of memory's bytes the group's tables let through at every position, with
  // printable text weighted as heaps hold it (a byte of text is taken as 8 times as likely
  // as any other byte value): merging two text-like anchors lets whole words through.
  double acceptance() const {
    constexpr double kAll = 256 + 7 * (0x7f - 0x20);  // every byte's weight
    double a = 1;
    for (std::size_t j = 0; j < AnchorPrefilter::kPositions; ++j) {
      double passed = 0;
      for (unsigned h = 0; h < 16; ++h) {
        if (!((hi[j] >> h) & 1u)) continue;
        for (unsigned l = 0; l < 16; ++l) {
          const unsigned b = h << 4 | l;
          if ((lo[j] >> l) & 1u) passed += b >= 0x20 && b < 0x7f ? 8 : 1;
        }
      }
      a *= passed / kAll;
    }
    return a;
  }
  Group merged_with(const Group& other) const {
    Group g = *this;
    g.patterns.insert(g.patterns.end(), other.patterns.begin(), other.patterns.end());
    for (std::size_t j = 0; j < AnchorPrefilter::kPositions; ++j) {
      g.lo[j] |= other.lo[j];
      g.hi[j] |= other.hi[j];
    }
    return g;
  }
};

// The pattern's positions from `offset` on.
Group group_of(const AnchorPattern& pattern, std::size_t index, std::size_t offset) {
  Group g;
  g.patterns.push_back(index);
  for (std::size_t j = 0; j < AnchorPrefilter::kPositions; ++j) {
    if (offset + j >= pattern.length()) {  // past its end: any byte
      g.lo[j] = g.hi[j] = 0xFFFF;
      continue;
    }
    for (unsigned b = 0; b < 256; ++b) {
      if (!pattern.allows(offset + j, static_cast<std::uint8_t>(b))) continue;
      g.lo[j] = static_cast<std::uint16_t>(g.lo[j] | (1u << (b & 15)));
      g.hi[j] = static_cast<std::uint16_t>(g.hi[j] | (1u << (b >> 4)));
    }
  }
  return g;
}

// The exact check at one position of every pattern of the buckets in `bits`.
// `at` is where the prefilter's positions passed: a pattern starts its offset before that.
inline void confirm(std::span<const AnchorPattern> patterns,
                    const std::array<std::vector<std::size_t>, AnchorPrefilter::kBuckets>& buckets,
                    std::span<const std::size_t> offsets, const std::uint8_t* p, std::size_t at, std::size_t size,
                    unsigned bits, AnchorHits& hits) {
  for (; bits != 0; bits &= bits - 1) {
    for (std::size_t k : buckets[static_cast<std::size_t>(std::countr_zero(bits))]) {
      if (at < offsets[k]) continue;
      const std::size_t start = at - offsets[k];
      if (patterns[k].length() <= size - start && patterns[k].matches(p + start)) hits[k].push_back(start);
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t blocks_avx2(const AnchorPrefilter::Tables& t,
                                                         std::span<const AnchorPattern> patterns,
                                                         const std::array<std::vector<std::size_t>, 8>& buckets,
                                                         std::span<const std::size_t> offsets, const std::uint8_t* p,
                                                         std::size_t size, AnchorHits& hits) {
  constexpr std::size_t kPos = AnchorPrefilter::kPositions;
  __m256i lo[kPos], hi[kPos];
  for (std::size_t j = 0; j < kPos; ++j) {
    lo[j] = nibble::table_avx2(t.lo[j]);
    hi[j] = nibble::table_avx2(t.hi[j]);
  }
  alignas(32) std::array<std::uint8_t, 32> lanes{};
  std::size_t i = 0;
  for (; i + 32 + kPos <= size; i += 32) {
    __m256i r = _mm256_set1_epi8(-1);
    for (std::size_t j = 0; j < kPos; ++j) {
      r = nibble::step_avx2(r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + j)), lo[j], hi[j]);
    }
    auto m = ~static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, _mm256_setzero_si256())));
    if (m == 0) continue;
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes.data()), r);
    for (; m != 0; m &= m - 1) {
      const unsigned lane = static_cast<unsigned>(std::countr_zero(m));
      confirm(patterns, buckets, offsets, p, i + lane, size, lanes[lane], hits);
    }
  }
  return i;
}

__attribute__((target("avx512f,avx512bw"))) std::size_t blocks_avx512(
    const AnchorPrefilter::Tables& t, std::span<const AnchorPattern> patterns,
    const std::array<std::vector<std::size_t>, 8>& buckets, std::span<const std::size_t> offsets, const std::uint8_t* p,
    std::size_t size, AnchorHits& hits) {
  constexpr std::size_t kPos = AnchorPrefilter::kPositions;
  __m512i lo[kPos], hi[kPos];
  for (std::size_t j = 0; j < kPos; ++j) {
    lo[j] = nibble::table_avx512(t.lo[j]);
    hi[j] = nibble::table_avx512(t.hi[j]);
  }
  alignas(64) std::array<std::uint8_t, 64> lanes{};
  std::size_t i = 0;
  for (; i + 64 + kPos <= size; i += 64) {
    __m512i r = _mm512_set1_epi8(-1);
    for (std::size_t j = 0; j < kPos; ++j) r = nibble::step_avx512(r, _mm512_loadu_si512(p + i + j), lo[j], hi[j]);
    std::uint64_t m = _mm512_test_epi8_mask(r, r);
    if (m == 0) continue;
    _mm512_store_si512(lanes.data(), r);
    for (; m != 0; m &= m - 1) {
      const unsigned lane = static_cast<unsigned>(std::countr_zero(m));
      confirm(patterns, buckets, offsets, p, i + lane, size, lanes[lane], hits);
    }
  }
  return i;
}
#endif

}  // namespace

AnchorPrefilter::AnchorPrefilter(std::span<const AnchorPattern> patterns) : patterns_(patterns) {
  // Greedy: every pattern its own group, then merge the two groups whose union lets the
  // fewest random bytes through beyond what they did apart, until eight are left.
  // Each pattern is prefiltered at the three consecutive positions that let the fewest bytes
  // through: a DER anchor such as 30 len 30 len [02 06 A0] passes "0a0" in text at its first
  // three, and hardly anything at its last three.
  std::vector<Group> groups;
  offsets_.assign(patterns.size(), 0);
  for (std::size_t k = 0; k < patterns.size(); ++k) {
    Group best = group_of(patterns[k], k, 0);
    for (std::size_t o = 1; o + kPositions <= patterns[k].length(); ++o) {
      Group g = group_of(patterns[k], k, o);
      if (g.acceptance() < best.acceptance()) {
        best = std::move(g);
        offsets_[k] = o;
      }
    }
    groups.push_back(std::move(best));
  }
  std::vector<double> accepted;  // each group's acceptance(), computed once
  for (const Group& g : groups) accepted.push_back(g.acceptance());
  while (groups.size() > kBuckets) {
    std::size_t best_a = 0, best_b = 1;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < groups.size(); ++a) {
      for (std::size_t b = a + 1; b < groups.size(); ++b) {
        const double cost = groups[a].merged_with(groups[b]).acceptance() - accepted[a] - accepted[b];
        if (cost < best) {
          best = cost;
          best_a = a;
          best_b = b;
        }
      }
    }
    groups[best_a] = groups[best_a].merged_with(groups[best_b]);
    accepted[best_a] = groups[best_a].acceptance();
    groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(best_b));
    accepted.erase(accepted.begin() + static_cast<std::ptrdiff_t>(best_b));
  }
  for (std::size_t b = 0; b < groups.size(); ++b) {
    std::vector<std::size_t> members = groups[b].patterns;
    std::sort(members.begin(), members.end());  // hits of one position in pattern order
    buckets_[b] = members;
    const auto bit = static_cast<std::uint8_t>(1u << b);
    for (std::size_t j = 0; j < kPositions; ++j) {
      for (unsigned n = 0; n < 16; ++n) {
        if (groups[b].lo[j] & (1u << n)) tables_.lo[j][n] |= bit;
        if (groups[b].hi[j] & (1u << n)) tables_.hi[j][n] |= bit;
      }
    }
  }
}

AnchorPrefilter::Width AnchorPrefilter::best_width() {
  switch (simd::best_width()) {
    case simd::Width::avx512: return Width::avx512;
    case simd::Width::avx2: return Width::avx2;
    case simd::Width::sse2: break;
  }
  return Width::none;
}

void AnchorPrefilter::scan(std::span<const std::byte> bytes, AnchorHits& hits, Width width) const {
  hits.resize(patterns_.size());
  for (auto& h : hits) h.clear();
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t size = bytes.size();
  std::size_t i = 0;
#if defined(__x86_64__)
  if (width == Width::avx512) i = blocks_avx512(tables_, patterns_, buckets_, offsets_, p, size, hits);
  if (width == Width::avx2) i = blocks_avx2(tables_, patterns_, buckets_, offsets_, p, size, hits);
#endif
  // The last positions (the vector loads would read past the end), one by one.
  unsigned all = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) all |= buckets_[b].empty() ? 0u : 1u << b;
  for (; i < size; ++i) confirm(patterns_, buckets_, offsets_, p, i, size, all, hits);
}

}  // namespace dumpguard
