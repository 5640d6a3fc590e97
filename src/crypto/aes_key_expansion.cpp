// FIPS-197 key expansion and column mixes; see aes_key_expansion.hpp.
#include "crypto/aes_key_expansion.hpp"

namespace dumpguard::aes {

namespace {

// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.2).
constexpr std::uint8_t gf_mul(std::uint8_t a, std::uint8_t b) {
  std::uint8_t p = 0;
  while (b != 0) {
    if (b & 1) p = static_cast<std::uint8_t>(p ^ a);
    a = static_cast<std::uint8_t>((a << 1) ^ ((a & 0x80) ? 0x1B : 0));
    b = static_cast<std::uint8_t>(b >> 1);
  }
  return p;
}

// One column times a circulant matrix whose first row is (m0, m1, m2, m3).
std::uint32_t circulant(std::uint32_t w, std::uint8_t m0, std::uint8_t m1, std::uint8_t m2, std::uint8_t m3) {
  const std::uint8_t a[4] = {static_cast<std::uint8_t>(w >> 24), static_cast<std::uint8_t>(w >> 16),
                             static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w)};
  const std::uint8_t m[4] = {m0, m1, m2, m3};
  std::uint32_t out = 0;
  for (unsigned row = 0; row < 4; ++row) {
    std::uint8_t b = 0;
    for (unsigned col = 0; col < 4; ++col) b = static_cast<std::uint8_t>(b ^ gf_mul(m[(col + 4 - row) % 4], a[col]));
    out = (out << 8) | b;
  }
  return out;
}

}  // namespace

std::uint32_t mix_column(std::uint32_t w) { return circulant(w, 2, 3, 1, 1); }
std::uint32_t inv_mix_column(std::uint32_t w) { return circulant(w, 14, 11, 13, 9); }

void expand_key(std::span<const std::uint32_t> key, std::span<std::uint32_t> out) {
  const auto nk = static_cast<unsigned>(key.size());
  const unsigned total = schedule_words(nk);
  for (unsigned i = 0; i < nk; ++i) out[i] = key[i];
  for (unsigned i = nk; i < total; ++i) out[i] = out[i - nk] ^ expansion_term(i, nk, out[i - 1]);
}

}  // namespace dumpguard::aes
