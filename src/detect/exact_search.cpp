#include "detect/exact_search.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "detect/detector.hpp"

namespace dumpguard {

ExactPatterns::ExactPatterns() : first_two_(65536 / 64, 0) {}

ExactPatterns::~ExactPatterns() {
  for (Pattern& p : patterns_) OPENSSL_cleanse(p.bytes.data(), p.bytes.size());
}

void ExactPatterns::add(std::span<const std::uint8_t> bytes, std::size_t tag) {
  if (bytes.size() < 8) return;
  patterns_.push_back({std::vector<std::uint8_t>(bytes.begin(), bytes.end()), tag});
  longest_ = std::max(longest_, bytes.size());
  const unsigned key = bytes[0] | (unsigned{bytes[1]} << 8);
  first_two_[key / 64] |= std::uint64_t{1} << (key % 64);
}

void ExactPatterns::search(std::span<const std::byte> data,
                           const std::function<void(std::size_t, std::size_t, std::size_t)>& found) const {
  if (patterns_.empty() || data.size() < 8) return;
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t n = data.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const unsigned key = p[i] | (unsigned{p[i + 1]} << 8);
    if (!(first_two_[key / 64] & (std::uint64_t{1} << (key % 64)))) continue;
    for (const Pattern& pat : patterns_) {
      if (pat.bytes.size() <= n - i && std::memcmp(p + i, pat.bytes.data(), pat.bytes.size()) == 0) {
        found(i, pat.bytes.size(), pat.tag);
      }
    }
  }
}

void ExactPatterns::search_areas(
    const ScanContext& context,
    const std::function<void(const ScanArea& area, std::size_t offset, std::size_t length, std::size_t tag)>& found)
    const {
  if (patterns_.empty()) return;
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
