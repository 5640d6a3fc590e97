// What lets a hunt test candidates on several threads and still end up where one pass in order
// would: every candidate has a position in that pass (area, then stream, then chunk, then its
// index), threads share the earliest position where each target was found so they can skip
// what cannot matter any more, and one thread then replays the outcomes in order, applying the
// state that crosses candidates (first found wins, budgets, the clock) exactly as the pass did.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <tuple>
#include <vector>

#include "detect/chunks.hpp"

namespace dumpguard {

// Position at chunk resolution; the order is the pass's: area, then stream, then chunk.
// Areas < 2^24, streams < 2^8, chunks < 2^32 (a chunk is at least 4 KiB of a dump).
inline std::uint64_t pass_position(std::size_t area, std::size_t stream, std::size_t chunk) {
  return (std::uint64_t{area} << 40) | (std::uint64_t{stream & 0xFF} << 32) | (chunk & 0xFFFFFFFFu);
}

// The earliest pass position where a target (a modulus, a key, a token) was found so far.
class EarliestHit {
 public:
  EarliestHit() = default;
  EarliestHit(const EarliestHit& other) : at_(other.at_.load(std::memory_order_relaxed)) {}
  // True when a hit at a position before `position` is known: candidates at `position` can no
  // longer be the first for this target.
  bool before(std::uint64_t position) const { return at_.load(std::memory_order_relaxed) < position; }
  void note(std::uint64_t position) {
    std::uint64_t seen = at_.load(std::memory_order_relaxed);
    while (position < seen && !at_.compare_exchange_weak(seen, position, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<std::uint64_t> at_{std::numeric_limits<std::uint64_t>::max()};
};

// Each chunk's hits in the order of one pass through the chunk: stream, then index.
template <typename Outcome>
void sort_hits_in_pass_order(std::vector<Outcome>& outcomes) {
  for (Outcome& out : outcomes) {
    std::sort(out.hits.begin(), out.hits.end(),
              [](const auto& a, const auto& b) { return std::tie(a.stream, a.index) < std::tie(b.stream, b.index); });
  }
}

// Where the hunt's clock ran out first, in the order of one pass: the earliest of the chunks'
// stops. A candidate at or after it does not count; the clock reports its file offset.
class PassStop {
 public:
  // Outcome: a chunk's outcome with `stop`, an optional hit that has stream, index, file_offset.
  template <typename Outcome>
  static PassStop earliest(const std::vector<ChunkBounds>& chunks, const std::vector<Outcome>& outcomes) {
    PassStop first;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      if (const auto& s = outcomes[c].stop) {
        const auto at = std::make_tuple(pass_position(chunks[c].area, s->stream, c), s->index);
        if (!first.at_ || at < *first.at_) {
          first.at_ = at;
          first.file_offset_ = s->file_offset;
        }
      }
    }
    return first;
  }

  explicit operator bool() const { return at_.has_value(); }
  std::uint64_t file_offset() const { return file_offset_; }
  // Whether the candidate `index` of `stream` in chunk `c` (of area `area`) comes at or after it.
  bool covers(std::size_t area, std::size_t stream, std::size_t c, std::size_t index) const {
    return at_ && std::make_tuple(pass_position(area, stream, c), index) >= *at_;
  }

 private:
  std::optional<std::tuple<std::uint64_t, std::size_t>> at_;
  std::uint64_t file_offset_ = 0;
};

}  // namespace dumpguard
