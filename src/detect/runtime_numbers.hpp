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
// EC scalars (256 to 521 bits, odd or even) are proposed in the same walk by a test of their own
// (for_each_runtime_number's scalar_bits).
// Blind spots: numbers under 1024 bits in a narrow layout (the primes of RSA keys under 2048
// bits), but for EC scalars; a number with a zero digit in a narrow layout (about one in
// 2^(digit bits) per digit), and a scalar with a digit whose upper half is clear (one in
// 2^(digit bits / 2) per digit) or inside a longer run of such digits; a JVM magnitude whose
// array length is not directly before its words; and a runtime linked into an executable whose
// file name does not say so (runtime_layouts).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "detect/limb_candidates.hpp"
#include "detect/number_layout.hpp"

namespace dumpguard {

// The layouts worth reading in a dump: those the hunts read (NumberLayout::hunted and
// scalars_hunted, and the JVM's int[]) for the process's pointer width, whose runtime is
// mapped (a module whose file name holds one of NumberLayout::modules). A process that runs no
// such runtime costs nothing here.
// Every one of them when the dump names no module (a raw image) or `every` is set (--exhaustive).
std::vector<const NumberLayout*> runtime_layouts(const DumpModel& model, unsigned process_bits, bool every);

// The layouts the closure writes every known number in: every one, but those it searches only
// where their runtime is mapped (NumberLayout::closure_where_mapped) when the dump maps none.
std::vector<const NumberLayout*> closure_layouts(const DumpModel& model);

// found(index into bits, offset in s.data of the number's first slot, its layout), for each
// candidate in one of `layouts` whose first slot is at a walk position of s ([from, to)); a
// candidate is read with read_number(layout, ..., digits_for(layout, bits[i]), (bits[i] + 7) / 8).
using RuntimeNumberFound = std::function<void(std::size_t which, std::size_t offset, const NumberLayout& layout)>;
// In the same walk, EC scalars: found(index into scalar_bits, offset of the first slot, layout,
// digits) for each number of scalar_bits[i] less at most 15 bits (a scalar below the order is
// that long but once in 2^15), odd or even, read with read_number(layout, ..., digits,
// (scalar_bits[i] + 7) / 8). In a narrow layout, every digit but the most significant must be
// strong (valid, with a bit set in its upper half, not shaped like a pointer) and the number
// must be a whole run of strong digits; in the JVM's int[], the array's length word is the prior
// (the callers take only CPython ints, whole JVM arrays and V8 digit arrays by default:
// cpython_int_at, jvm_int_array_at, v8_digit_array_at). Layouts only the EC hunt reads
// (NumberLayout::scalars_hunted) propose no number of `bits`.
using RuntimeScalarFound =
    std::function<void(std::size_t which, std::size_t offset, const NumberLayout& layout, std::size_t digits)>;
// And where the JVM's layout is among `layouts`, in the same loads as its int[] arrays: found(index
// into key_der_lengths, offset of the scalar's first byte) for each JVM EC key's DER of a scalar
// of one of those lengths (jvm_key_der_at), its array's first element at a walk position.
using JvmKeyDerFound = std::function<void(std::size_t which, std::size_t offset)>;
void for_each_runtime_number(const LimbSearch& s, std::span<const NumberLayout* const> layouts,
                             std::span<const unsigned> bits, const RuntimeNumberFound& found,
                             std::span<const unsigned> scalar_bits = {}, const RuntimeScalarFound& scalar_found = {},
                             std::span<const std::size_t> key_der_lengths = {},
                             const JvmKeyDerFound& key_der_found = {});

// Whether the number at `offset` of s.data, `digits` slots of `layout`, is the value of a CPython
// int: a CPython layout, with the int's size right before its digits (ob_size, the digit count,
// up to CPython 3.11; lv_tag, the count shifted left by three, from 3.12).
bool cpython_int_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits);

// Whether the number at `offset` of s.data, `digits` slots of `layout`, is the whole of a JVM
// int[] array as HotSpot lays one out in a 64-bit process: a mark word (an unlocked object's:
// lock bits 01, not biased, nothing above the 31-bit hash), the klass (a 32-bit compressed
// klass pointer, or a 64-bit one without compressed class pointers), the 32-bit length equal
// to `digits`, then the words, the object 8-byte aligned. A BigInteger's magnitude is such an
// array; random words, and a length that is not an array's, are not (a random word passes the
// mark test once in 2^29).
bool jvm_int_array_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits);
// The same header test for any array of `length` elements whose first element is at `offset`
// (a byte[]'s bytes start where an int[]'s words do).
bool jvm_array_at(const LimbSearch& s, std::size_t offset, std::size_t length);

// OpenJDK's EC private keys (sun.security.ec.ECPrivateKeyImpl, as OpenJDK 17 keeps one) hold the
// scalar, beside a little-endian byte[] of it (arrayS, one of the many random byte[]s of a heap),
// as the DER of an RFC 5915 ECPrivateKey with neither curve nor public key: SEQUENCE { INTEGER
// 1, OCTET STRING d big-endian }. Whether the byte[] whose first element is at `offset` is
// exactly that for a scalar of `scalar_length` bytes: a 64-bit process's object header
// (jvm_array_at) with the length scalar_length + 7, and the DER's seven bytes before the
// scalar, which random bytes match but once in 2^56.
bool jvm_key_der_at(const LimbSearch& s, std::size_t offset, std::size_t scalar_length);

// Whether the number at `offset` of s.data, `digits` slots of `layout`, starts a V8 FixedArray
// of small integers in a 64-bit process without pointer compression (smi64-*), as the array
// of a JavaScript array of digits (bn.js's `words`, jsbn's) is laid out: the map (a tagged heap
// pointer: its low bits 01, in user space), the length as a small integer, at least `digits`
// and at most kV8ArrayLongest (bn.js leaves spare words past a number's length), then the
// elements, 8-byte aligned; and the digits below the most significant use the top two bits of
// the layout's width in one digit at least (a scalar misses that once in 2^18; bn.js's 26-bit
// digits read as jsbn's 28-bit ones always do). A random word passes the map test once in four,
// a random length once in 2^32.
inline constexpr std::uint64_t kV8ArrayLongest = 4096;
bool v8_digit_array_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits);
// Whether, in a V8 layout (smi*), the two slots after the number hold strong digits (valid, the
// upper half of the digit set): the array goes on past the number, with more of it or with stale digits that bn.js
// leaves past a number's length (a coordinate reduced in place from a product).
bool v8_digits_follow(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits);

// Whether the number in `digits` slots of `layout` at `slots`, read as `length` big-endian bytes,
// passes looks_random: the test a candidate scalar passes whatever its layout. The bytes read
// are wiped.
bool number_looks_random(const NumberLayout& layout, std::span<const std::uint8_t> slots, std::size_t digits,
                   std::size_t length);

// How far past its first slot a candidate of `bits` bits can reach, for a chunk's window.
std::size_t runtime_number_reach(unsigned bits);

}  // namespace dumpguard
