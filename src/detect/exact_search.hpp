// Exact search for a set of byte strings at every offset, in one pass whatever their number:
// the closure's search for every copy of every known secret, in every form. The strings are
// secrets, wiped on destruction. A pattern may leave bytes (or bits) out of the comparison
// with a mask: the tag or padding bytes of a runtime's integer slots.
//
// How: every occurrence of a pattern of at least 15 bytes contains an 8-byte window that
// starts at a position divisible by 8, at one of 8 offsets in the pattern (one per phase of
// its start). Each pattern registers, per phase, the most varied fully-compared window there;
// the search looks up the window at every eighth position in a bit filter and a sorted table,
// and checks the few patterns it names. Shorter patterns (8 to 14 bytes), and patterns whose
// masks leave no 8-byte window, use 4-byte windows at every fourth position. The cost per byte
// does not grow with the number of patterns, which the old first-bytes prefilter's did.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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
  ExactPatterns(ExactPatterns&&) noexcept;
  ExactPatterns& operator=(ExactPatterns&&) = delete;

  // Patterns shorter than 8 bytes are ignored: they would match by chance.
  void add(std::span<const std::uint8_t> bytes, std::size_t tag);
  // With a mask of the same length: only the bits set in it are compared. A pattern is searched
  // only where it has at least 4 consecutive fully compared bytes at every phase; one that has
  // not is ignored (none of the closure's layouts leaves that little).
  void add(std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> mask, std::size_t tag);
  bool empty() const { return patterns_.empty(); }

  // Calls found(offset, length, tag) for every occurrence, in offset order, and for one offset
  // in the order the patterns were added. Safe to call from several threads at once.
  void search(std::span<const std::byte> data,
              const std::function<void(std::size_t offset, std::size_t length, std::size_t tag)>& found) const;
  // The same over every area of a scan, on its threads (detect/chunks.hpp); found() is called
  // on this thread, in area order then offset order, exactly as search() over each area.
  void search_areas(const ScanContext& context,
                    const std::function<void(const ScanArea& area, std::size_t offset, std::size_t length,
                                             std::size_t tag)>& found) const;
  std::size_t longest() const { return longest_; }
  std::size_t size() const { return patterns_.size(); }

 private:
  struct Pattern {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint8_t> mask;  // empty: every bit compared
    std::size_t tag;
  };
  // Windows of one width: each entry names a pattern and where in it the window lies.
  struct Entry {
    std::uint64_t window;
    std::uint32_t pattern;
    std::uint32_t offset;
  };
  struct Table {
    unsigned width = 8;
    std::vector<Entry> entries;          // sorted by window
    std::vector<std::uint64_t> filter;   // one bit per hash of a window
    unsigned shift = 64;                 // hash >> shift indexes the filter
    bool zero_window = false;            // some pattern's window is all zero bytes
  };
  struct Index {
    Table wide, narrow;
  };

  const Index& index() const;
  // Appends (start, pattern) for the occurrences whose window starts in [from, to) of p[0, n).
  void scan_table(const Table& table, const std::uint8_t* p, std::size_t n, std::size_t from, std::size_t to,
                  std::vector<std::pair<std::size_t, std::uint32_t>>& hits) const;
  bool matches_at(const Pattern& pattern, const std::uint8_t* p) const;

  std::vector<Pattern> patterns_;
  std::size_t longest_ = 0;
  // Built once, on the first search (searches may run on several threads).
  mutable std::unique_ptr<std::once_flag> built_;
  mutable Index index_;
};

}  // namespace dumpguard
