// Printable UTF-16LE text in raw bytes, for the text rules (engine.cpp): the runs of units
// (an ASCII text character, then 0x00) found 64 bytes at a time, and narrowed to one byte per
// character with vector packs. SSE2, AVX2 or AVX-512BW, whichever the CPU has, all giving the
// same results as the byte-by-byte definitions below (tests/unit/utf16_runs_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "rules/text_bytes.hpp"
#include "rules/text_masks.hpp"
#include "simd/cpu.hpp"

namespace dumpguard::rules::utf16 {

// A unit: bytes lo, hi with hi == 0 and lo printable ASCII (0x20..0x7e) or tab, LF, CR.
constexpr bool text_unit(std::uint8_t lo, std::uint8_t hi) { return hi == 0 && text_byte(lo); }

using simd::Width;
using simd::cpu_has;
using simd::best_width;

// Calls on_run(offset, characters) for every run of at least `min_chars` units (1 to 32) in
// the bytes `masks` describe (text_masks.hpp), as the overload below does.
void find_runs(const TextMasks& masks, std::size_t min_chars,
               const std::function<void(std::size_t offset, std::size_t chars)>& on_run);

// Calls on_run(offset, characters) for every run of at least `min_chars` units (1 to 32) in
// `bytes`, in increasing order: units at offset, offset + 2, ..., where the unit before the
// first and the one after the last are not units (or lie outside the bytes). Runs never share
// a byte, whichever their parity.
void find_runs(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars,
               const std::function<void(std::size_t offset, std::size_t chars)>& on_run);

// Room past `chars` that narrow() may write to.
inline constexpr std::size_t kNarrowSlack = 64;
// Writes the low byte of each of `chars` units from `src` to dst[0, chars), and may write
// anything to dst[chars, chars + kNarrowSlack). Reads src[0, 2 chars) and, where it helps, more
// of src[0, readable) (readable >= 2 chars). The units must be units (high bytes zero).
void narrow(Width width, const std::uint8_t* src, std::size_t chars, std::size_t readable, char* dst);

}  // namespace dumpguard::rules::utf16
