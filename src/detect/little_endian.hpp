// Little-endian words of 1 to 8 bytes read from memory, as the walks over a dump read limbs,
// digits and sizes: one load for the usual widths (the byte loop was most of a walk's time).
#pragma once

#include <endian.h>

#include <cstdint>
#include <cstring>

namespace dumpguard {

inline std::uint64_t load_le(const std::uint8_t* p, unsigned width) {
  if (width == 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return le64toh(v);
  }
  if (width == 4) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return le32toh(v);
  }
  if (width == 2) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return le16toh(v);
  }
  std::uint64_t v = 0;
  for (unsigned i = 0; i < width && i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

inline std::uint32_t load_le32(const std::uint8_t* p) { return static_cast<std::uint32_t>(load_le(p, 4)); }

}  // namespace dumpguard
