// Big numbers that runtimes keep outside any C allocator's structure: CPython's ints, V8's
// arrays of small integers, the JVM's BigInteger magnitudes, field elements in narrow limbs.
// The hunts take them as candidates beside the glibc-chunk and BIGNUM priors, so that no key
// depends on glibc malloc or OpenSSL being the allocator.
//
// Two ways in, by what the layout allows (number_layout.hpp):
//  - narrow layouts (digits narrower than their slot, or tagged): the values alone propose a
//    candidate. A number of B bits in such a layout is a run of digits_for(B) valid, non-zero
//    slots whose most significant digit holds exactly the bits that B leaves for it, whose
//    least significant digit is odd (the numbers sought, primes and moduli, are odd), and
//    whose digits use every bit of their width (each bit set in at least one digit in sixteen:
//    a random number's are set half of the time; text, pointers and small integers leave some
//    bits always clear).
//  - full-width 32-bit words, most significant first (the JVM's int[] magnitude): any word is a
//    valid digit, so a structure prior is needed: the array's 32-bit length, right before its
//    first element, equal to the number's word count.
// Blind spots: numbers under 1024 bits in a narrow layout (the primes of RSA keys under 2048
// bits); a number with a zero digit in a narrow layout (about one in 2^(digit bits) per digit);
// a JVM magnitude whose array length is not directly before its words; and a runtime linked
// into an executable whose file name does not say so (runtime_layouts).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "detect/limb_candidates.hpp"
#include "detect/number_layout.hpp"

namespace dumpguard {

// The layouts worth reading in a dump: those the hunts read (NumberLayout::hunted, and the JVM's
// int[]) for the process's pointer width, whose runtime is mapped (a module whose file name
// holds one of NumberLayout::modules). A process that runs no such runtime costs nothing here.
// Every one of them when the dump names no module (a raw image) or `every` is set (--exhaustive).
std::vector<const NumberLayout*> runtime_layouts(const DumpModel& model, unsigned process_bits, bool every);

// found(index into bits, offset in s.data of the number's first slot, its layout), for each
// candidate in one of `layouts` whose first slot is at a walk position of s ([from, to)); a
// candidate is read with read_number(layout, ..., digits_for(layout, bits[i]), (bits[i] + 7) / 8).
using RuntimeNumberFound = std::function<void(std::size_t which, std::size_t offset, const NumberLayout& layout)>;
void for_each_runtime_number(const LimbSearch& s, std::span<const NumberLayout* const> layouts,
                             std::span<const unsigned> bits, const RuntimeNumberFound& found);

// How far past its first slot a candidate of `bits` bits can reach, for a chunk's window.
std::size_t runtime_number_reach(unsigned bits);

}  // namespace dumpguard
