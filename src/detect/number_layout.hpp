// How runtimes lay out big integers in memory, as one table. The closure writes every known
// number in every layout and searches for all of them; the hunts read candidates through the
// same descriptions. Adding a runtime's layout is one entry in kNumberLayouts.
//
// A layout is a sequence of slots. Each slot holds one digit of `digit_bits` bits, shifted left
// by `shift` inside the slot's value, with `tag` in the bits below (a tagged small integer);
// the value is `value_bytes` wide, stored in the slot's byte order, and the slot's other bytes
// (a type tag, or padding the runtime never writes) are not part of the number: a search
// ignores them rather than requiring zeros. Digits come least or most significant first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dumpguard {

struct NumberLayout {
  std::string_view name;     // the findings' encoding: "be", "le", "jvm-int32", ...
  std::string_view used_by;  // who keeps numbers this way
  unsigned digit_bits = 8;
  unsigned slot_bytes = 1;
  unsigned value_bytes = 1;  // bytes of the slot that hold the (shifted, tagged) digit
  unsigned shift = 0;
  std::uint64_t tag = 0;     // the bits below `shift`
  bool slot_big_endian = false;
  bool most_significant_first = false;
  // Whether the RSA hunt reads candidates from values alone in this layout (the closure searches
  // every layout for every known number): the narrow layouts that runtimes keep big integers in,
  // not field arithmetic's limbs; and the process pointer width that keeps numbers this way (0:
  // any).
  bool hunted = false;
  // Whether only the EC hunt reads candidates from values in this layout (its scalars; the RSA
  // hunt does not): bn.js's 26-bit digits, in which Node.js keeps elliptic's EC keys.
  bool scalars_hunted = false;
  unsigned process_bits = 0;
  // Module names (parts of a file name, '|'-separated) that show a process runs the runtime
  // that keeps numbers this way: the hunts look for this layout only where one is mapped.
  std::string_view modules;
  // Whether the closure too searches this layout only where `modules` are mapped: one byte of
  // a number per 8-byte slot makes windows as plain as a small integer's, which every heap holds
  // in numbers, so searching them everywhere costs a tenth of the closure's pass for nothing.
  bool closure_where_mapped = false;

  // A narrow layout: a slot cannot take every value (digits narrower than the slot, tags,
  // ignored bytes), so a run of valid slots is itself a rare shape and values alone may
  // propose candidates. Full-width layouts need a structure prior.
  bool narrow() const { return digit_bits < 8 * slot_bytes; }
};

// Every layout the closure searches: big-endian and little-endian bytes first (the forms
// OpenSSL, DER and every full-width little-endian limb array share), then the runtimes'.
std::span<const NumberLayout> number_layouts();
const NumberLayout& layout_named(std::string_view name);

// A number written in a layout: the bytes of its slots and a mask of the bits that are part of
// it (0xFF bytes for the digits, 0x00 for ignored bytes). `digits` slots, at least as many as
// the number needs (more are zero digits, as a runtime that keeps a fixed width leaves them).
struct LaidOut {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> mask;
};
std::size_t digits_for(const NumberLayout& layout, std::size_t significant_bits);
// A big-endian number without its leading zero bytes, and its bit length: what a runtime that
// keeps only the digits a number needs writes (so a search for it in any layout lays this out).
struct Magnitude {
  std::span<const std::uint8_t> bytes;
  std::size_t bits = 0;
};
Magnitude magnitude_of(std::span<const std::uint8_t> big_endian);
// The number in `layout` with the digits its magnitude needs (digits_for(layout, bits)).
LaidOut lay_out_magnitude(const NumberLayout& layout, const Magnitude& magnitude);
// `big_endian`: the magnitude, most significant byte first (leading zeros allowed).
LaidOut lay_out(const NumberLayout& layout, std::span<const std::uint8_t> big_endian, std::size_t digits);

// The number held by `digits` slots at `slots` (which must be that long), as big-endian bytes of
// `out_bytes` length; nullopt when a slot is not a valid digit of the layout (a set bit above
// the digit, a wrong tag) or the number does not fit.
std::optional<std::vector<std::uint8_t>> read_number(const NumberLayout& layout, std::span<const std::uint8_t> slots,
                                                     std::size_t digits, std::size_t out_bytes);

// Whether the slot at `p` (slot_bytes long) holds a valid digit of the layout.
bool valid_slot(const NumberLayout& layout, const std::uint8_t* p);
// The digit held by the slot at `p`, which valid_slot accepts.
std::uint64_t digit_of(const NumberLayout& layout, const std::uint8_t* p);

}  // namespace dumpguard
