// A minimal, bounded DER (X.690) reader for the structures keys come in. Definite lengths
// only (DER forbids the indefinite form), at most 4 length bytes, every read checked
// against the bytes that are there: memory holds truncated and random lookalikes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace dumpguard::der {

struct Tlv {
  std::uint8_t tag = 0;
  std::size_t header = 0;               // tag + length bytes
  std::span<const std::uint8_t> value;  // the content octets
  std::size_t size() const { return header + value.size(); }
};

// The TLV at the start of `in`, or nullopt when it is not well-formed DER.
std::optional<Tlv> read(std::span<const std::uint8_t> in);

// Walks the elements inside a constructed value, one after another.
class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> content) : rest_(content) {}
  std::optional<Tlv> next();
  // Next element only if it has this tag.
  std::optional<Tlv> next(std::uint8_t tag);
  std::optional<Tlv> peek() const { return read(rest_); }
  bool empty() const { return rest_.empty(); }

 private:
  std::span<const std::uint8_t> rest_;
};

// A non-negative INTEGER's magnitude without DER's sign-padding zero, or nullopt when the
// value is negative or not minimally encoded.
std::optional<std::span<const std::uint8_t>> unsigned_integer(const Tlv& tlv);
// A small INTEGER (e.g. a version), or nullopt.
std::optional<long> small_integer(const Tlv& tlv);

inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kBitString = 0x03;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kNull = 0x05;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kSequence = 0x30;

}  // namespace dumpguard::der
