// EC scalars with no known public key: a scalar after a chunk header is proven when a coordinate
// of d·G is elsewhere in the buffer, in any number layout or SEC1 encoding, and becomes a key
// of the report; so is a scalar in a runtime's own layout, by the default hunt; without the
// point, or with the hunt's budget at zero, nothing is claimed.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "crypto/openssl_ptr.hpp"
#include "crypto/private_key.hpp"
#include "detect/ec_scalar_hunt.hpp"
#include "detect/number_layout.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A heap-like page: JSON text in 64-byte glibc chunks (malloc.c: the size word right before a
// 16-byte-aligned user pointer).
Bytes heap_page() {
  std::string text;
  while (text.size() < 8192) text += "{\"id\":12,\"name\":\"user\",\"on\":true},";
  Bytes page(text.begin(), text.begin() + 8192);
  for (std::size_t at = 0; at < page.size(); at += 64) {
    const std::uint64_t size = 0x41;
    std::memcpy(page.data() + at + 8, &size, 8);
  }
  return page;
}

// No public key known: the point is only in the buffer.
test::CollectingSink run(HuntDetector& detector, const Bytes& bytes) {
  return test::run_over(detector, bytes, Bytes(32, 3));
}

constexpr std::size_t kScalarAt = 64 * 10 + 16;  // a chunk's user bytes
// As --exhaustive makes the hunt: the limbs after glibc chunk headers are blind candidates.
constexpr EcScalarSettings kChunkWindows{.blind_budget = kBlindScalarBudget, .exhaustive = true};
constexpr std::size_t kPointAt = 64 * 60 + 16;

struct Case {
  int nid;
  const char* form;  // a number layout's name, or "sec1" / "sec1-compressed"
  bool little_endian_scalar;
};

TEST(EcBlindHunt, ScalarIsProvenByItsPointInAnyLayout) {
  const Case cases[] = {
      {NID_X9_62_prime256v1, "be", false},   {NID_X9_62_prime256v1, "le", true},
      {NID_secp256k1, "limb52-64", false},   {NID_X9_62_prime256v1, "sec1", true},
      {NID_secp256k1, "sec1-compressed", false}, {NID_X9_62_prime256v1, "cpython-30", false},
  };
  std::uint32_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.form);
    Bytes scalar = test::seeded_bytes(32, ++seed);
    scalar[0] &= 0x7f;  // below both groups' orders
    const PublicKey pub = *check_ec(c.nid, scalar, {}).public_key;
    const std::span<const std::uint8_t> x(pub.point.data() + 1, 32);
    Bytes point_form;
    if (std::string(c.form) == "sec1") {
      point_form = pub.point;
    } else if (std::string(c.form) == "sec1-compressed") {
      point_form.assign(pub.point.begin(), pub.point.begin() + 33);
      point_form[0] = static_cast<std::uint8_t>(0x02 | (pub.point.back() & 1));
    } else {
      const LaidOut laid = lay_out_magnitude(layout_named(c.form), magnitude_of(x));
      point_form = laid.bytes;
    }
    Bytes page = heap_page();
    Bytes stored = scalar;
    if (c.little_endian_scalar) std::reverse(stored.begin(), stored.end());
    std::copy(stored.begin(), stored.end(), page.begin() + kScalarAt);
    Bytes without_point = page;
    std::copy(point_form.begin(), point_form.end(), page.begin() + kPointAt);

    auto detector = make_ec_scalar_hunt_detector(kChunkWindows);
    const auto sink = run(*detector, page);
    EXPECT_TRUE(test::covered_verified(sink, kScalarAt, 32));
    EXPECT_TRUE(sink.limits.empty());
    ASSERT_EQ(sink.keys.size(), 1u);
    EXPECT_EQ(sink.keys[0].fingerprint, pub.fingerprint);
    EXPECT_TRUE(sink.keys[0].derived);
    bool named = false;
    for (const Finding& f : sink.findings) {
      if (f.key == pub.fingerprint && f.proof.find("at file offset 0x") != std::string::npos) named = true;
    }
    EXPECT_TRUE(named);

    auto alone = make_ec_scalar_hunt_detector(kChunkWindows);
    const auto unproven = run(*alone, without_point);
    EXPECT_TRUE(unproven.findings.empty());
    EXPECT_TRUE(unproven.keys.empty());
  }
}

TEST(EcBlindHunt, ScalarInARuntimesLayoutIsProven) {
  // No BIGNUM and no chunk prior: the scalar is a CPython int (its digit count right before it:
  // the default hunt takes it), V8 small integers, libtommath limbs or a JVM BigInteger's int[]
  // (its length word right before it; these as --exhaustive hunts), its point SEC1 bytes.
  std::uint32_t seed = 300;
  for (const char* layout : {"cpython-30", "smi64-28", "smi32-28", "limb60-64", "jvm-int32"}) {
    SCOPED_TRACE(layout);
    const NumberLayout& l = layout_named(layout);
    Bytes scalar;
    LaidOut laid;
    // Drawn again in the documented blind spot: a digit under the scalar's top one whose upper
    // half is clear.
    for (bool strong = false; !strong;) {
      scalar = test::seeded_bytes(32, ++seed);
      scalar[0] &= 0x7f;
      laid = lay_out_magnitude(l, magnitude_of(scalar));
      const std::size_t count = laid.bytes.size() / l.slot_bytes;
      strong = true;
      for (std::size_t k = 0; k + 1 < count; ++k) {
        const std::size_t slot = l.most_significant_first ? count - 1 - k : k;
        strong = strong && (digit_of(l, laid.bytes.data() + slot * l.slot_bytes) >> (l.digit_bits / 2)) != 0;
      }
    }
    const PublicKey pub = *check_ec(NID_X9_62_prime256v1, scalar, {}).public_key;
    Bytes page = heap_page();
    constexpr std::size_t kAt = 64 * 12 + 16;
    const std::uint64_t count = laid.bytes.size() / l.slot_bytes;  // ob_size, or the int[]'s length
    std::memcpy(page.data() + kAt - (l.most_significant_first ? 4 : 8), &count, l.most_significant_first ? 4 : 8);
    std::copy(laid.bytes.begin(), laid.bytes.end(), page.begin() + kAt);
    std::copy(pub.point.begin(), pub.point.end(), page.begin() + kPointAt);
    const bool cpython = std::string(layout) == "cpython-30";
    auto detector = make_ec_scalar_hunt_detector(cpython ? EcScalarSettings{} : kChunkWindows);
    const auto sink = run(*detector, page);
    EXPECT_TRUE(test::covered_verified(sink, kAt, laid.bytes.size()));
    ASSERT_EQ(sink.keys.size(), 1u);
    EXPECT_EQ(sink.keys[0].fingerprint, pub.fingerprint);
  }
}

// A V8 FixedArray of small integers at `at` (its map and length before it): `digits` 26-bit
// digits of `value` (big-endian bytes) as bn.js keeps them, then `stale` more strong digits.
std::size_t put_v8_array(Bytes& page, std::size_t at, std::span<const std::uint8_t> value, std::size_t digits,
                         std::size_t stale, std::uint32_t seed) {
  const NumberLayout& l = layout_named("smi64-26");
  const LaidOut laid = lay_out(l, value, digits);
  const std::uint64_t map = 0x00002ba5fbb40211ull;
  const std::uint64_t length = std::uint64_t{digits + std::max<std::size_t>(stale, 1)} << 32;
  std::memcpy(page.data() + at - 16, &map, 8);
  std::memcpy(page.data() + at - 8, &length, 8);
  std::copy(laid.bytes.begin(), laid.bytes.end(), page.begin() + static_cast<std::ptrdiff_t>(at));
  const Bytes noise = test::seeded_bytes(4 * stale + 8, seed);
  for (std::size_t k = 0; k <= stale; ++k) {
    std::uint32_t d = 0;
    std::memcpy(&d, noise.data() + 4 * k, 4);
    const std::uint64_t slot = k == stale ? 0 : std::uint64_t{(d & 0x1FFFFFF) | 0x2000000} << 32;
    std::memcpy(page.data() + at + 8 * (digits + k), &slot, 8);
  }
  return laid.bytes.size();
}

// Whether bn.js's digits of a 256-bit value are outside the documented blind spot: every digit
// but the top one strong, one with one of the digit's top two bits.
bool strong_bn_digits(std::span<const std::uint8_t> value) {
  const NumberLayout& l = layout_named("smi64-26");
  const LaidOut laid = lay_out(l, value, 10);
  bool top_two = false;
  for (std::size_t k = 0; k < 9; ++k) {
    const std::uint64_t d = digit_of(l, laid.bytes.data() + 8 * k);
    if (d < (1u << 13)) return false;
    top_two = top_two || d >= (1u << 24);
  }
  return top_two && digit_of(l, laid.bytes.data() + 72) >= (1u << 6);
}

TEST(EcBlindHunt, AV8DigitArrayIsProvenByItsPointAmongV8sArrays) {
  // elliptic's keys in Node.js: the scalar in an array of eleven (the spare digit zero), x in an
  // array of twenty that keeps its product's stale digits past the number; secp256k1's x in
  // normal form, P-256's in bn.js's Montgomery form (x·2^260 mod p). The default hunt proves
  // each from the arrays alone; without x's array, nothing.
  std::uint32_t seed = 400;
  for (const int nid : {NID_secp256k1, NID_X9_62_prime256v1}) {
    SCOPED_TRACE(nid);
    const bool montgomery = nid == NID_X9_62_prime256v1;
    Bytes scalar, x(32);
    PublicKey pub;
    for (;;) {
      scalar = test::seeded_bytes(32, ++seed);
      scalar[0] &= 0x7f;
      pub = *check_ec(nid, scalar, {}).public_key;
      std::copy(pub.point.begin() + 1, pub.point.begin() + 33, x.begin());
      if (montgomery) {
        EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
        BnCtxPtr ctx(BN_CTX_new());
        BnPtr p(BN_new()), v(BN_bin2bn(x.data(), 32, nullptr));
        ASSERT_EQ(EC_GROUP_get_curve(group.get(), p.get(), nullptr, nullptr, ctx.get()), 1);
        ASSERT_EQ(BN_lshift(v.get(), v.get(), 260), 1);
        ASSERT_EQ(BN_nnmod(v.get(), v.get(), p.get(), ctx.get()), 1);
        ASSERT_EQ(BN_bn2binpad(v.get(), x.data(), 32), 32);
      }
      if (strong_bn_digits(scalar) && strong_bn_digits(x)) break;
    }
    Bytes page = heap_page();
    constexpr std::size_t kAt = 64 * 12 + 16;
    const std::size_t length = put_v8_array(page, kAt, scalar, 10, 0, seed);
    Bytes without_point = page;
    put_v8_array(page, kPointAt, x, 10, 10, seed + 1000);
    auto detector = make_ec_scalar_hunt_detector();
    const auto sink = run(*detector, page);
    EXPECT_TRUE(test::covered_verified(sink, kAt, length));
    EXPECT_TRUE(sink.limits.empty());
    ASSERT_EQ(sink.keys.size(), 1u);
    EXPECT_EQ(sink.keys[0].fingerprint, pub.fingerprint);
    EXPECT_NE(sink.keys[0].origin.find("laid out as smi64-26"), std::string::npos) << sink.keys[0].origin;
    EXPECT_EQ(sink.keys[0].origin.find("Montgomery form") != std::string::npos, montgomery) << sink.keys[0].origin;

    auto alone = make_ec_scalar_hunt_detector();
    const auto unproven = run(*alone, without_point);
    EXPECT_TRUE(unproven.findings.empty());
    EXPECT_TRUE(unproven.keys.empty());
  }
}

TEST(EcBlindHunt, BudgetReachedIsALimit) {
  Bytes scalar = test::seeded_bytes(32, 200);
  scalar[0] &= 0x7f;
  const PublicKey pub = *check_ec(NID_X9_62_prime256v1, scalar, {}).public_key;
  Bytes page = heap_page();
  // A decoy in an earlier chunk takes the budget of one.
  const Bytes decoy = test::seeded_bytes(32, 201);
  std::copy(decoy.begin(), decoy.end(), page.begin() + 64 * 2 + 16);
  std::copy(scalar.begin(), scalar.end(), page.begin() + kScalarAt);
  std::copy(pub.point.begin(), pub.point.end(), page.begin() + kPointAt);
  auto limited = make_ec_scalar_hunt_detector({.blind_budget = 1, .exhaustive = true});
  const auto sink = run(*limited, page);
  EXPECT_TRUE(sink.findings.empty());
  ASSERT_EQ(sink.limits.size(), 1u);
  EXPECT_NE(sink.limits[0].find("budget of 1 candidate"), std::string::npos);
  auto off = make_ec_scalar_hunt_detector({.blind_budget = 0, .exhaustive = true});
  EXPECT_TRUE(run(*off, page).findings.empty());
}

}  // namespace
}  // namespace dumpguard
