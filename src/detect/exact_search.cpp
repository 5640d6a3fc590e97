#include "detect/exact_search.hpp"

#include <openssl/crypto.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "detect/detector.hpp"
#include "detect/nibble_lookup.hpp"

namespace dumpguard {

ExactPatterns::ExactPatterns() : first_two_(65536 / 64, 0) {}

ExactPatterns::~ExactPatterns() {
  for (Pattern& p : patterns_) OPENSSL_cleanse(p.bytes.data(), p.bytes.size());
}

void ExactPatterns::add(std::span<const std::uint8_t> bytes, std::size_t tag) {
  if (bytes.size() < 8) return;
  patterns_.push_back({std::vector<std::uint8_t>(bytes.begin(), bytes.end()), tag});
  longest_ = std::max(longest_, bytes.size());
  const unsigned key = bytes[0] | (unsigned{bytes[1]} << 8);
  first_two_[key / 64] |= std::uint64_t{1} << (key % 64);
}

namespace {

#if defined(__x86_64__)
// The vector prefilter ("Teddy", after Hyperscan's literal matcher): patterns go into 8
// buckets (bit k of a byte); for each of a pattern's first three bytes, two 16-entry tables
// map the byte's low and high nibble to the buckets that allow it. A position is a candidate
// when some bucket allows all three bytes there: for a few dozen random patterns, about one
// position in 500, checked exactly afterwards. No pattern is missed: a pattern's own bytes
// always pass its bucket's tables.
struct NibbleTables {
  alignas(16) std::array<std::array<std::uint8_t, 16>, 3> lo{}, hi{};
};

__attribute__((target("avx2"))) std::size_t candidates_avx2(const NibbleTables& t, const std::uint8_t* p,
                                                            std::size_t begin, std::size_t end,
                                                            std::vector<std::size_t>& out) {
  __m256i lo[3], hi[3];
  for (int j = 0; j < 3; ++j) {
    lo[j] = nibble::table_avx2(t.lo[j]);
    hi[j] = nibble::table_avx2(t.hi[j]);
  }
  std::size_t i = begin;
  for (; i + 32 <= end; i += 32) {
    __m256i r = _mm256_set1_epi8(-1);
    for (int j = 0; j < 3; ++j) r = nibble::step_avx2(r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + j)), lo[j], hi[j]);
    auto m = ~static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, _mm256_setzero_si256())));
    for (; m != 0; m &= m - 1) out.push_back(i + static_cast<unsigned>(std::countr_zero(m)));
  }
  return i;
}

__attribute__((target("ssse3"))) std::size_t candidates_ssse3(const NibbleTables& t, const std::uint8_t* p,
                                                              std::size_t begin, std::size_t end,
                                                              std::vector<std::size_t>& out) {
  __m128i lo[3], hi[3];
  for (int j = 0; j < 3; ++j) {
    lo[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(t.lo[j].data()));
    hi[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(t.hi[j].data()));
  }
  const __m128i nibble = _mm_set1_epi8(0x0f);
  std::size_t i = begin;
  for (; i + 16 <= end; i += 16) {
    __m128i r = _mm_set1_epi8(-1);
    for (int j = 0; j < 3; ++j) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + j));
      r = _mm_and_si128(r, _mm_shuffle_epi8(lo[j], _mm_and_si128(v, nibble)));
      r = _mm_and_si128(r, _mm_shuffle_epi8(hi[j], _mm_and_si128(_mm_srli_epi16(v, 4), nibble)));
    }
    auto m = static_cast<unsigned>(~_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_setzero_si128())) & 0xFFFF);
    for (; m != 0; m &= m - 1) out.push_back(i + static_cast<unsigned>(std::countr_zero(m)));
  }
  return i;
}

__attribute__((target("avx512f,avx512bw"))) std::size_t candidates_avx512(const NibbleTables& t, const std::uint8_t* p,
                                                                          std::size_t begin, std::size_t end,
                                                                          std::vector<std::size_t>& out) {
  __m512i lo[3], hi[3];
  for (int j = 0; j < 3; ++j) {
    lo[j] = nibble::table_avx512(t.lo[j]);
    hi[j] = nibble::table_avx512(t.hi[j]);
  }
  std::size_t i = begin;
  for (; i + 64 <= end; i += 64) {
    __m512i r = _mm512_set1_epi8(-1);
    for (int j = 0; j < 3; ++j) r = nibble::step_avx512(r, _mm512_loadu_si512(p + i + j), lo[j], hi[j]);
    for (std::uint64_t m = _mm512_test_epi8_mask(r, r); m != 0; m &= m - 1) {
      out.push_back(i + static_cast<unsigned>(std::countr_zero(m)));
    }
  }
  return i;
}

using CandidatesFn = std::size_t (*)(const NibbleTables&, const std::uint8_t*, std::size_t, std::size_t,
                                     std::vector<std::size_t>&);
const CandidatesFn kCandidates = __builtin_cpu_supports("avx512bw") ? candidates_avx512
                                 : __builtin_cpu_supports("avx2")    ? candidates_avx2
                                 : __builtin_cpu_supports("ssse3") ? candidates_ssse3
                                                                   : nullptr;
#endif

}  // namespace

void ExactPatterns::search(std::span<const std::byte> data,
                           const std::function<void(std::size_t, std::size_t, std::size_t)>& found) const {
  if (patterns_.empty() || data.size() < 8) return;
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t n = data.size();
  const auto try_at = [&](std::size_t i) {
    const unsigned key = p[i] | (unsigned{p[i + 1]} << 8);
    if (!(first_two_[key / 64] & (std::uint64_t{1} << (key % 64)))) return;
    for (const Pattern& pat : patterns_) {
      if (pat.bytes.size() <= n - i && std::memcmp(p + i, pat.bytes.data(), pat.bytes.size()) == 0) {
        found(i, pat.bytes.size(), pat.tag);
      }
    }
  };
  std::size_t i = 0;
#if defined(__x86_64__)
  if (kCandidates != nullptr) {
    NibbleTables t;
    for (std::size_t k = 0; k < patterns_.size(); ++k) {
      const auto bucket = static_cast<std::uint8_t>(1u << (k % 8));
      for (int j = 0; j < 3; ++j) {
        const std::uint8_t b = patterns_[k].bytes[static_cast<std::size_t>(j)];
        t.lo[j][b & 0x0f] |= bucket;
        t.hi[j][b >> 4] |= bucket;
      }
    }
    // In slices, so the candidate list stays small; the last 66 positions are left to the
    // scalar loop (the vector loads read 2 + 64 bytes from a position).
    constexpr std::size_t kSlice = 64 * 1024;
    std::vector<std::size_t> candidates;
    const std::size_t stop = n > 66 ? n - 66 : 0;
    while (i < stop) {
      candidates.clear();
      const std::size_t next = kCandidates(t, p, i, std::min(stop, i + kSlice), candidates);
      for (std::size_t c : candidates) try_at(c);
      if (next == i) break;
      i = next;
    }
    OPENSSL_cleanse(&t, sizeof t);  // a few bits about the patterns' first bytes
  }
#endif
  for (; i + 1 < n; ++i) try_at(i);
}

void search_for_copies(const ScanContext& context, ExactPatterns patterns, ClosureSearches::Found found) {
  if (patterns.empty()) return;
  if (context.closures) return context.closures->add(std::move(patterns), std::move(found));
  patterns.search_areas(context, found);
}

void ExactPatterns::search_areas(
    const ScanContext& context,
    const std::function<void(const ScanArea& area, std::size_t offset, std::size_t length, std::size_t tag)>& found)
    const {
  if (patterns_.empty()) return;
  struct Hit {
    std::size_t offset, length, tag;  // offset within the area
  };
  const std::vector<ChunkBounds> chunks = chunks_of(context);
  std::vector<std::vector<Hit>> hits(chunks.size());
  run_chunks(context, [&](std::size_t c, unsigned /*worker*/) {
    const ScanArea& area = context.areas[chunks[c].area];
    const ScanArea window = chunk_window(area, chunks[c], {0, longest_});
    search(window.bytes, [&](std::size_t offset, std::size_t length, std::size_t tag) {
      if (owns(area, chunks[c], window.file_offset + offset)) {
        hits[c].push_back({static_cast<std::size_t>(window.file_offset + offset - area.file_offset), length, tag});
      }
    });
  });
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    for (const Hit& h : hits[c]) found(context.areas[chunks[c].area], h.offset, h.length, h.tag);
  }
}

}  // namespace dumpguard
