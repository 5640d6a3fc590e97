// Printable UTF-16LE runs, found and narrowed with vectors (utf16_runs.hpp).
//
// Finding: for each block of 64 byte offsets, one 64-bit word of flags says which offsets start
// a unit (the vector part: byte k is text and byte k + 1 is zero). A run of parity p is a chain
// of flags 2 apart; the chains of at least N units start where the flags AND-ed with themselves
// shifted by 2, 4, 8, ... (N - 1 steps of 2 in all) are set, and end at the first clear flag of
// their parity. A chain's first such start is where the chain starts (an earlier unit 2 before
// would be a start too), so short chains are skipped without being walked, and a long run costs
// one test per 64 bytes.
#include "rules/utf16_runs.hpp"

#include "rules/text_bytes.hpp"

#include <algorithm>
#include <array>
#include <bit>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dumpguard::rules::utf16 {

namespace {

constexpr std::size_t kBlock = 64;   // offsets per word of flags
constexpr std::size_t kBatch = 64;   // words per call of the vector part (4 KiB)

// Flags of the block at p + b, byte by byte: for the blocks whose 65 bytes are not all there.
std::uint64_t units_scalar(const std::uint8_t* p, std::size_t b, std::size_t n) {
  std::uint64_t u = 0;
  for (std::size_t k = 0; k < kBlock && b + k + 1 < n; ++k) {
    if (text_unit(p[b + k], p[b + k + 1])) u |= std::uint64_t{1} << k;
  }
  return u;
}

// The vector part: flags of `words` blocks from p, reading p[0, 64 words + 1).
using UnitsFn = void (*)(const std::uint8_t* p, std::size_t words, std::uint64_t* out);
using NarrowFn = std::size_t (*)(const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst);

#if defined(__x86_64__)
// A unit starts where a text byte is followed by a zero byte.
inline unsigned units16(const std::uint8_t* p) {
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
  return text_bytes16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))) &
         static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, _mm_setzero_si128())));
}
void units_sse2(const std::uint8_t* p, std::size_t words, std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w, p += kBlock) {
    out[w] = std::uint64_t{units16(p)} | std::uint64_t{units16(p + 16)} << 16 | std::uint64_t{units16(p + 32)} << 32 |
             std::uint64_t{units16(p + 48)} << 48;
  }
}
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
DG_AVX2 inline std::uint32_t units32(const std::uint8_t* p) {
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1));
  const __m256i unit = _mm256_and_si256(text_bytes32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                                        _mm256_cmpeq_epi8(hi, _mm256_setzero_si256()));
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(unit));
}
DG_AVX2 void units_avx2(const std::uint8_t* p, std::size_t words, std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w, p += kBlock) out[w] = std::uint64_t{units32(p)} | std::uint64_t{units32(p + 32)} << 32;
}
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
DG_AVX512 void units_avx512(const std::uint8_t* p, std::size_t words, std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w, p += kBlock) {
    const __m512i hi = _mm512_loadu_si512(p + 1);
    out[w] = text_bytes64(_mm512_loadu_si512(p)) & _mm512_testn_epi8_mask(hi, hi);
  }
}
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

struct Kernels {
  UnitsFn units;
  NarrowFn narrow;
};

Kernels kernels_for(Width width) {
#if defined(__x86_64__)
  switch (width) {
    case Width::avx512: return {units_avx512, narrow_avx512};
    case Width::avx2: return {units_avx2, narrow_avx2};
    case Width::sse2: break;
  }
  return {units_sse2, narrow_sse2};
#else
  (void)width;
  return {[](const std::uint8_t* p, std::size_t words, std::uint64_t* out) {
            for (std::size_t w = 0; w < words; ++w) out[w] = units_scalar(p, kBlock * w, kBlock * words + 1);
          },
          [](const std::uint8_t*, std::size_t, std::size_t, char*) { return std::size_t{0}; }};
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

void find_runs(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars,
               const std::function<void(std::size_t offset, std::size_t chars)>& on_run) {
  const std::uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  if (n < 2 || min_chars == 0 || min_chars > 32) return;
  const Kernels kernels = kernels_for(width);
  // Units start at offsets 0 .. n - 2. Block `blocks` (past them all) has no units: it ends a
  // run still open. Blocks before `whole` have all 65 bytes they read.
  const std::size_t blocks = (n - 2) / kBlock + 1;
  const std::size_t whole = n >= kBlock + 1 ? (n - kBlock - 1) / kBlock + 1 : 0;
  std::array<std::uint64_t, kBatch + 1> units;
  bool open = false;
  std::size_t start = 0;
  for (std::size_t w0 = 0; w0 <= blocks; w0 += kBatch) {
    const std::size_t count = std::min(kBatch, blocks + 1 - w0);  // blocks handled; one more read
    const std::size_t vector = whole > w0 ? std::min(count + 1, whole - w0) : 0;
    kernels.units(p + kBlock * w0, vector, units.data());
    for (std::size_t i = vector; i <= count; ++i) units[i] = units_scalar(p, kBlock * (w0 + i), n);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t u = units[i];
      const std::size_t b = kBlock * (w0 + i);
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
            starts = chain_starts(u, units[i + 1], min_chars);
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
}

void narrow(Width width, const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst) {
  std::size_t k = kernels_for(width).narrow(src, chars, readable, dst);
  for (; k < chars; ++k) dst[k] = static_cast<char>(src[2 * k]);
}

}  // namespace dumpguard::rules::utf16
