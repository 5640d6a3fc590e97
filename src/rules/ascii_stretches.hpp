// Where ASCII text is in raw bytes, for the text rules' Vectorscan pass (engine.cpp): most of a
// dump is not text (pointers, integers, ciphertext, code), and Vectorscan's cost with a few
// hundred rules is per byte it reads, so it reads only the stretches around text.
//
// A block is 64 bytes from the start of the bytes. It holds text when some byte of it ends a
// run of at least `min_chars` text bytes (text_bytes.hpp). A stretch is the union of such
// blocks, each widened by `margin` bytes on either side (within the bytes); stretches less than
// `join` bytes apart are one. So a match is in a stretch when it holds a run of min_chars text
// characters and reaches no further than `margin` bytes past the blocks of its runs through
// bytes that are not text (a few UTF-8 letters, a control byte).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "rules/text_masks.hpp"
#include "simd/cpu.hpp"

namespace dumpguard::rules::ascii {

using simd::Width;

// Calls on_stretch(begin, end) for each stretch of the bytes `masks` describe, in increasing
// order, disjoint. min_chars: 1 to 64.
void find_stretches(const TextMasks& masks, std::size_t min_chars, std::size_t margin, std::size_t join,
                    const std::function<void(std::size_t begin, std::size_t end)>& on_stretch);
// The same for `bytes`, their masks computed here.
void find_stretches(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars, std::size_t margin,
                    std::size_t join, const std::function<void(std::size_t begin, std::size_t end)>& on_stretch);

}  // namespace dumpguard::rules::ascii
