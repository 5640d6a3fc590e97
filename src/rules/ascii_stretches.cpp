// The ASCII stretch finder (ascii_stretches.hpp). For each block of 64 bytes one 64-bit word
// says which bytes are text (the vector part); a run of at least N text bytes ends in the block
// where the word AND-ed with itself shifted by 1, 2, 4, ... (N - 1 in all) has a bit set, or
// where a run carried over from the blocks before reaches N in the block's leading text bytes.
#include "rules/ascii_stretches.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "rules/text_bytes.hpp"

namespace dumpguard::rules::ascii {

namespace {

constexpr std::size_t kBlock = 64;
constexpr std::size_t kBatch = 64;  // blocks per call of the vector part (4 KiB)

std::uint64_t text_scalar(const std::uint8_t* p, std::size_t count) {
  std::uint64_t t = 0;
  for (std::size_t k = 0; k < count; ++k) {
    if (text_byte(p[k])) t |= std::uint64_t{1} << k;
  }
  return t;
}

using TextFn = void (*)(const std::uint8_t* p, std::size_t blocks, std::uint64_t* out);

void text_blocks_scalar(const std::uint8_t* p, std::size_t blocks, std::uint64_t* out) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) out[b] = text_scalar(p, kBlock);
}

#if defined(__x86_64__)
void text_blocks_sse2(const std::uint8_t* p, std::size_t blocks, std::uint64_t* out) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) {
    std::uint64_t t = 0;
    for (unsigned k = 0; k < 4; ++k) {
      t |= std::uint64_t{text_bytes16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k)))} << (16 * k);
    }
    out[b] = t;
  }
}

__attribute__((target("avx2"))) void text_blocks_avx2(const std::uint8_t* p, std::size_t blocks, std::uint64_t* out) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) {
    const auto lo = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(text_bytes32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))));
    const auto hi = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(text_bytes32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)))));
    out[b] = std::uint64_t{lo} | std::uint64_t{hi} << 32;
  }
}

__attribute__((target("avx512f,avx512bw"))) void text_blocks_avx512(const std::uint8_t* p, std::size_t blocks,
                                                                    std::uint64_t* out) {
  for (std::size_t b = 0; b < blocks; ++b, p += kBlock) out[b] = text_bytes64(_mm512_loadu_si512(p));
}
#endif

TextFn text_blocks_for(Width width) {
#if defined(__x86_64__)
  switch (width) {
    case Width::avx512: return text_blocks_avx512;
    case Width::avx2: return text_blocks_avx2;
    case Width::sse2: return text_blocks_sse2;
  }
#else
  (void)width;
#endif
  return text_blocks_scalar;
}

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

void find_stretches(Width width, std::span<const std::uint8_t> bytes, std::size_t min_chars, std::size_t margin,
                    std::size_t join, const std::function<void(std::size_t begin, std::size_t end)>& on_stretch) {
  const std::uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  if (n == 0 || min_chars == 0 || min_chars > kBlock) return;
  const TextFn text_blocks = text_blocks_for(width);
  const RunShifts runs(min_chars);
  const std::size_t blocks = (n + kBlock - 1) / kBlock, whole = n / kBlock;
  std::array<std::uint64_t, kBatch> text;
  std::size_t carried = 0;  // text bytes that end the blocks before
  bool open = false;
  std::size_t begin = 0, end = 0;  // the stretch being grown
  for (std::size_t b0 = 0; b0 < blocks; b0 += kBatch) {
    const std::size_t count = std::min(kBatch, blocks - b0);
    const std::size_t vector = whole > b0 ? std::min(count, whole - b0) : 0;
    text_blocks(p + kBlock * b0, vector, text.data());
    for (std::size_t i = vector; i < count; ++i) text[i] = text_scalar(p + kBlock * (b0 + i), n - kBlock * (b0 + i));
    // Which blocks hold text, without a branch per block (text and binary blocks alternate
    // unpredictably in a heap); then the stretches, block by marked block.
    std::uint64_t marked = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t t = text[i];
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

}  // namespace dumpguard::rules::ascii
