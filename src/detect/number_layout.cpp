#include "detect/number_layout.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace dumpguard {

namespace {

constexpr NumberLayout bytes_layout(std::string_view name, std::string_view used_by, bool ms_first) {
  NumberLayout l;
  l.name = name;
  l.used_by = used_by;
  l.most_significant_first = ms_first;
  return l;
}

constexpr NumberLayout digits(std::string_view name, std::string_view used_by, unsigned digit_bits,
                              unsigned slot_bytes, unsigned shift = 0, std::uint64_t tag = 0,
                              unsigned process_bits = 0, bool hunted = false, std::string_view modules = {},
                              bool ms_first = false) {
  NumberLayout l;
  l.name = name;
  l.used_by = used_by;
  l.digit_bits = digit_bits;
  l.slot_bytes = slot_bytes;
  l.value_bytes = slot_bytes;
  l.shift = shift;
  l.tag = tag;
  l.most_significant_first = ms_first;
  l.hunted = hunted;
  l.modules = modules;
  l.process_bits = process_bits;
  return l;
}

// A layout the closure searches only where its runtime is mapped.
constexpr NumberLayout where_mapped(NumberLayout l) {
  l.closure_where_mapped = true;
  return l;
}

// A layout the EC hunt reads for scalars, where the RSA hunt reads nothing.
constexpr NumberLayout scalars_only(NumberLayout l) {
  l.scalars_hunted = true;
  return l;
}

constexpr bool kHunted = true;
constexpr std::string_view kV8 = "node|v8|chrome|electron|deno";
constexpr std::string_view kTomMath = "tommath|dropbear|tcl";

// Little-endian hosts (x86, x86-64, ARM as Linux and Windows run it): slots are little-endian.
constexpr std::array kLayouts{
    bytes_layout("be", "big-endian bytes: DER and SSH integers, JWK fields, fixed-width big-endian fields", true),
    bytes_layout("le",
                 "little-endian bytes, and so every little-endian array of full 32- or 64-bit limbs: OpenSSL's "
                 "BIGNUM, GMP, Go's big.Int, .NET's BigInteger, Rust's num-bigint, CNG and CAPI blobs",
                 false),
    digits("jvm-int32", "32-bit words, most significant first: the JVM's BigInteger (int[] mag)", 32, 4, 0, 0, 0, false,
           "libjvm", true),
    digits("cpython-30", "30-bit digits in 32-bit words: CPython's int on 64-bit builds", 30, 4, 0, 0, 64, kHunted,
           "python"),
    digits("cpython-15", "15-bit digits in 16-bit words: CPython's int on 32-bit builds", 15, 2, 0, 0, 32, kHunted,
           "python"),
    scalars_only(digits("smi64-26", "26-bit digits as small integers in the high half of 64-bit slots: V8 without "
                                    "pointer compression (Node.js), as bn.js (elliptic's numbers) and jsbn keep them",
                        26, 8, 32, 0, 64, false, kV8)),
    digits("smi64-28", "28-bit digits as V8 small integers in 64-bit slots (jsbn's usual width in V8)", 28, 8, 32, 0,
           64, kHunted, kV8),
    digits("smi64-30", "30-bit digits as V8 small integers in 64-bit slots", 30, 8, 32, 0, 64),
    where_mapped(digits("smi64-8", "bytes as V8 small integers in 64-bit slots, most significant first: a JavaScript "
                                   "array of a number's big-endian bytes (bn.js's toArray, with which elliptic signs "
                                   "with a key and seeds hmac-drbg)",
                        8, 8, 32, 0, 64, false, kV8, true)),
    digits("smi32-26", "26-bit digits as small integers shifted by one in 32-bit slots: V8 with pointer compression",
           26, 4, 1),
    digits("smi32-28", "28-bit digits as V8 small integers in 32-bit slots", 28, 4, 1, 0, 0, kHunted, kV8),
    digits("smi32-30", "30-bit digits as V8 small integers in 32-bit slots", 30, 4, 1),
    digits("tagged63-30", "30-bit digits as tagged integers (n << 1 | 1) in 64-bit slots: OCaml, Ruby", 30, 8, 1, 1,
           64),
    digits("tagged63-60", "60-bit digits as tagged integers (n << 1 | 1) in 64-bit slots: OCaml, Ruby", 60, 8, 1, 1,
           64),
    digits("limb26-32", "26-bit limbs in 32-bit words: field arithmetic (poly1305-donna-32, secp256k1 10x26)", 26, 4,
           0, 0, 0),
    digits("limb28-32", "28-bit limbs in 32-bit words: libtommath on 32-bit hosts, p448 32-bit", 28, 4, 0, 0, 32, kHunted,
           kTomMath),
    digits("limb26-64", "26-bit limbs in 64-bit words: field arithmetic that keeps 32-bit limbs in 64-bit slots", 26,
           8, 0, 0, 64),
    digits("limb28-64", "28-bit limbs in 64-bit words", 28, 8, 0, 0, 64),
    digits("limb51-64", "51-bit limbs in 64-bit words: curve25519-donna-64, Go's and Rust's Curve25519 fields", 51, 8,
           0, 0, 64),
    digits("limb52-64", "52-bit limbs in 64-bit words: libsecp256k1 5x52, P-256 52-bit fields", 52, 8, 0, 0, 64),
    digits("limb56-64", "56-bit limbs in 64-bit words: p448 (Ed448) 64-bit", 56, 8, 0, 0, 64),
    digits("limb60-64", "60-bit limbs in 64-bit words: libtommath on 64-bit hosts (Dropbear, Tcl)", 60, 8, 0, 0, 64,
           kHunted, kTomMath),
};

std::uint64_t read_value(const NumberLayout& l, const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < l.value_bytes && i < 8; ++i) {
    const std::uint64_t b = p[l.slot_big_endian ? l.value_bytes - 1 - i : i];
    v |= b << (8 * i);
  }
  return v;
}

void write_value(const NumberLayout& l, std::uint64_t v, std::uint8_t* p) {
  for (unsigned i = 0; i < l.value_bytes && i < 8; ++i) {
    p[l.slot_big_endian ? l.value_bytes - 1 - i : i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

std::uint64_t digit_mask(const NumberLayout& l) {
  return l.digit_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << l.digit_bits) - 1;
}

}  // namespace

std::span<const NumberLayout> number_layouts() { return kLayouts; }

const NumberLayout& layout_named(std::string_view name) {
  for (const NumberLayout& l : kLayouts) {
    if (l.name == name) return l;
  }
  throw std::logic_error("no number layout named " + std::string(name));
}

std::size_t digits_for(const NumberLayout& layout, std::size_t significant_bits) {
  return std::max<std::size_t>(1, (significant_bits + layout.digit_bits - 1) / layout.digit_bits);
}

Magnitude magnitude_of(std::span<const std::uint8_t> big_endian) {
  std::size_t lead = 0;
  while (lead < big_endian.size() && big_endian[lead] == 0) ++lead;
  Magnitude m;
  m.bytes = big_endian.subspan(lead);
  if (m.bytes.empty()) return m;
  unsigned top_bits = 0;
  for (unsigned t = m.bytes[0]; t != 0; t >>= 1) ++top_bits;
  m.bits = 8 * (m.bytes.size() - 1) + top_bits;
  return m;
}

LaidOut lay_out_magnitude(const NumberLayout& layout, const Magnitude& magnitude) {
  return lay_out(layout, magnitude.bytes, digits_for(layout, magnitude.bits));
}

LaidOut lay_out(const NumberLayout& layout, std::span<const std::uint8_t> big_endian, std::size_t digits) {
  LaidOut out;
  out.bytes.assign(digits * layout.slot_bytes, 0);
  out.mask.assign(digits * layout.slot_bytes, 0);
  const std::size_t n = big_endian.size();
  // Bit b of the number (0: least significant).
  const auto bit = [&](std::size_t b) -> std::uint64_t {
    const std::size_t byte = b / 8;
    if (byte >= n) return 0;
    return (big_endian[n - 1 - byte] >> (b % 8)) & 1;
  };
  const std::uint64_t value_mask =
      layout.value_bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * layout.value_bytes)) - 1;
  for (std::size_t d = 0; d < digits; ++d) {
    std::uint64_t digit = 0;
    for (unsigned k = 0; k < layout.digit_bits; ++k) digit |= bit(d * layout.digit_bits + k) << k;
    const std::uint64_t value = ((digit << layout.shift) | layout.tag) & value_mask;
    const std::size_t slot = layout.most_significant_first ? digits - 1 - d : d;
    std::uint8_t* p = out.bytes.data() + slot * layout.slot_bytes;
    write_value(layout, value, p);
    std::uint8_t* m = out.mask.data() + slot * layout.slot_bytes;
    for (unsigned i = 0; i < layout.value_bytes; ++i) m[i] = 0xFF;
  }
  // Digits cleared here are wiped by the caller with the rest (they are the secret's bits).
  return out;
}

bool valid_slot(const NumberLayout& layout, const std::uint8_t* p) {
  const std::uint64_t v = read_value(layout, p);
  const std::uint64_t low = layout.shift == 0 ? 0 : v & ((std::uint64_t{1} << layout.shift) - 1);
  if (low != layout.tag) return false;
  const unsigned top = layout.shift + layout.digit_bits;
  return top >= 64 || top >= 8 * layout.value_bytes || (v >> top) == 0;
}

std::uint64_t digit_of(const NumberLayout& layout, const std::uint8_t* p) {
  return (read_value(layout, p) >> layout.shift) & digit_mask(layout);
}

std::optional<std::vector<std::uint8_t>> read_number(const NumberLayout& layout, std::span<const std::uint8_t> slots,
                                                     std::size_t digits, std::size_t out_bytes) {
  if (slots.size() < digits * layout.slot_bytes) return std::nullopt;
  std::vector<std::uint8_t> out(out_bytes, 0);
  const std::size_t out_bits = 8 * out_bytes;
  for (std::size_t d = 0; d < digits; ++d) {
    const std::size_t slot = layout.most_significant_first ? digits - 1 - d : d;
    const std::uint8_t* p = slots.data() + slot * layout.slot_bytes;
    if (!valid_slot(layout, p)) return std::nullopt;
    const std::uint64_t digit = digit_of(layout, p);
    for (unsigned k = 0; k < layout.digit_bits; ++k) {
      if (!((digit >> k) & 1)) continue;
      const std::size_t b = d * layout.digit_bits + k;
      if (b >= out_bits) return std::nullopt;
      out[out_bytes - 1 - b / 8] |= static_cast<std::uint8_t>(1u << (b % 8));
    }
  }
  return out;
}

}  // namespace dumpguard
