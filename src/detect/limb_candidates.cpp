#include "detect/limb_candidates.hpp"

#include <algorithm>


namespace dumpguard {

void for_each_chunk(const LimbSearch& s, std::size_t slack, const std::function<void(std::size_t)>& found) {
  const unsigned align = 2 * s.word;
  const std::size_t size = s.data.size();
  std::size_t o = (align - s.base_vaddr % align) % align;
  if (o < s.word) o += align;
  if (o < s.from) o += (s.from - o + align - 1) / align * align;
  const std::size_t end = std::min(size, s.to);
  const std::uint64_t min_chunk = s.length + s.word;
  const std::uint64_t max_chunk = s.length + slack + s.word + align;
  for (; o < end && o + s.length <= size; o += align) {
    const std::uint64_t chunk = load_le(s.data.data() + o - s.word, s.word) & ~std::uint64_t{7};
    if (chunk < min_chunk || chunk > max_chunk || chunk % align != 0) continue;
    found(o);
  }
}

void for_each_bignum(const LimbSearch& s, const AddressMap& map, const std::function<void(std::uint64_t)>& found) {
  const std::uint64_t limbs = (s.length + s.word - 1) / s.word;
  const std::size_t record = s.word + 16;  // d, top, dmax, neg, flags
  const std::size_t size = s.data.size();
  const std::uint8_t* data = s.data.data();
  std::size_t o = (s.word - s.base_vaddr % s.word) % s.word;
  if (o < s.from) o += (s.from - o + s.word - 1) / s.word * s.word;
  const std::size_t end = std::min(size, s.to);
  for (; o < end && o + record <= size; o += s.word) {
    if (load_le(data + o + s.word, 4) != limbs) continue;
    const std::uint64_t dmax = load_le(data + o + s.word + 4, 4);
    const std::uint64_t neg = load_le(data + o + s.word + 8, 4);
    const std::uint64_t flags = load_le(data + o + s.word + 12, 4);
    if (dmax < limbs || dmax > limbs + 64 || neg > 1 || flags > 0x3F) continue;
    const std::uint64_t d = load_le(data + o, s.word);
    if (d == 0 || d % s.word != 0) continue;
    if (auto at = map.file_offset(d, s.length)) found(*at);
  }
}

void for_each_island(const LimbSearch& s, const std::function<void(std::size_t)>& found) {
  const std::size_t size = s.data.size();
  const std::uint8_t* data = s.data.data();
  const std::size_t first = (8 - s.base_vaddr % 8) % 8;
  // Is there a structured word among the aligned words of [from, to)?
  const auto structure_in = [&](std::size_t from, std::size_t to) {
    for (std::size_t w = from; w + 8 <= std::min(to, size); w += 8) {
      if (structured_word(data + w)) return true;
    }
    return false;
  };
  std::size_t o = first;
  if (o < s.from) o += (s.from - o + 7) / 8 * 8;
  const std::size_t end = std::min(size, s.to);
  for (; o < end && o + 8 <= size; o += 8) {
    if (!structured_word(data + o)) continue;
    // A structured word cannot be inside a random window, so the window after it and the one
    // before it are the only islands it bounds; the run of random bytes must also end within
    // kIslandReach on the other side. Each window is reported once: one between two
    // structured words is reported from its left side only.
    const std::size_t after = o + 8;
    if (after + s.length <= size && structure_in(after + s.length, after + s.length + kIslandReach)) found(after);
    if (o >= s.length + first && s.length % 8 == 0) {
      const std::size_t before = o - s.length;
      const bool left_bounded = before >= 8 && structured_word(data + before - 8);
      const std::size_t reach_from = before > kIslandReach ? before - kIslandReach : first;
      if (!left_bounded && structure_in(reach_from, before)) found(before);
    }
  }
}

}  // namespace dumpguard
