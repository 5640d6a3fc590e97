// Where the text is in raw bytes, for both encodings the text rules read: one 64-bit word per
// block of 64 bytes says which bytes are text (text_bytes.hpp), and another which start a
// UTF-16LE unit (a text byte followed by a zero byte). One vector pass over the bytes gives
// both, for the ASCII stretch finder (ascii_stretches.hpp) and the UTF-16LE run finder
// (utf16_runs.hpp): SSE2, AVX2 or AVX-512BW, whichever the CPU has, all giving the same words
// as the byte-by-byte definitions (tests/unit/ascii_stretches_test.cpp, utf16_runs_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "simd/cpu.hpp"

namespace dumpguard::rules {

struct TextMasks {
  std::size_t size = 0;              // the bytes' length
  std::vector<std::uint64_t> text;   // per block: bit k, byte 64 b + k is text
  std::vector<std::uint64_t> units;  // per block, and a zero word past the last: bit k, a unit starts there
};

// Fills `out` for `bytes` (reusing its storage).
void compute_text_masks(simd::Width width, std::span<const std::uint8_t> bytes, TextMasks& out);

}  // namespace dumpguard::rules
