// Cheap statistics that tell random key material from the text, small integers and
// pointers that fill most of a heap. Each is a prefilter: docs/detectors.md states its blind spot.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dumpguard {

// Number of distinct byte values in [p, p + len): random numbers have many, text and
// small integers few. 32 random bytes have about 30; fewer than 16 happens with
// probability far below 2^-40.
unsigned distinct_bytes(const std::uint8_t* p, std::size_t len);

// True when an aligned 8-byte word in [p, p + len) looks like a canonical x86-64 or AArch64
// user-space pointer (top two bytes zero, the next typical of heap, libraries or stacks).
bool has_pointer_word(const std::uint8_t* p, std::size_t len);

// True for an 8-byte word of the kind that fills a heap around secrets: zero or a small integer
// (top four bytes zero or all ones: sizes, counts, flags, chunk headers, -1), a pointer, or eight printable
// ASCII bytes. A random word is one with probability about 2^-32.
bool structured_word(const std::uint8_t* p);

// The stricter test for windows that no structure points at: half the bytes distinct, an
// eighth with the top bit set (text has none), and no structured word inside. 32 random bytes
// fail it with probability below 2^-20.
bool looks_random(const std::uint8_t* p, std::size_t len);

}  // namespace dumpguard
