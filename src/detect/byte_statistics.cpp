#include "detect/byte_statistics.hpp"

#include <array>

namespace dumpguard {

unsigned distinct_bytes(const std::uint8_t* p, std::size_t len) {
  std::array<std::uint64_t, 4> seen{};
  unsigned distinct = 0;
  for (std::size_t i = 0; i < len; ++i) {
    std::uint64_t& word = seen[p[i] >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (p[i] & 63);
    if (!(word & bit)) {
      word |= bit;
      ++distinct;
    }
  }
  return distinct;
}

bool has_pointer_word(const std::uint8_t* p, std::size_t len) {
  for (std::size_t i = 0; i + 8 <= len; i += 8) {
    if (p[i + 7] == 0 && p[i + 6] == 0 && (p[i + 5] == 0x7f || p[i + 5] == 0x55 || p[i + 5] == 0x56)) return true;
  }
  return false;
}

bool structured_word(const std::uint8_t* p) {
  if (p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] == 0) return true;
  if (p[4] == 0xff && p[5] == 0xff && p[6] == 0xff && p[7] == 0xff) return true;  // small negative (-1)
  if (has_pointer_word(p, 8)) return true;
  for (int i = 0; i < 8; ++i) {
    if (p[i] < 0x20 || p[i] >= 0x7f) return false;
  }
  return true;
}

bool looks_random(const std::uint8_t* p, std::size_t len) {
  unsigned high = 0;
  for (std::size_t i = 0; i < len; ++i) high += p[i] >> 7;
  if (high < len / 8 || distinct_bytes(p, len) < len / 2) return false;
  for (std::size_t i = 0; i + 8 <= len; i += 8) {
    if (structured_word(p + i)) return false;
  }
  return true;
}

}  // namespace dumpguard
