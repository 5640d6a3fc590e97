#include "detect/exact_search.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <tuple>

#include "detect/detector.hpp"
#include "detect/little_endian.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMinLength = 8;
// The wide table needs an 8-byte window at every phase: 7 bytes of phase plus 8.
constexpr std::size_t kWideMinLength = 15;

// Multiplicative hashing (Knuth): the high bits of w·φ·2^64 index the filter. (A gather of
// four filter words at a time with AVX2 measured slower than this loop.)
inline std::uint64_t hash_of(std::uint64_t w) { return w * 0x9E3779B97F4A7C15ull; }

inline bool in_filter(const std::uint64_t* filter, unsigned shift, std::uint64_t w) {
  const std::uint64_t h = hash_of(w) >> shift;
  return (filter[h / 64] >> (h % 64)) & 1;
}

unsigned distinct_in(const std::uint8_t* p, unsigned width) {
  unsigned n = 0;
  for (unsigned i = 0; i < width; ++i) {
    bool seen = false;
    for (unsigned j = 0; j < i && !seen; ++j) seen = p[j] == p[i];
    n += seen ? 0 : 1;
  }
  return n;
}

}  // namespace

ExactPatterns::ExactPatterns() : built_(std::make_unique<std::once_flag>()) {}

ExactPatterns::ExactPatterns(ExactPatterns&& other) noexcept
    : patterns_(std::move(other.patterns_)),
      longest_(other.longest_),
      built_(std::make_unique<std::once_flag>()) {
  other.patterns_.clear();
}

ExactPatterns::~ExactPatterns() {
  for (Pattern& p : patterns_) OPENSSL_cleanse(p.bytes.data(), p.bytes.size());
  for (Table* t : {&index_.wide, &index_.narrow}) {
    if (!t->entries.empty()) OPENSSL_cleanse(t->entries.data(), t->entries.size() * sizeof(Entry));
  }
}

void ExactPatterns::add(std::span<const std::uint8_t> bytes, std::size_t tag) { add(bytes, {}, tag); }

void ExactPatterns::add(std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> mask, std::size_t tag) {
  if (bytes.size() < kMinLength || (!mask.empty() && mask.size() != bytes.size())) return;
  Pattern p{std::vector<std::uint8_t>(bytes.begin(), bytes.end()), {}, tag};
  if (std::any_of(mask.begin(), mask.end(), [](std::uint8_t m) { return m != 0xFF; })) {
    p.mask.assign(mask.begin(), mask.end());
    for (std::size_t i = 0; i < p.bytes.size(); ++i) p.bytes[i] &= p.mask[i];
  }
  patterns_.push_back(std::move(p));
  longest_ = std::max(longest_, bytes.size());
}

const ExactPatterns::Index& ExactPatterns::index() const {
  std::call_once(*built_, [this] {
    // Per pattern and phase, the window with the most distinct bytes among those wholly compared.
    const auto choose = [&](const Pattern& p, unsigned width, unsigned phase) -> std::optional<std::uint32_t> {
      std::optional<std::uint32_t> best;
      unsigned best_distinct = 0;
      for (std::size_t o = phase; o + width <= p.bytes.size(); o += width) {
        if (!p.mask.empty() &&
            std::any_of(p.mask.begin() + static_cast<std::ptrdiff_t>(o),
                        p.mask.begin() + static_cast<std::ptrdiff_t>(o + width), [](std::uint8_t m) { return m != 0xFF; })) {
          continue;
        }
        const unsigned d = distinct_in(p.bytes.data() + o, width);
        if (!best || d > best_distinct) {
          best = static_cast<std::uint32_t>(o);
          best_distinct = d;
        }
        if (d == width) break;
      }
      return best;
    };
    for (std::uint32_t k = 0; k < patterns_.size(); ++k) {
      const Pattern& p = patterns_[k];
      for (Table* t : {&index_.wide, &index_.narrow}) {
        const unsigned width = t == &index_.wide ? 8 : 4;
        if (width == 8 && p.bytes.size() < kWideMinLength) continue;
        std::vector<Entry> entries;
        for (unsigned phase = 0; phase < width; ++phase) {
          const auto o = choose(p, width, phase);
          if (!o) break;
          entries.push_back({load_le(p.bytes.data() + *o, width), k, *o});
        }
        if (entries.size() != width) continue;  // some phase has no window: try the narrow table
        t->entries.insert(t->entries.end(), entries.begin(), entries.end());
        break;
      }
    }
    for (Table* t : {&index_.wide, &index_.narrow}) {
      t->width = t == &index_.wide ? 8 : 4;
      std::sort(t->entries.begin(), t->entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.window, a.pattern, a.offset) < std::tie(b.window, b.pattern, b.offset);
      });
      // About 64 filter bits per window, between 4 Ki and 2 Mi bits (256 KiB, within L2): a
      // window the filter passes by chance costs a binary search (about 20 ns), and halving the
      // filter to 32 bits per window cost 7 % more on a 1 GiB core.
      std::size_t bits = std::size_t{1} << 12;
      while (bits < t->entries.size() * 64 && bits < (std::size_t{1} << 21)) bits <<= 1;
      t->shift = 64 - static_cast<unsigned>(std::countr_zero(bits));
      t->filter.assign(bits / 64, 0);
      for (const Entry& e : t->entries) {
        t->zero_window = t->zero_window || e.window == 0;
        const std::uint64_t h = hash_of(e.window) >> t->shift;  // as in_filter() computes it
        t->filter[h / 64] |= std::uint64_t{1} << (h % 64);
      }
    }
  });
  return index_;
}

bool ExactPatterns::matches_at(const Pattern& pattern, const std::uint8_t* p) const {
  const std::size_t n = pattern.bytes.size();
  if (pattern.mask.empty()) return std::memcmp(p, pattern.bytes.data(), n) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    if ((p[i] & pattern.mask[i]) != pattern.bytes[i]) return false;
  }
  return true;
}

void ExactPatterns::scan_table(const Table& table, const std::uint8_t* p, std::size_t n, std::size_t from,
                               std::size_t to, std::vector<std::pair<std::size_t, std::uint32_t>>& hits) const {
  if (table.entries.empty() || n < table.width) return;
  const unsigned width = table.width;
  const std::uint64_t* filter = table.filter.data();
  const unsigned shift = table.shift;
  const auto verify = [&](std::size_t i) {
    const std::uint64_t w = load_le(p + i, width);
    auto it = std::lower_bound(table.entries.begin(), table.entries.end(), w,
                               [](const Entry& e, std::uint64_t v) { return e.window < v; });
    for (; it != table.entries.end() && it->window == w; ++it) {
      if (it->offset > i) continue;
      const std::size_t start = i - it->offset;
      const Pattern& pattern = patterns_[it->pattern];
      if (start + pattern.bytes.size() > n || !matches_at(pattern, p + start)) continue;
      hits.emplace_back(start, it->pattern);
    }
  };
  // Dumps hold many zero words: a zero window is passed over unless some pattern needs it. The
  // zero word hashes to the filter's first bit; where no window set that bit, the filter itself
  // turns zero words away and the eight-window loop needs no test of its own.
  const bool zeros = table.zero_window;
  std::size_t i = (from + width - 1) / width * width;
  const std::size_t end = std::min(to, n - width + 1);  // windows start in [i, end)
  // Eight windows at a time without a branch: their hashes and filter bits are independent, so
  // the loads overlap; only a window the filter passes is verified. (A branch per window
  // mispredicts wherever zero and non-zero words mix, as in most of a heap.)
  const auto eight = [&]<bool kTestZero>() {
    for (; i + 64 <= end; i += 64) {
      unsigned passed = 0;
      for (unsigned k = 0; k < 8; ++k) {
        const std::uint64_t w = load_le(p + i + 8 * k, 8);
        const std::uint64_t h = hash_of(w) >> shift;
        unsigned bit = static_cast<unsigned>((filter[h / 64] >> (h % 64)) & 1);
        if constexpr (kTestZero) bit &= static_cast<unsigned>(w != 0);
        passed |= bit << k;
      }
      while (passed != 0) {
        verify(i + 8 * static_cast<unsigned>(std::countr_zero(passed)));
        passed &= passed - 1;
      }
    }
  };
  if (width == 8) {
    if (!zeros && (filter[0] & 1) != 0) {
      eight.template operator()<true>();
    } else {
      eight.template operator()<false>();
    }
  }
  for (; i < end; i += width) {
    const std::uint64_t w = load_le(p + i, width);
    if ((w != 0 || zeros) && in_filter(filter, shift, w)) verify(i);
  }
}

void ExactPatterns::search(std::span<const std::byte> data,
                           const std::function<void(std::size_t, std::size_t, std::size_t)>& found) const {
  if (patterns_.empty() || data.size() < kMinLength) return;
  const Index& ix = index();
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  // In slices, so the hits of one are sorted while they are few; a slice's windows may reach
  // past its end into the data, so an occurrence is found by the slice where its window starts,
  // and reported in offset order after the slices up to its start are done.
  constexpr std::size_t kSlice = 1 << 20;
  std::vector<std::pair<std::size_t, std::uint32_t>> hits, pending;
  const std::size_t n = data.size();
  for (std::size_t begin = 0; begin < n; begin += kSlice) {
    const std::size_t end = std::min(n, begin + kSlice);
    hits.clear();
    // The windows that start in [begin, end).
    scan_table(ix.wide, p, n, begin, end, hits);
    scan_table(ix.narrow, p, n, begin, end, hits);
    // Occurrences start at most longest_ bytes before their window: hold back those that
    // may still be preceded by an occurrence the next slice finds.
    pending.insert(pending.end(), hits.begin(), hits.end());
    std::sort(pending.begin(), pending.end());
    const std::size_t safe = end >= n ? n : (end > longest_ ? end - longest_ : 0);
    std::size_t done = 0;
    for (; done < pending.size() && (pending[done].first < safe || end >= n); ++done) {
      const auto& [start, k] = pending[done];
      found(start, patterns_[k].bytes.size(), patterns_[k].tag);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(done));
  }
}

void ExactPatterns::search_areas(
    const ScanContext& context,
    const std::function<void(const ScanArea& area, std::size_t offset, std::size_t length, std::size_t tag)>& found)
    const {
  if (patterns_.empty()) return;
  index();  // built here, before the threads share it
  struct Hit {
    std::size_t offset, length, tag;  // offset within the area
  };
  const std::vector<ChunkBounds> chunks = chunks_of(context);
  std::vector<std::vector<Hit>> hits(chunks.size());
  run_chunks(context, [&](std::size_t c, unsigned /*worker*/) {
    const ScanArea& area = context.areas[chunks[c].area];
    const ScanArea window = chunk_window(area, chunks[c], {0, longest_});
    search(window.bytes, [&](std::size_t offset, std::size_t length, std::size_t tag) {
      if (owns(area, chunks[c], window.file_offset + offset)) {
        hits[c].push_back({static_cast<std::size_t>(window.file_offset + offset - area.file_offset), length, tag});
      }
    });
  });
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    for (const Hit& h : hits[c]) found(context.areas[chunks[c].area], h.offset, h.length, h.tag);
  }
}

}  // namespace dumpguard
