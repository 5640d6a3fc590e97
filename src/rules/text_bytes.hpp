// Which bytes are text to the text rules: printable ASCII (0x20..0x7e), tab, LF and CR. The
// byte-by-byte definition and its vector forms (SSE2, AVX2, AVX-512BW: a mask of the text bytes
// of 16, 32 or 64 bytes), shared by the ASCII stretch finder and the UTF-16LE run finder so that
// both read text the same way.
#pragma once

#include <cstdint>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dumpguard::rules {

constexpr bool text_byte(std::uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r'; }

#if defined(__x86_64__)
// 0x20..0x7e by a signed compare after flipping the top bit; tab, LF, CR apart.
inline unsigned text_bytes16(__m128i v) {
  const __m128i shifted = _mm_xor_si128(v, _mm_set1_epi8(static_cast<char>(0x80)));
  const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(shifted, _mm_set1_epi8(static_cast<char>(0x1f ^ 0x80))),
                                          _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(0x7f ^ 0x80))));
  const __m128i control = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(printable, control)));
}

__attribute__((target("avx2"))) inline __m256i text_bytes32(__m256i v) {
  const __m256i shifted = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));
  const __m256i printable =
      _mm256_and_si256(_mm256_cmpgt_epi8(shifted, _mm256_set1_epi8(static_cast<char>(0x1f ^ 0x80))),
                       _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(0x7f ^ 0x80)), shifted));
  const __m256i control = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t')),
                                          _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')),
                                                          _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r'))));
  return _mm256_or_si256(printable, control);
}

__attribute__((target("avx512f,avx512bw"))) inline __mmask64 text_bytes64(__m512i v) {
  const __mmask64 printable = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x20)),
                                                     _mm512_set1_epi8(0x7f - 0x20));
  return printable | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\t')) |
         _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')) | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
}
#endif

}  // namespace dumpguard::rules
