// The AES schedule detector's prefilter (internal to src/detect, and to its tests): the cheap
// linear tests that decide at which offsets, and for which of the six variants, the exact check
// in aes_schedule.cpp runs. plausible() is the test at one offset; candidates() runs the same
// relations over many offsets at once with SSE2, AVX2 or AVX-512BW, and never drops an offset
// that plausible() keeps (it may keep more: plausible() then decides).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd/cpu.hpp"

namespace dumpguard::aes_prefilter {

// The variants, in the order the detector tries them: AES-128, -192, -256, each first with the
// round keys in order (the encryption schedule, and the decryption one in forward order), then
// reversed (the decryption schedule, last round key first). Byte order needs no variant of its
// own: the relations hold on the raw stored words in both (see aes_prefilter.cpp).
inline constexpr unsigned kVariants = 6;
constexpr unsigned key_words(unsigned variant) { return 4 + 2 * (variant / 2); }  // Nk
constexpr bool reversed(unsigned variant) { return variant % 2 == 1; }
// The stored word that holds schedule word i (Nr rounds): in order, or with the round keys
// reversed (the last first).
constexpr unsigned stored_word(bool reversed, unsigned nr, unsigned i) {
  return reversed ? 4 * (nr - i / 4) + i % 4 : i;
}
// Bytes of the whole stored schedule: an offset needs this much room for the variant.
constexpr std::size_t span_bytes(unsigned variant) { return 16 * (key_words(variant) + 7); }

// The test at one offset: p holds span_bytes(variant) bytes.
bool plausible(unsigned variant, const std::uint8_t* p, unsigned tolerance);
// The variants among `variants` (bit v for variant v) that pass plausible() at p, where `room`
// bytes follow p (a variant that does not fit fails).
std::uint8_t plausible_variants(const std::uint8_t* p, std::size_t room, std::uint8_t variants, unsigned tolerance);

struct Candidate {
  std::size_t at = 0;
  std::uint8_t variants = 0;  // bit v: try variant v here
};

// Whether this CPU can run a width, and the widest it can (what the detector uses).
using simd::Width;
using simd::cpu_has;
using simd::best_width;

// The vector test over the offsets [at, at + 64 k) for the largest k (at most 64, 4 KiB) such
// that every byte it reads lies before `size`. Appends the offsets that may pass plausible(), in
// increasing order (variants of each: a superset of those that pass), and returns at + 64 k:
// the caller calls again from there, and tests offsets one by one once it returns `at`. The
// width must be one the CPU has. On other architectures it returns `at` (no vector test).
std::size_t candidates(Width width, const std::uint8_t* base, std::size_t at, std::size_t size, unsigned tolerance,
                       std::vector<Candidate>& out);

}  // namespace dumpguard::aes_prefilter
