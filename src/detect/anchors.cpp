#include "detect/anchors.hpp"

#include "detect/anchor_prefilter.hpp"
#include "rules/engine_error.hpp"

#include <fmt/format.h>
#include <hs.h>

#include <algorithm>
#include <new>
#include <stdexcept>

namespace dumpguard {

AnchorPattern AnchorPattern::literal(std::string_view text) { return AnchorPattern().then(text); }

AnchorPattern& AnchorPattern::then(std::string_view text) {
  for (char c : text) then_one_of({static_cast<std::uint8_t>(c)});
  return *this;
}

AnchorPattern& AnchorPattern::then_one_of(std::initializer_list<std::uint8_t> bytes) {
  std::bitset<256> set;
  for (std::uint8_t b : bytes) set.set(b);
  positions_.push_back(set);
  return *this;
}

AnchorPattern& AnchorPattern::then_range(std::uint8_t lo, std::uint8_t hi) {
  std::bitset<256> set;
  for (unsigned b = lo; b <= hi; ++b) set.set(b);
  positions_.push_back(set);
  return *this;
}

AnchorPattern& AnchorPattern::then_any(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) positions_.push_back(std::bitset<256>().set());
  return *this;
}

bool AnchorPattern::matches(const std::uint8_t* p) const {
  for (std::size_t i = 0; i < positions_.size(); ++i) {
    if (!positions_[i].test(p[i])) return false;
  }
  return true;
}

std::string AnchorPattern::expression() const {
  std::string out;
  for (const std::bitset<256>& set : positions_) {
    if (set.all()) {
      out += '.';  // with HS_FLAG_DOTALL: any byte
    } else if (set.count() == 1) {
      for (unsigned b = 0; b < 256; ++b) {
        if (set.test(b)) out += fmt::format("\\x{:02x}", b);
      }
    } else {
      out += '[';
      for (unsigned b = 0; b < 256; ++b) {
        if (set.test(b)) out += fmt::format("\\x{:02x}", b);
      }
      out += ']';
    }
  }
  return out;
}

std::vector<std::size_t> merged(const AnchorHits& hits) {
  std::vector<std::size_t> all;
  for (const auto& h : hits) all.insert(all.end(), h.begin(), h.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

void find_anchors(std::span<const AnchorPattern> patterns, std::span<const std::byte> bytes, AnchorHits& hits) {
  hits.assign(patterns.size(), {});
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for (std::size_t k = 0; k < patterns.size(); ++k) {
    const std::size_t length = patterns[k].length();
    for (std::size_t i = 0; i + length <= bytes.size(); ++i) {
      if (patterns[k].matches(p + i)) hits[k].push_back(i);
    }
  }
}

AnchorDatabase::AnchorDatabase(std::vector<AnchorPattern> patterns, Engine engine) : patterns_(std::move(patterns)) {
  if (patterns_.empty()) return;
  if (engine == Engine::best && AnchorPrefilter::best_width() != AnchorPrefilter::Width::none) {
    prefilter_ = std::make_unique<const AnchorPrefilter>(patterns_);
    return;
  }
  std::vector<std::string> expressions;
  std::vector<const char*> pointers;
  std::vector<unsigned> flags, ids;
  for (std::size_t k = 0; k < patterns_.size(); ++k) expressions.push_back(patterns_[k].expression());
  for (std::size_t k = 0; k < patterns_.size(); ++k) {
    pointers.push_back(expressions[k].c_str());
    flags.push_back(HS_FLAG_DOTALL);
    ids.push_back(static_cast<unsigned>(k));
  }
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(pointers.data(), flags.data(), ids.data(), static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK,
                       nullptr, &database_, &error) != HS_SUCCESS) {
    const std::string message = error ? error->message : "unknown error";
    hs_free_compile_error(error);
    throw std::logic_error("anchor patterns do not compile: " + message);
  }
}

const char* AnchorDatabase::engine() const {
  if (!prefilter_) return database_ ? "Vectorscan" : "none";
  return AnchorPrefilter::best_width() == AnchorPrefilter::Width::avx512 ? "vector prefilter (AVX-512BW)"
                                                                        : "vector prefilter (AVX2)";
}

AnchorDatabase::~AnchorDatabase() {
  if (database_) hs_free_database(database_);
}

AnchorScanner::AnchorScanner(const AnchorDatabase& database) : database_(database) {
  if (database_.prefilter_) return;
  if (database_.database_ && hs_alloc_scratch(database_.database_, &scratch_) != HS_SUCCESS) throw std::bad_alloc();
}

AnchorScanner::~AnchorScanner() {
  if (scratch_) hs_free_scratch(scratch_);
}

namespace {
struct Collector {
  const std::vector<AnchorPattern>* patterns;
  AnchorHits* hits;
};

// Records the match's start (its end less the pattern's fixed length); never stops the scan.
int on_match(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/,
             void* context) {
  auto* c = static_cast<Collector*>(context);
  (*c->hits)[id].push_back(static_cast<std::size_t>(to) - (*c->patterns)[id].length());
  return 0;
}
}  // namespace

void AnchorScanner::scan(std::span<const std::byte> bytes, AnchorHits& hits) {
  if (database_.prefilter_) return database_.prefilter_->scan(bytes, hits, AnchorPrefilter::best_width());
  const auto& patterns = database_.patterns_;
  hits.resize(patterns.size());
  for (auto& h : hits) h.clear();
  if (!database_.database_ || bytes.empty()) return;
  Collector collector{&patterns, &hits};
  // A failed scan throws: hits it left out would read as no key there. (The scanner's windows
  // are a chunk and its reach, far below hs_scan's 4 GiB.)
  checked_hs_scan("the anchor pass", database_.database_,
                  {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, scratch_, on_match, &collector);
  // Matches come by end offset, so with fixed lengths each pattern's starts are in order;
  // checked, as a detector relies on it.
  for (auto& h : hits) {
    if (!std::is_sorted(h.begin(), h.end())) std::sort(h.begin(), h.end());
  }
}

}  // namespace dumpguard
