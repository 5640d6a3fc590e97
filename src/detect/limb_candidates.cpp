#include "detect/limb_candidates.hpp"

#include <endian.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include <algorithm>

#include "detect/detector.hpp"


namespace dumpguard {

LimbSearch chunk_limb_search(const ScanContext& context, const ScanArea& area, const ScanArea& window,
                             const ChunkBounds& chunk, unsigned word, std::size_t length) {
  const std::uint64_t base = vaddr_of(context.dump, window, 0).value_or(window.file_offset);
  LimbSearch s{{reinterpret_cast<const std::uint8_t*>(window.bytes.data()), window.bytes.size()}, base, word, length};
  s.from = static_cast<std::size_t>(area.file_offset + chunk.begin - window.file_offset);
  s.to = s.from + static_cast<std::size_t>(chunk.end - chunk.begin);
  return s;
}

void for_each_chunk_of(const LimbSearch& s, std::span<const ChunkTarget> targets,
                       const std::function<void(std::size_t target, std::size_t offset)>& found) {
  if (targets.empty()) return;
  const unsigned align = 2 * s.word;
  const std::size_t size = s.data.size();
  std::uint64_t lowest = UINT64_MAX, highest = 0;
  std::size_t shortest = SIZE_MAX;
  for (const ChunkTarget& t : targets) {
    lowest = std::min<std::uint64_t>(lowest, t.length + s.word);
    highest = std::max<std::uint64_t>(highest, t.length + t.slack + s.word + align);
    shortest = std::min(shortest, t.length);
  }
  std::size_t o = (align - s.base_vaddr % align) % align;
  if (o < s.word) o += align;
  if (o < s.from) o += (s.from - o + align - 1) / align * align;
  const std::size_t end = std::min(size, s.to);
  const std::uint8_t* data = s.data.data();
#if defined(__SSE2__)
  // 64-bit processes: the size words of the chunks at o, o+16, o+32, o+48 in one vector test;
  // most groups of four hold no size in range and are skipped.
  const __m128i bias = _mm_set1_epi32(static_cast<int>(0x80000000u));
  const __m128i low = _mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(lowest)));
  const __m128i span = _mm_xor_si128(_mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(highest - lowest))), bias);
  const __m128i flags = _mm_set1_epi32(~7);
  const auto none_in_range = [&](std::size_t at) {
    const auto load = [&](std::size_t k) { return _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + k))); };
    const __m128 a = _mm_shuffle_ps(load(at - 8), load(at + 8), _MM_SHUFFLE(1, 0, 1, 0));
    const __m128 b = _mm_shuffle_ps(load(at + 24), load(at + 40), _MM_SHUFFLE(1, 0, 1, 0));
    const __m128i lows = _mm_and_si128(_mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), flags);
    const __m128i highs = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m128i above = _mm_cmpgt_epi32(_mm_xor_si128(_mm_sub_epi32(lows, low), bias), span);
    const __m128i out = _mm_or_si128(above, _mm_cmpeq_epi32(_mm_cmpeq_epi32(highs, _mm_setzero_si128()), _mm_setzero_si128()));
    return _mm_movemask_ps(_mm_castsi128_ps(out)) == 0xF;
  };
#endif
  for (; o < end && o + shortest <= size; o += align) {
#if defined(__SSE2__)
    if (s.word == 8 && highest < 0x80000000u) {
      while (o + 64 <= end && o + 56 <= size && none_in_range(o)) o += 64;
      if (o >= end || o + shortest > size) break;
    }
#endif
    const std::uint64_t chunk = load_le(data + o - s.word, s.word) & ~std::uint64_t{7};
    if (chunk < lowest || chunk > highest || chunk % align != 0) continue;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const ChunkTarget& t = targets[i];
      if (o + t.length > size || chunk < t.length + s.word || chunk > t.length + t.slack + s.word + align) continue;
      found(i, o);
    }
  }
}

void for_each_chunk(const LimbSearch& s, std::size_t slack, const std::function<void(std::size_t)>& found) {
  const ChunkTarget target{s.length, slack};
  for_each_chunk_of(s, {&target, 1}, [&](std::size_t, std::size_t o) { found(o); });
}

void for_each_bignum_of(const LimbSearch& s, std::span<const std::size_t> lengths, const AddressMap& map,
                        const std::function<void(std::size_t which, std::uint64_t limbs_file_offset)>& found) {
  if (lengths.empty()) return;
  std::uint64_t fewest = UINT64_MAX, most = 0;
  for (std::size_t len : lengths) {
    fewest = std::min<std::uint64_t>(fewest, (len + s.word - 1) / s.word);
    most = std::max<std::uint64_t>(most, (len + s.word - 1) / s.word);
  }
  const std::size_t record = s.word + 16;  // d, top, dmax, neg, flags
  const std::size_t size = s.data.size();
  const std::uint8_t* data = s.data.data();
  std::size_t o = (s.word - s.base_vaddr % s.word) % s.word;
  if (o < s.from) o += (s.from - o + s.word - 1) / s.word * s.word;
  const std::size_t end = std::min(size, s.to);
#if defined(__SSE2__)
  // 64-bit processes: the four `top` fields of records at o, o+8, o+16, o+24 are the low
  // halves of the words at o+8 .. o+32; most groups of four have none in range, and are
  // skipped with one vector test (the walk reads every word of the dump).
  const __m128i bias = _mm_set1_epi32(static_cast<int>(0x80000000u));
  const __m128i low = _mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(fewest)));
  const __m128i span = _mm_xor_si128(_mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(most - fewest))), bias);
  const auto none_in_range = [&](std::size_t at) {
    const __m128 a = _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at + 8)));
    const __m128 b = _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at + 24)));
    const __m128i tops = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    const __m128i above = _mm_cmpgt_epi32(_mm_xor_si128(_mm_sub_epi32(tops, low), bias), span);  // unsigned top - fewest > span
    return _mm_movemask_ps(_mm_castsi128_ps(above)) == 0xF;
  };
#endif
  for (; o < end && o + record <= size; o += s.word) {
#if defined(__SSE2__)
    if (s.word == 8 && most < 0x80000000u) {
      while (o + 32 <= end && o + 40 <= size && none_in_range(o)) o += 32;
      if (o >= end || o + record > size) break;
    }
#endif
    const std::uint32_t top = load_le32(data + o + s.word);
    if (top < fewest || top > most) continue;
    const std::uint32_t dmax = load_le32(data + o + s.word + 4);
    const std::uint32_t neg = load_le32(data + o + s.word + 8);
    const std::uint32_t flags = load_le32(data + o + s.word + 12);
    if (neg > 1 || flags > 0x3F || dmax < top || dmax > std::uint64_t{top} + 64) continue;
    const std::uint64_t d = load_le(data + o, s.word);
    if (d == 0 || d % s.word != 0) continue;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      if (top != (lengths[i] + s.word - 1) / s.word) continue;
      if (auto at = map.file_offset(d, lengths[i])) found(i, *at);
    }
  }
}

void for_each_bignum(const LimbSearch& s, const AddressMap& map, const std::function<void(std::uint64_t)>& found) {
  const std::size_t length = s.length;
  for_each_bignum_of(s, {&length, 1}, map, [&](std::size_t, std::uint64_t at) { found(at); });
}

void for_each_island_of(const LimbSearch& s, std::span<const std::size_t> lengths,
                        const std::function<void(std::size_t which, std::size_t offset)>& found) {
  const std::size_t size = s.data.size();
  const std::uint8_t* data = s.data.data();
  const std::size_t first = (8 - s.base_vaddr % 8) % 8;
  // Is there a structured word among the words at from, from + 8, ... that end by `to`?
  const auto structure_in = [&](std::size_t from, std::size_t to) {
    for (std::size_t w = from; w + 8 <= std::min(to, size); w += 8) {
      if (structured_word(data + w)) return true;
    }
    return false;
  };
  // The first aligned structured word at or after `from` (size when there is none). The walk
  // visits structured words in order and asks for each one's successor once, so the words
  // between them are read once, not once per window length and reach.
  const auto next_structured = [&](std::size_t from) {
    for (std::size_t w = from; w + 8 <= size; w += 8) {
      if (structured_word(data + w)) return w;
    }
    return size;
  };
  std::size_t o = first;
  if (o < s.from) o += (s.from - o + 7) / 8 * 8;
  const std::size_t end = std::min(size, s.to);
  o = next_structured(o);
  std::size_t previous = SIZE_MAX;  // the structured word the walk visited before o
  while (o < end && o + 8 <= size) {
    const std::size_t next = next_structured(o + 8);
    // A structured word cannot be inside a random window (looks_random, which every caller
    // applies, refuses one), so the window after it and the one before it are the only islands
    // it bounds; the run of random bytes must also end within kIslandReach on the other side.
    // Each window is reported once: one between two structured words is reported from its left
    // side only.
    const std::size_t after = o + 8;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const std::size_t len = lengths[i];
      // `next` is the first structured word after o: none may end inside the window.
      if (after + len > size || next + 8 <= after + len) continue;
      if (structure_in(after + len, after + len + kIslandReach)) found(i, after);
    }
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const std::size_t len = lengths[i];
      if (o < len + first || len % 8 != 0) continue;
      const std::size_t before = o - len;
      if (previous != SIZE_MAX && previous + 8 > before) continue;  // a structured word inside
      const bool left_bounded = before >= 8 && structured_word(data + before - 8);
      const std::size_t reach_from = before > kIslandReach ? before - kIslandReach : first;
      if (!left_bounded && structure_in(reach_from, before)) found(i, before);
    }
    previous = o;
    o = next;
  }
}

void for_each_island(const LimbSearch& s, const std::function<void(std::size_t)>& found) {
  const std::size_t length = s.length;
  for_each_island_of(s, {&length, 1}, [&](std::size_t, std::size_t o) { found(o); });
}

}  // namespace dumpguard
