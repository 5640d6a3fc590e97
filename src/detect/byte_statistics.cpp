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

}  // namespace dumpguard
