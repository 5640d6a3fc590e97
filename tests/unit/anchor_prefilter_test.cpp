// The anchor pass: the vector prefilter (every width this CPU has), Vectorscan and the plain
// loop of find_anchors give the same matches, on the anchors the real detectors declare and on
// more synthetic patterns than the prefilter has buckets. Data: random bytes, text full of
// digits (what made Vectorscan slow, and what the short-form DER anchors must not confuse
// with DER), zero runs, and instances of every pattern planted around the 32- and 64-byte
// vector blocks, overlapping, and at the very end.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "detect/anchor_prefilter.hpp"
#include "detect/anchors.hpp"
#include "detect/detector.hpp"
#include "detect/detector_list.hpp"
#include "scan/detector_settings.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {
namespace {

std::vector<AnchorPattern> detector_anchors() {
  ScanOptions options;
  options.fingerprint_key.assign(32, 7);
  std::vector<AnchorPattern> all;
  for (const auto& d : make_detectors(detector_settings(options)).structure) {
    for (AnchorPattern& p : d->anchors()) all.push_back(std::move(p));
  }
  return all;
}

// A random byte string the pattern matches.
std::vector<std::uint8_t> instance(const AnchorPattern& p, std::mt19937_64& random) {
  std::vector<std::uint8_t> out;
  for (std::size_t j = 0; j < p.length(); ++j) {
    std::vector<std::uint8_t> allowed;
    for (unsigned b = 0; b < 256; ++b) {
      if (p.allows(j, static_cast<std::uint8_t>(b))) allowed.push_back(static_cast<std::uint8_t>(b));
    }
    out.push_back(allowed[random() % allowed.size()]);
  }
  return out;
}

std::vector<std::uint8_t> data_for(const std::vector<AnchorPattern>& patterns, std::size_t size, int kind,
                                   std::mt19937_64& random) {
  std::vector<std::uint8_t> data(size);
  const std::string text = "{\"id\": 1000, \"ts\": \"2026-11-27T10:00:00.000Z\", \"n\": [0, 10, 200, 3000]}\n0x0 000 0a0 ";
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = kind == 0 ? static_cast<std::uint8_t>(random()) : kind == 1 ? static_cast<std::uint8_t>(text[i % text.size()]) : 0;
  }
  for (std::size_t n = 0; n < size / 24 + 4; ++n) {
    const std::vector<std::uint8_t> bytes = instance(patterns[random() % patterns.size()], random);
    if (bytes.size() > size) continue;
    std::size_t at = 0;
    switch (n % 4) {
      case 0: at = (random() % (size / 64 + 1)) * 64 + 64 - random() % 6; break;  // across a block edge
      case 1: at = size - bytes.size(); break;                                   // at the very end
      case 2: at = (random() % (size / 32 + 1)) * 32; break;
      default: at = random() % size; break;
    }
    at = std::min(at, size - bytes.size());
    std::copy(bytes.begin(), bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return data;
}

void expect_same_everywhere(const std::vector<AnchorPattern>& patterns, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  const AnchorPrefilter prefilter(patterns);
  const AnchorDatabase vectorscan(std::vector<AnchorPattern>(patterns), AnchorDatabase::Engine::vectorscan);
  AnchorScanner vectorscan_scanner(vectorscan);
  std::vector<AnchorPrefilter::Width> widths = {AnchorPrefilter::Width::none};
  if (AnchorPrefilter::best_width() != AnchorPrefilter::Width::none) widths.push_back(AnchorPrefilter::Width::avx2);
  if (AnchorPrefilter::best_width() == AnchorPrefilter::Width::avx512) widths.push_back(AnchorPrefilter::Width::avx512);
  for (std::size_t size : {std::size_t{1}, std::size_t{3}, std::size_t{40}, std::size_t{67}, std::size_t{130},
                           std::size_t{5000}}) {
    for (int kind = 0; kind < 3; ++kind) {
      for (int trial = 0; trial < 6; ++trial) {
        const std::vector<std::uint8_t> data = data_for(patterns, size, kind, random);
        const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data));
        AnchorHits expected, got;
        find_anchors(patterns, bytes, expected);
        vectorscan_scanner.scan(bytes, got);
        EXPECT_EQ(got, expected) << "Vectorscan, size " << size << " kind " << kind;
        for (AnchorPrefilter::Width width : widths) {
          prefilter.scan(bytes, got, width);
          EXPECT_EQ(got, expected) << "width " << static_cast<int>(width) << ", size " << size << " kind " << kind;
        }
      }
    }
  }
}

TEST(AnchorPrefilter, SameMatchesAsVectorscanAndThePlainLoopOnTheDetectorsAnchors) {
  const std::vector<AnchorPattern> patterns = detector_anchors();
  ASSERT_GT(patterns.size(), AnchorPrefilter::kBuckets);
  expect_same_everywhere(patterns, 1);
}

TEST(AnchorPrefilter, ManyShortAndOverlappingPatterns) {
  std::vector<AnchorPattern> patterns;
  patterns.push_back(AnchorPattern::literal("a"));
  patterns.push_back(AnchorPattern::literal("ab"));
  patterns.push_back(AnchorPattern::literal("abc").then_any(2).then("d"));
  patterns.push_back(AnchorPattern::literal("0").then_range(0x10, 0x7f).then("0"));
  patterns.push_back(AnchorPattern::literal("\x30").then_one_of({0x81, 0x82}).then_any(1).then_one_of({0x02, 0x30}));
  for (char c = 'k'; c < 'z'; ++c) patterns.push_back(AnchorPattern::literal(std::string(1, c) + "xy"));
  patterns.push_back(AnchorPattern().then_any(1).then(std::string_view("\0\0", 2)));
  ASSERT_GT(patterns.size(), AnchorPrefilter::kBuckets);
  expect_same_everywhere(patterns, 2);
}

TEST(AnchorPrefilter, EveryPatternHasABucket) {
  const std::vector<AnchorPattern> patterns = detector_anchors();
  const AnchorPrefilter prefilter(patterns);
  std::vector<int> seen(patterns.size(), 0);
  for (const auto& bucket : prefilter.buckets()) {
    for (std::size_t k : bucket) ++seen[k];
  }
  EXPECT_EQ(seen, std::vector<int>(patterns.size(), 1));
}

}  // namespace
}  // namespace dumpguard
