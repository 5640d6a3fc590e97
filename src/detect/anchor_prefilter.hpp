// The anchor pass without Vectorscan: a vector prefilter over three consecutive positions of
// every anchor pattern, those that let the fewest bytes through ("Teddy", after Hyperscan's
// literal matcher, here for byte classes too):
// patterns go into 8 buckets, and per position two 16-entry tables map a byte's low and high
// nibble to the buckets that allow it; then the patterns of the buckets that passed are
// checked exactly. Vectorscan's multi-pattern database took 0.39 s of CPU per GiB of the
// benchmark core for the anchors alone: the DER anchors start with 0x30, the digit "0", and
// it fired on digits in text. This takes 0.24 s: three loads and six table lookups per 64
// bytes with AVX-512BW (per 32 with AVX2). With each pattern's first three positions it made
// 12.6 million exact checks per GiB of the benchmark core, most of them of three patterns on
// "0", a character, "0" in text (the short-form SubjectPublicKeyInfo anchor passed there); with
// the three positions that let the fewest bytes through, 2.5 million, and the pass costs about
// 0.1 s less on an AVX2 host. Five positions made fewer checks still but cost more (0.28 s on
// AVX-512): the lookups are the cost.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "detect/anchors.hpp"

namespace dumpguard {

class AnchorPrefilter {
 public:
  static constexpr std::size_t kPositions = 3;
  static constexpr std::size_t kBuckets = 8;
  enum class Width { none, avx2, avx512 };

  explicit AnchorPrefilter(std::span<const AnchorPattern> patterns);
  // The widest this CPU has; none without AVX2 (the caller uses Vectorscan).
  static Width best_width();

  // hits[k]: every start of pattern k in `bytes`, in order, exactly as find_anchors gives them.
  // `width` must be one the CPU has.
  void scan(std::span<const std::byte> bytes, AnchorHits& hits, Width width) const;

  // Which bucket each pattern went to (tests, and the figures in bench/RESULTS.md).
  const std::array<std::vector<std::size_t>, kBuckets>& buckets() const { return buckets_; }

  // Per position, one table for the low and one for the high nibble of a byte: bit b is set
  // when bucket b allows some byte with that nibble there.
  struct Tables {
    alignas(64) std::array<std::array<std::uint8_t, 16>, kPositions> lo{};
    alignas(64) std::array<std::array<std::uint8_t, 16>, kPositions> hi{};
  };

 private:
  std::span<const AnchorPattern> patterns_;
  std::array<std::vector<std::size_t>, kBuckets> buckets_;
  std::vector<std::size_t> offsets_;  // per pattern: where its prefiltered positions begin
  Tables tables_;
};

}  // namespace dumpguard
