// Anchors: the fixed-length byte patterns where structure detectors start their work (a PEM
// BEGIN line, a CNG magic, a DER SEQUENCE header followed by INTEGER 0). The scanner finds the
// anchors of every detector in one Vectorscan pass over a chunk (compile once, scratch per
// thread, the callback only records, as Vectorscan's API is meant to be used), so a region is not read
// once per detector; without the scanner (unit tests) the same matches come from a plain loop.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;

namespace dumpguard {

// A fixed-length pattern: at each position, the set of bytes allowed there.
class AnchorPattern {
 public:
  static AnchorPattern literal(std::string_view text);
  AnchorPattern& then(std::string_view text);                       // these bytes, in order
  AnchorPattern& then_one_of(std::initializer_list<std::uint8_t> bytes);  // one position
  AnchorPattern& then_range(std::uint8_t lo, std::uint8_t hi);      // one position, lo..hi
  AnchorPattern& then_any(std::size_t count = 1);                   // count positions, any byte

  std::size_t length() const { return positions_.size(); }
  bool allows(std::size_t position, std::uint8_t byte) const { return positions_[position].test(byte); }
  bool matches(const std::uint8_t* p) const;
  // The Vectorscan expression (every byte escaped, classes for sets).
  std::string expression() const;

 private:
  std::vector<std::bitset<256>> positions_;
};

// hits[k]: the start offsets of every match of pattern k (overlapping ones included), in order.
using AnchorHits = std::vector<std::vector<std::size_t>>;

// The starts of every pattern's matches, in one sorted list (a position once).
std::vector<std::size_t> merged(const AnchorHits& hits);

// Every match of `patterns` in `bytes` by trying each pattern at each offset: for unit tests and
// small inputs; the scanner uses AnchorDatabase.
void find_anchors(std::span<const AnchorPattern> patterns, std::span<const std::byte> bytes, AnchorHits& hits);

class AnchorPrefilter;

// Many detectors' patterns, prepared once per scan for one pass: with AVX2 or AVX-512BW a
// vector prefilter (detect/anchor_prefilter.hpp), else one Vectorscan block-mode database.
class AnchorDatabase {
 public:
  enum class Engine { best, vectorscan };  // vectorscan: for tests, whatever the CPU has
  // Throws std::logic_error: a bad pattern is a bug.
  explicit AnchorDatabase(std::vector<AnchorPattern> patterns, Engine engine = Engine::best);
  ~AnchorDatabase();
  AnchorDatabase(const AnchorDatabase&) = delete;
  AnchorDatabase& operator=(const AnchorDatabase&) = delete;
  const std::vector<AnchorPattern>& patterns() const { return patterns_; }
  // What finds the matches, for `scan --stats`: "vector prefilter (AVX-512BW)", "Vectorscan", ...
  const char* engine() const;

 private:
  friend class AnchorScanner;
  std::vector<AnchorPattern> patterns_;
  std::unique_ptr<const AnchorPrefilter> prefilter_;  // set when the CPU has the vectors for it
  hs_database* database_ = nullptr;                  // otherwise
};

// One thread's scratch for an AnchorDatabase.
class AnchorScanner {
 public:
  explicit AnchorScanner(const AnchorDatabase& database);
  ~AnchorScanner();
  AnchorScanner(const AnchorScanner&) = delete;
  AnchorScanner& operator=(const AnchorScanner&) = delete;
  // Every match of every pattern in `bytes`: hits[k] for the database's pattern k.
  void scan(std::span<const std::byte> bytes, AnchorHits& hits);

 private:
  const AnchorDatabase& database_;
  hs_scratch* scratch_ = nullptr;
};

}  // namespace dumpguard
