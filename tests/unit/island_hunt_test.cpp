// Island candidates for the EC scalar and Edwards seed hunts: a scalar or seed in an allocation
// of its own (after a chunk header, amid text and small integers) is found with no BIGNUM or
// public key next to it; one inside a long run of random bytes is the documented blind spot;
// a hunt that reaches its budget reports a limit instead of claiming a full search.
#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

#include <cstring>
#include <string>

#include "crypto/private_key.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/ec_scalar_hunt.hpp"
#include "detect/ed25519_seed_hunt.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A heap-like page: JSON text, with 8-byte "chunk headers" (small integers) every 64 bytes.
Bytes heap_page() {
  std::string text;
  while (text.size() < 4096) text += "{\"id\":12,\"name\":\"user\",\"on\":true},";
  Bytes page(text.begin(), text.begin() + 4096);
  for (std::size_t at = 0; at < page.size(); at += 64) {
    const std::uint64_t size = 0x41;
    std::memcpy(page.data() + at, &size, 8);
  }
  return page;
}

test::CollectingSink run(HuntDetector& detector, const Bytes& bytes, const PublicKey& target) {
  return test::run_over(detector, bytes, Bytes(32, 3), 0, {}, std::nullopt, std::span<const PublicKey>(&target, 1));
}

struct EcKey {
  Bytes scalar;
  PublicKey pub;
};

EcKey p256_key(std::uint32_t seed) {
  EcKey k;
  k.scalar = test::seeded_bytes(32, seed);
  k.scalar[0] &= 0x7f;  // below the group order
  k.pub = *check_ec(NID_X9_62_prime256v1, k.scalar, {}).public_key;
  return k;
}

TEST(IslandHunt, RandomnessTestsTellKeysFromHeapContent) {
  const Bytes random = test::seeded_bytes(32, 1);
  EXPECT_TRUE(looks_random(random.data(), 32));
  const Bytes page = heap_page();
  for (std::size_t at = 0; at + 32 <= page.size(); at += 8) EXPECT_FALSE(looks_random(page.data() + at, 32)) << at;
  const std::uint64_t small = 0x41, minus_one = ~std::uint64_t{0};
  EXPECT_TRUE(structured_word(reinterpret_cast<const std::uint8_t*>(&small)));
  EXPECT_TRUE(structured_word(reinterpret_cast<const std::uint8_t*>(&minus_one)));
  EXPECT_FALSE(structured_word(random.data()));
}

TEST(IslandHunt, EcScalarInItsOwnAllocationIsFoundBothByteOrders) {
  for (bool little_endian : {false, true}) {
    const EcKey key = p256_key(little_endian ? 21 : 22);
    Bytes page = heap_page();
    Bytes stored = key.scalar;
    if (little_endian) std::reverse(stored.begin(), stored.end());
    constexpr std::size_t kAt = 64 * 10 + 8;  // right after a chunk header
    std::copy(stored.begin(), stored.end(), page.begin() + kAt);
    auto detector = make_ec_scalar_hunt_detector();
    const auto sink = run(*detector, page, key.pub);
    EXPECT_TRUE(test::covered_verified(sink, kAt, 32)) << (little_endian ? "little-endian" : "big-endian");
    EXPECT_TRUE(sink.limits.empty());
  }
}

TEST(IslandHunt, ScalarInsideALongRandomRunIsTheBlindSpot) {
  const EcKey key = p256_key(23);
  Bytes page = heap_page();
  const Bytes noise = test::seeded_bytes(1024, 24);
  std::copy(noise.begin(), noise.end(), page.begin() + 1024);
  std::copy(key.scalar.begin(), key.scalar.end(), page.begin() + 1024 + 512);
  auto detector = make_ec_scalar_hunt_detector();
  EXPECT_TRUE(run(*detector, page, key.pub).findings.empty());
}

TEST(IslandHunt, BudgetReachedIsReportedAsALimit) {
  const EcKey key = p256_key(25);
  Bytes page = heap_page();
  // Three decoy islands before the key, each after its own chunk header.
  for (std::size_t i = 0; i < 3; ++i) {
    const Bytes decoy = test::seeded_bytes(32, 30 + static_cast<std::uint32_t>(i));
    std::copy(decoy.begin(), decoy.end(), page.begin() + 64 * (2 + i) + 8);
  }
  std::copy(key.scalar.begin(), key.scalar.end(), page.begin() + 64 * 20 + 8);
  auto limited = make_ec_scalar_hunt_detector({.island_budget = 2});
  const auto sink = run(*limited, page, key.pub);
  EXPECT_TRUE(sink.findings.empty());
  ASSERT_EQ(sink.limits.size(), 1u);
  EXPECT_NE(sink.limits[0].find("budget of 2"), std::string::npos);
  auto unlimited = make_ec_scalar_hunt_detector();
  EXPECT_TRUE(test::covered_verified(run(*unlimited, page, key.pub), 64 * 20 + 8, 32));
}

TEST(IslandHunt, Ed25519SeedKeptApartIsFound) {
  const Bytes seed = test::seeded_bytes(32, 40);
  const PublicKey pub = *check_edwards(KeyType::ed25519, seed, {}).public_key;
  Bytes page = heap_page();
  constexpr std::size_t kAt = 64 * 30 + 8;
  std::copy(seed.begin(), seed.end(), page.begin() + kAt);
  auto detector = make_ed25519_seed_hunt_detector();
  EXPECT_TRUE(test::covered_verified(run(*detector, page, pub), kAt, 32));
  auto limited = make_ed25519_seed_hunt_detector(0);
  const auto sink = run(*limited, page, pub);
  EXPECT_TRUE(sink.findings.empty());
  EXPECT_EQ(sink.limits.size(), 1u);
}

}  // namespace
}  // namespace dumpguard
