// The vector step shared by the exact search's and the anchor pass's prefilters ("Teddy", after
// Hyperscan's literal matcher): a byte passes a position's two 16-entry tables when the entry
// for its low nibble and the entry for its high nibble share a bucket bit.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string.h>  // explicit_bzero

namespace dumpguard::nibble {

// A 16-entry table in all four 128-bit lanes (vpshufb looks up within a lane). Copied by hand:
// GCC 12's _mm512_broadcast_i32x4 warns about its own undefined operand.
__attribute__((target("avx512f,avx512bw"))) inline __m512i table_avx512(const std::array<std::uint8_t, 16>& table) {
  alignas(64) std::array<std::uint8_t, 64> lanes{};
  for (std::size_t lane = 0; lane < 4; ++lane) std::memcpy(lanes.data() + 16 * lane, table.data(), 16);
  const __m512i v = _mm512_load_si512(lanes.data());
  explicit_bzero(lanes.data(), lanes.size());  // the exact search's tables hold bits of secrets' first bytes
  return v;
}

__attribute__((target("avx2"))) inline __m256i table_avx2(const std::array<std::uint8_t, 16>& table) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table.data())));
}

// r & lo[v & 15] & hi[v >> 4], byte by byte.
__attribute__((target("avx512f,avx512bw"))) inline __m512i step_avx512(__m512i r, __m512i v, __m512i lo, __m512i hi) {
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  return _mm512_ternarylogic_epi64(r, _mm512_shuffle_epi8(lo, _mm512_and_si512(v, nibble)),
                                   _mm512_shuffle_epi8(hi, _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble)),
                                   0x80);  // a & b & c
}

__attribute__((target("avx2"))) inline __m256i step_avx2(__m256i r, __m256i v, __m256i lo, __m256i hi) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  r = _mm256_and_si256(r, _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble)));
  return _mm256_and_si256(r, _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
}

}  // namespace dumpguard::nibble
#endif
