// The text and unit words of text_masks.hpp: the vector part gives, per block, the text bytes
// and the zero bytes; a unit starts at a text byte whose next byte is zero, which may be the
// next block's first.
#include "rules/text_masks.hpp"

#include <algorithm>

#include "rules/text_bytes.hpp"

namespace dumpguard::rules {

namespace {

constexpr std::size_t kBlock = 64;

void block_scalar(const std::uint8_t* p, std::size_t count, std::uint64_t& text, std::uint64_t& zero) {
  text = zero = 0;
  for (std::size_t k = 0; k < count; ++k) {
    if (text_byte(p[k])) text |= std::uint64_t{1} << k;
    if (p[k] == 0) zero |= std::uint64_t{1} << k;
  }
}

using BlocksFn = void (*)(const std::uint8_t* p, std::size_t blocks, std::uint64_t* text, std::uint64_t* zero);

void blocks_scalar(const std::uint8_t* p, std::size_t blocks, std::uint64_t* text, std::uint64_t* zero) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) block_scalar(p, kBlock, text[b], zero[b]);
}

#if defined(__x86_64__)
void blocks_sse2(const std::uint8_t* p, std::size_t blocks, std::uint64_t* text, std::uint64_t* zero) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) {
    std::uint64_t t = 0, z = 0;
    for (unsigned k = 0; k < 4; ++k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      t |= std::uint64_t{text_bytes16(v)} << (16 * k);
      z |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())))} << (16 * k);
    }
    text[b] = t;
    zero[b] = z;
  }
}

__attribute__((target("avx2"))) void blocks_avx2(const std::uint8_t* p, std::size_t blocks, std::uint64_t* text,
                                                 std::uint64_t* zero) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i zero_lo = _mm256_cmpeq_epi8(lo, _mm256_setzero_si256());
    const __m256i zero_hi = _mm256_cmpeq_epi8(hi, _mm256_setzero_si256());
    text[b] = std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(text_bytes32(lo)))} |
              std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(text_bytes32(hi)))} << 32;
    zero[b] = std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(zero_lo))} |
              std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(zero_hi))} << 32;
  }
}

__attribute__((target("avx512f,avx512bw"))) void blocks_avx512(const std::uint8_t* p, std::size_t blocks,
                                                               std::uint64_t* text, std::uint64_t* zero) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) {
    const __m512i v = _mm512_loadu_si512(p);
    text[b] = text_bytes64(v);
    zero[b] = _mm512_testn_epi8_mask(v, v);
  }
}
#endif

BlocksFn blocks_for(simd::Width width) {
#if defined(__x86_64__)
  switch (width) {
    case simd::Width::avx512: return blocks_avx512;
    case simd::Width::avx2: return blocks_avx2;
    case simd::Width::sse2: return blocks_sse2;
  }
#else
  (void)width;
#endif
  return blocks_scalar;
}

}  // namespace

void compute_text_masks(simd::Width width, std::span<const std::uint8_t> bytes, TextMasks& out) {
  const std::size_t n = bytes.size(), blocks = (n + kBlock - 1) / kBlock, whole = n / kBlock;
  out.size = n;
  out.text.resize(blocks);
  // The zero bytes first, in `units`, which becomes the units in place: one word more, zero.
  out.units.assign(blocks + 1, 0);
  blocks_for(width)(bytes.data(), whole, out.text.data(), out.units.data());
  if (whole < blocks) block_scalar(bytes.data() + kBlock * whole, n - kBlock * whole, out.text[whole], out.units[whole]);
  for (std::size_t b = 0; b < blocks; ++b) {
    out.units[b] = out.text[b] & (out.units[b] >> 1 | out.units[b + 1] << 63);
  }
}

}  // namespace dumpguard::rules
