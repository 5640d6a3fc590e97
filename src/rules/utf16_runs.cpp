// Printable UTF-16LE runs, found and narrowed with vectors (utf16_runs.hpp).
//
// Finding: for each block of 64 byte offsets, one 64-bit word of flags says which offsets start
// a unit (text_masks.hpp: byte k is text and byte k + 1 is zero). A run of parity p is a chain
// of flags 2 apart; the chains of at least N units start where the flags AND-ed with themselves
// shifted by 2, 4, 8, ... (N - 1 steps of 2 in all) are set, and end at the first clear flag of
// their parity. A chain's first such start is where the chain starts (an earlier unit 2 before
// would be a start too), so short chains are skipped without being walked, and a long run costs
// one test per 64 bytes.
#include "rules/utf16_runs.hpp"

#include <algorithm>
#include <bit>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dumpguard::rules::utf16 {

namespace {

constexpr std::size_t kBlock = 64;   // offsets per word of flags

using NarrowFn = std::size_t (*)(const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst);

#if defined(__x86_64__)
// Units are below 0x100, so the saturating pack keeps each low byte.
std::size_t narrow_sse2(const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst) {
  std::size_t k = 0;
  for (; k < chars && 2 * k + 32 <= readable; k += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * k));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * k + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k), _mm_packus_epi16(a, b));
  }
  return k;
}

#define DG_AVX2 __attribute__((target("avx2")))
DG_AVX2 std::size_t narrow_avx2(const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst) {
  std::size_t k = 0;
  for (; k < chars && 2 * k + 64 <= readable; k += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * k));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * k + 32));
    // The pack works within 128-bit lanes: a0 b0 a1 b1 in quadwords; put them in order.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
  }
  return k;
}
#undef DG_AVX2

#define DG_AVX512 __attribute__((target("avx512f,avx512bw")))
DG_AVX512 std::size_t narrow_avx512(const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst) {
  std::size_t k = 0;
  for (; k < chars && 2 * k + 64 <= readable; k += 32) {
    // The zero-masking form: GCC 12 warns that the unmasked one's undefined source is uninitialized.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k),
                        _mm512_maskz_cvtepi16_epi8(~__mmask32{0}, _mm512_loadu_si512(src + 2 * k)));
  }
  return k;
}
#undef DG_AVX512
#endif  // __x86_64__

NarrowFn narrow_for(Width width) {
#if defined(__x86_64__)
  switch (width) {
    case Width::avx512: return narrow_avx512;
    case Width::avx2: return narrow_avx2;
    case Width::sse2: break;
  }
  return narrow_sse2;
#else
  (void)width;
  return [](const std::uint8_t*, std::size_t, std::size_t, char*) { return std::size_t{0}; };
#endif
}

// Bit k: flags k, k + 2, ..., k + 2 (n - 1) of the 128-bit cur | next << 64 are all set.
std::uint64_t chain_starts(std::uint64_t cur, std::uint64_t next, std::size_t n) {
  unsigned __int128 m = cur | static_cast<unsigned __int128>(next) << 64;
  for (std::size_t have = 1; have < n;) {
    const std::size_t step = std::min(have, n - have);
    m &= m >> (2 * step);
    have += step;
  }
  return static_cast<std::uint64_t>(m);
}

}  // namespace

void find_runs(const TextMasks& masks, std::size_t min_chars,
               const std::function<void(std::size_t offset, std::size_t chars)>& on_run) {
  if (masks.size < 2 || min_chars == 0 || min_chars > 32) return;
  // The last word (past every unit) is zero: it ends a run still open.
  const std::vector<std::uint64_t>& units = masks.units;
  bool open = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const std::uint64_t u = units[i];
    const std::size_t b = kBlock * i;
    if (!open && u == 0) continue;
    std::uint64_t starts = 0;
    bool have_starts = false;
    for (unsigned from = 0;;) {
      const std::uint64_t after = ~std::uint64_t{0} << from;
      if (open) {
        const std::uint64_t parity = (start % 2) ? 0xAAAAAAAAAAAAAAAAull : 0x5555555555555555ull;
        const std::uint64_t ends = ~u & parity & after;
        if (ends == 0) break;  // the run goes on into the next block
        from = static_cast<unsigned>(std::countr_zero(ends));
        on_run(start, (b + from - start) / 2);
        open = false;
      } else {
        if (!have_starts) {
          starts = chain_starts(u, i + 1 < units.size() ? units[i + 1] : 0, min_chars);
          have_starts = true;
        }
        const std::uint64_t next = starts & after;
        if (next == 0) break;
        from = static_cast<unsigned>(std::countr_zero(next));
        start = b + from;
        open = true;
      }
    }
  }
}

void find_runs(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars,
               const std::function<void(std::size_t offset, std::size_t chars)>& on_run) {
  TextMasks masks;
  compute_text_masks(width, bytes, masks);
  find_runs(masks, min_chars, on_run);
}

void narrow(Width width, const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst) {
  std::size_t k = narrow_for(width)(src, chars, readable, dst);
  for (; k < chars; ++k) dst[k] = static_cast<char>(src[2 * k]);
}

}  // namespace dumpguard::rules::utf16
