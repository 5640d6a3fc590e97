// The ASCII stretch finder (ascii_stretches.hpp). For each block of 64 bytes one 64-bit word
// says which bytes are text (text_masks.hpp); a run of at least N text bytes ends in the block
// where the word AND-ed with itself shifted by 1, 2, 4, ... (N - 1 in all) has a bit set, or
// where a run carried over from the blocks before reaches N in the block's leading text bytes.
#include "rules/ascii_stretches.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace dumpguard::rules::ascii {

namespace {

constexpr std::size_t kBlock = 64;

// The shifts whose AND-ed copies of a word of flags leave bit k set where bits k - n + 1 .. k
// were all set (runs of n ending at k, within the word): 1, 2, 4, ... summing to n - 1.
struct RunShifts {
  std::array<unsigned, 7> steps{};
  unsigned count = 0;
  explicit RunShifts(std::size_t n) {
    for (std::size_t have = 1; have < n; have += steps[count++]) steps[count] = static_cast<unsigned>(std::min(have, n - have));
  }
  std::uint64_t ends(std::uint64_t t) const {
    for (unsigned i = 0; i < count; ++i) t &= t << steps[i];
    return t;
  }
};

}  // namespace

void find_stretches(const TextMasks& masks, std::size_t min_chars, std::size_t margin, std::size_t join,
                    const std::function<void(std::size_t begin, std::size_t end)>& on_stretch) {
  const std::size_t n = masks.size;
  if (n == 0 || min_chars == 0 || min_chars > kBlock) return;
  const RunShifts runs(min_chars);
  const std::uint64_t* text = masks.text.data();
  const std::size_t blocks = masks.text.size();
  std::size_t carried = 0;  // text bytes that end the blocks before
  bool open = false;
  std::size_t begin = 0, end = 0;  // the stretch being grown
  for (std::size_t b0 = 0; b0 < blocks; b0 += kBlock) {
    const std::size_t count = std::min(kBlock, blocks - b0);
    // Which of 64 blocks hold text, without a branch per block (text and binary blocks
    // alternate unpredictably in a heap); then the stretches, block by marked block.
    std::uint64_t marked = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t t = text[b0 + i];
      const auto leading = static_cast<std::size_t>(std::countr_one(t));
      const bool holds = (runs.ends(t) != 0) | ((leading != 0) & (carried + leading >= min_chars));
      carried = t == ~std::uint64_t{0} ? carried + kBlock : static_cast<std::size_t>(std::countl_one(t));
      marked |= std::uint64_t{holds} << i;
    }
    for (; marked != 0; marked &= marked - 1) {
      const std::size_t at = kBlock * (b0 + static_cast<std::size_t>(std::countr_zero(marked)));
      const std::size_t from = at > margin ? at - margin : 0, to = std::min(n, at + kBlock + margin);
      if (open && from <= end + join) {
        end = to;
        continue;
      }
      if (open) on_stretch(begin, end);
      open = true;
      begin = from;
      end = to;
    }
  }
  if (open) on_stretch(begin, end);
}

void find_stretches(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars, std::size_t margin,
                    std::size_t join, const std::function<void(std::size_t begin, std::size_t end)>& on_stretch) {
  TextMasks masks;
  compute_text_masks(width, bytes, masks);
  find_stretches(masks, min_chars, margin, join, on_stretch);
}

}  // namespace dumpguard::rules::ascii
