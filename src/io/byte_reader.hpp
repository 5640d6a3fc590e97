// ByteReader: the one bounds-checked way parsers read hostile bytes.
// Every read names its offset and either returns the value or an Error that says where
// the bytes ran out. Offsets are relative to the reader's span; errors report them as
// absolute file offsets (base + offset) so messages point into the file the user has.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

// a + b, or an overflow error located at `at`.
Result<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t at);
// a * b, or an overflow error located at `at`.
Result<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t at);

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const std::byte> data, std::uint64_t base = 0)
      : data_(data), base_(base) {}

  std::uint64_t size() const { return data_.size(); }
  std::uint64_t base() const { return base_; }
  std::span<const std::byte> data() const { return data_; }

  // True when [offset, offset + length) lies inside the span (overflow-safe).
  bool has(std::uint64_t offset, std::uint64_t length) const {
    return offset <= data_.size() && length <= data_.size() - offset;
  }

  Result<std::uint8_t> u8(std::uint64_t offset) const;
  Result<std::uint16_t> u16le(std::uint64_t offset) const;
  Result<std::uint32_t> u32le(std::uint64_t offset) const;
  Result<std::uint64_t> u64le(std::uint64_t offset) const;
  // A 32- or 64-bit little-endian word, as ELF class or pointer size decides.
  Result<std::uint64_t> word_le(std::uint64_t offset, unsigned width) const;

  Result<std::span<const std::byte>> bytes(std::uint64_t offset, std::uint64_t length) const;
  // A reader over [offset, offset + length), keeping absolute offsets in errors.
  Result<ByteReader> sub(std::uint64_t offset, std::uint64_t length) const;

  // A NUL-terminated string starting at offset, at most max_length bytes long.
  Result<std::string> cstring(std::uint64_t offset, std::uint64_t max_length) const;

  // An error located at base + offset.
  Error error_at(Errc code, std::uint64_t offset, std::string message) const {
    return Error{code, base_ + offset, std::move(message)};
  }

 private:
  Error truncated(std::uint64_t offset, std::uint64_t length) const;

  std::span<const std::byte> data_;
  std::uint64_t base_ = 0;
};

}  // namespace dumpguard
