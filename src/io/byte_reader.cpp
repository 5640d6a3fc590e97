#include "io/byte_reader.hpp"

#include <fmt/format.h>

namespace dumpguard {

Result<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t at) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return Error{Errc::overflow, at, fmt::format("{:#x} + {:#x} overflows 64 bits", a, b)};
  }
  return sum;
}

Result<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t at) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    return Error{Errc::overflow, at, fmt::format("{} * {} overflows 64 bits", a, b)};
  }
  return product;
}

Error ByteReader::truncated(std::uint64_t offset, std::uint64_t length) const {
  return Error{Errc::truncated, base_ + offset,
               fmt::format("expected {} bytes, but only {} remain", length,
                           offset <= data_.size() ? data_.size() - offset : 0)};
}

namespace {
template <class T>
T load_le(std::span<const std::byte> data, std::uint64_t offset) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value = static_cast<T>(value | static_cast<T>(static_cast<T>(static_cast<std::uint8_t>(data[offset + i])) << (8 * i)));
  }
  return value;
}
}  // namespace

Result<std::uint8_t> ByteReader::u8(std::uint64_t offset) const {
  if (!has(offset, 1)) return truncated(offset, 1);
  return static_cast<std::uint8_t>(data_[offset]);
}
Result<std::uint16_t> ByteReader::u16le(std::uint64_t offset) const {
  if (!has(offset, 2)) return truncated(offset, 2);
  return load_le<std::uint16_t>(data_, offset);
}
Result<std::uint32_t> ByteReader::u32le(std::uint64_t offset) const {
  if (!has(offset, 4)) return truncated(offset, 4);
  return load_le<std::uint32_t>(data_, offset);
}
Result<std::uint64_t> ByteReader::u64le(std::uint64_t offset) const {
  if (!has(offset, 8)) return truncated(offset, 8);
  return load_le<std::uint64_t>(data_, offset);
}
Result<std::uint64_t> ByteReader::word_le(std::uint64_t offset, unsigned width) const {
  if (width == 4) {
    DG_TRY(auto v, u32le(offset));
    return std::uint64_t{v};
  }
  return u64le(offset);
}

Result<std::span<const std::byte>> ByteReader::bytes(std::uint64_t offset,
                                                     std::uint64_t length) const {
  if (!has(offset, length)) return truncated(offset, length);
  return data_.subspan(offset, length);
}

Result<ByteReader> ByteReader::sub(std::uint64_t offset, std::uint64_t length) const {
  DG_TRY(auto span, bytes(offset, length));
  return ByteReader(span, base_ + offset);
}

Result<std::string> ByteReader::cstring(std::uint64_t offset, std::uint64_t max_length) const {
  if (offset > data_.size()) return truncated(offset, 1);
  const std::uint64_t limit = std::min<std::uint64_t>(max_length, data_.size() - offset);
  for (std::uint64_t i = 0; i < limit; ++i) {
    if (data_[offset + i] == std::byte{0}) {
      return std::string(reinterpret_cast<const char*>(data_.data() + offset), i);
    }
  }
  return Error{Errc::bad_value, base_ + offset,
               fmt::format("expected a NUL-terminated string within {} bytes", limit)};
}

}  // namespace dumpguard
