// The ChaCha20/Salsa20 state detector on states laid out from RFC 8439 2.3 and the Salsa20
// specification, planted in random data; and the constant alone, in read-only library data,
// or before a key that is not random.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crypto/digest.hpp"
#include "detect/chacha_state.hpp"
#include "fixtures/detector_harness.hpp"

using namespace dumpguard;

namespace {

constexpr std::array<std::uint8_t, 32> kFingerprintKey = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                                          7, 8, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4};


std::vector<Finding> scan_bytes(std::span<const std::uint8_t> bytes, const DumpModel& model = {},
                                std::optional<std::size_t> region = std::nullopt) {
  return test::run_over(*make_chacha_state_detector(), bytes, kFingerprintKey, 0, model, region).findings;
}


// RFC 8439 2.3.2's test key, 00 01 .. 1f (public).
std::vector<std::uint8_t> test_key() {
  std::vector<std::uint8_t> key(32);
  for (std::size_t i = 0; i < 32; ++i) key[i] = static_cast<std::uint8_t>(i);
  return key;
}

// RFC 8439 2.3: constants, key, counter, nonce; every word little-endian.
std::vector<std::uint8_t> chacha_state(const std::vector<std::uint8_t>& key) {
  std::vector<std::uint8_t> s(64);
  std::memcpy(s.data(), "expand 32-byte k", 16);
  std::memcpy(s.data() + 16, key.data(), 32);
  const std::uint8_t tail[16] = {1, 0, 0, 0, 0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0};
  std::memcpy(s.data() + 48, tail, 16);
  return s;
}

// Salsa20 specification 9: sigma words at 0, 5, 10, 15; key at 1-4 and 11-14.
std::vector<std::uint8_t> salsa_state(const std::vector<std::uint8_t>& key) {
  std::vector<std::uint8_t> s(64, 0x5A);
  std::memcpy(s.data(), "expa", 4);
  std::memcpy(s.data() + 4, key.data(), 16);
  std::memcpy(s.data() + 20, "nd 3", 4);
  std::memcpy(s.data() + 40, "2-by", 4);
  std::memcpy(s.data() + 44, key.data() + 16, 16);
  std::memcpy(s.data() + 60, "te k", 4);
  return s;
}

}  // namespace

TEST(ChaChaState, FindsAChaCha20StateAtAnyOffset) {
  for (std::size_t at : {0u, 7u, 4096u - 64u}) {
    auto buffer = test::seeded_bytes(4096, 1);
    const auto state = chacha_state(test_key());
    std::copy(state.begin(), state.end(), buffer.begin() + static_cast<long>(at));
    const auto found = scan_bytes(buffer);
    ASSERT_EQ(found.size(), 1u) << at;
    EXPECT_EQ(found[0].kind, "chacha20-state");
    EXPECT_EQ(found[0].file_offset, at);
    EXPECT_EQ(found[0].length, 64u);
    EXPECT_FALSE(found[0].verified);
    EXPECT_EQ(found[0].severity, Severity::high);
    EXPECT_EQ(found[0].key, keyed_fingerprint(kFingerprintKey, test_key()));
  }
}

TEST(ChaChaState, FindsASalsa20State) {
  auto buffer = test::seeded_bytes(4096, 2);
  const auto state = salsa_state(test_key());
  std::copy(state.begin(), state.end(), buffer.begin() + 1001);
  const auto found = scan_bytes(buffer);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "salsa20-state");
  EXPECT_EQ(found[0].file_offset, 1001u);
  EXPECT_EQ(found[0].length, 64u);
  EXPECT_EQ(found[0].key, keyed_fingerprint(kFingerprintKey, test_key()));
}

TEST(ChaChaState, SkipsZeroRepeatedAndCutKeys) {
  for (const std::vector<std::uint8_t>& key :
       {std::vector<std::uint8_t>(32, 0), std::vector<std::uint8_t>(32, 0x41),
        std::vector<std::uint8_t>{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0}}) {
    auto buffer = test::seeded_bytes(1024, 3);
    const auto a = chacha_state(key), b = salsa_state(key);
    std::copy(a.begin(), a.end(), buffer.begin() + 100);
    std::copy(b.begin(), b.end(), buffer.begin() + 500);
    EXPECT_TRUE(scan_bytes(buffer).empty());
  }
  // The constant with fewer than 64 bytes after it.
  auto buffer = test::seeded_bytes(100, 4);
  std::memcpy(buffer.data() + 50, "expand 32-byte k", 16);
  EXPECT_TRUE(scan_bytes(buffer).empty());
  EXPECT_TRUE(scan_bytes(test::seeded_bytes(1 << 20, 5)).empty());
}

TEST(ChaChaState, SkipsReadOnlyLibraryData) {
  auto buffer = test::seeded_bytes(4096, 6);
  const auto state = chacha_state(test_key());
  std::copy(state.begin(), state.end(), buffer.begin() + 64);
  DumpModel model;
  Region text;
  text.size = buffer.size();
  text.vaddr = 0x7f0000001000;
  text.kind = RegionKind::module;
  text.perms = Perms{true, false, false};
  model.regions.push_back(text);
  EXPECT_TRUE(scan_bytes(buffer, model, 0).empty());
  model.regions[0].perms = Perms{true, true, false};
  const auto found = scan_bytes(buffer, model, 0);
  ASSERT_EQ(found.size(), 1u);
  ASSERT_TRUE(found[0].vaddr.has_value());
  EXPECT_EQ(*found[0].vaddr, 0x7f0000001000u + 64);
}

// A state in a library's static data (its writable segment, or the anonymous .bss the loader
// maps right after it) is the library's random-number generator: reported apart, at low. The
// same state in heap memory that no image borders is a key in use, at high.
TEST(ChaChaState, StateInALibrarysStaticDataIsAGeneratorAtLow) {
  auto buffer = test::seeded_bytes(4096, 3);
  const auto state = chacha_state(test_key());
  std::copy(state.begin(), state.end(), buffer.begin() + 128);
  DumpModel model;
  Region data;  // libsqlite3's writable data segment, then its .bss
  data.vaddr = 0x7f0000000000;
  data.size = 0x2000;
  data.file_offset = 0x10000;
  data.perms = Perms{true, true, false};
  data.kind = RegionKind::module;
  data.owner.path = "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6";
  Region bss;
  bss.vaddr = 0x7f0000002000;
  bss.size = buffer.size();
  bss.perms = Perms{true, true, false};
  bss.kind = RegionKind::heap;
  model.regions = {data, bss};
  const auto in_bss = scan_bytes(buffer, model, 1);
  ASSERT_EQ(in_bss.size(), 1u);
  EXPECT_EQ(in_bss[0].kind, "chacha20-prng-state");
  EXPECT_EQ(in_bss[0].severity, Severity::low);
  EXPECT_NE(in_bss[0].proof.find("libsqlite3"), std::string::npos);
  const auto in_data = scan_bytes(buffer, model, 0);
  ASSERT_EQ(in_data.size(), 1u);
  EXPECT_EQ(in_data[0].kind, "chacha20-prng-state");
  model.regions[1].vaddr = 0x7f0000100000;  // not where an image ends: an ordinary heap
  const auto on_heap = scan_bytes(buffer, model, 1);
  ASSERT_EQ(on_heap.size(), 1u);
  EXPECT_EQ(on_heap[0].kind, "chacha20-state");
  EXPECT_EQ(on_heap[0].severity, Severity::high);
}
