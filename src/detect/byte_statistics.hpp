// Cheap statistics that tell random key material from the text, small integers and
// pointers that fill most of a heap. Each is a prefilter: README states its blind spot.
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

}  // namespace dumpguard
