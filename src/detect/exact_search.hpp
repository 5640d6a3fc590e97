// Exact search for a set of byte strings at every offset, in one pass: a 2-byte bitmap
// rejects almost every offset before any comparison. Used for the key closure, where the
// strings are secret components derived from found factors: they are wiped on destruction.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace dumpguard {

struct ScanArea;
struct ScanContext;

class ExactPatterns {
 public:
  ExactPatterns();
  ~ExactPatterns();
  ExactPatterns(const ExactPatterns&) = delete;
  ExactPatterns& operator=(const ExactPatterns&) = delete;
  ExactPatterns(ExactPatterns&&) noexcept = default;
  ExactPatterns& operator=(ExactPatterns&&) = delete;

  // Patterns shorter than 8 bytes are ignored: they would match by chance.
  void add(std::span<const std::uint8_t> bytes, std::size_t tag);
  bool empty() const { return patterns_.empty(); }

  // Calls found(offset, length, tag) for every occurrence, in offset order.
  void search(std::span<const std::byte> data,
              const std::function<void(std::size_t offset, std::size_t length, std::size_t tag)>& found) const;
  // The same over every area of a scan, on its threads (detect/chunks.hpp); found() is called
  // on this thread, in area order then offset order, exactly as search() over each area.
  void search_areas(const ScanContext& context,
                    const std::function<void(const ScanArea& area, std::size_t offset, std::size_t length,
                                             std::size_t tag)>& found) const;
  std::size_t longest() const { return longest_; }
  std::size_t size() const { return patterns_.size(); }
  // Each pattern and its tag, in the order they were added.
  void for_each(const std::function<void(std::span<const std::uint8_t> bytes, std::size_t tag)>& fn) const {
    for (const Pattern& p : patterns_) fn(p.bytes, p.tag);
  }

 private:
  struct Pattern {
    std::vector<std::uint8_t> bytes;
    std::size_t tag;
  };
  std::vector<Pattern> patterns_;
  std::vector<std::uint64_t> first_two_;  // bitmap over the first two bytes, 65536 bits
  std::size_t longest_ = 0;
};

}  // namespace dumpguard
