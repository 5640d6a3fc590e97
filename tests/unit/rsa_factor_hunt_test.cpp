// The RSA factor hunt with and without --exhaustive: a prime stored with no structure around
// it (big-endian at an odd offset, or limbs at a 4-byte-aligned address with no chunk header
// or BIGNUM) is a blind spot of the default hunt, and exactly what --exhaustive is for.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/private_key.hpp"
#include "detect/rsa_factor_hunt.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct TestKey {
  Bytes n, e, p_be, q_le;
};

// A 1024-bit key made here, at run time; its parts as the test plants them.
TestKey make_key() {
  EVP_PKEY* pkey = EVP_RSA_gen(1024);
  BIGNUM *n = nullptr, *e = nullptr, *p = nullptr, *q = nullptr;
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, &p);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, &q);
  TestKey k;
  k.n.resize(static_cast<std::size_t>(BN_num_bytes(n)));
  BN_bn2bin(n, k.n.data());
  k.e.resize(static_cast<std::size_t>(BN_num_bytes(e)));
  BN_bn2bin(e, k.e.data());
  k.p_be.resize(64);
  BN_bn2binpad(p, k.p_be.data(), 64);
  k.q_le.resize(64);
  BN_bn2lebinpad(q, k.q_le.data(), 64);
  BN_free(n);
  BN_free(e);
  BN_clear_free(p);
  BN_clear_free(q);
  EVP_PKEY_free(pkey);
  return k;
}

// Runs the hunt over `bytes` with the key's public half known, as if harvested.
test::CollectingSink hunt(bool exhaustive, const TestKey& key, const Bytes& bytes) {
  auto detector = make_rsa_factor_hunt_detector({exhaustive});
  Dump dump;
  KeyRing ring;
  ring.add(rsa_public_key(key.n, key.e));
  const ScanArea area{0, std::as_bytes(std::span(bytes)), std::nullopt};
  const Bytes fingerprint_key(32, 7);
  const ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), fingerprint_key};
  test::CollectingSink sink;
  run_alone(*detector, context, area, sink);
  test::close_copies(context, sink);
  return sink;
}

bool found_at(const test::CollectingSink& sink, std::uint64_t offset, std::string_view kind) {
  for (const Finding& f : sink.findings) {
    if (f.file_offset == offset && f.length == 64 && f.kind == kind && f.verified) return true;
  }
  return false;
}

TEST(RsaFactorHunt, ExhaustiveFindsAPrimeWithNoStructureAroundIt) {
  const TestKey key = make_key();
  Bytes bytes = test::seeded_bytes(4096, 11);
  constexpr std::size_t kBigEndianAt = 1001;  // odd: no alignment, no DER or mpint header
  std::copy(key.p_be.begin(), key.p_be.end(), bytes.begin() + kBigEndianAt);
  EXPECT_TRUE(hunt(false, key, bytes).findings.empty()) << "the default hunt has this blind spot (docs/detectors.md)";
  const auto sink = hunt(true, key, bytes);
  EXPECT_TRUE(found_at(sink, kBigEndianAt, "rsa-prime"));
}

TEST(RsaFactorHunt, ExhaustiveFindsLimbsAtAFourByteAlignedAddress) {
  const TestKey key = make_key();
  Bytes bytes = test::seeded_bytes(4096, 12);
  constexpr std::size_t kLimbsAt = 2052;  // 4-aligned, not 8-aligned: no malloc chunk starts here
  std::copy(key.q_le.begin(), key.q_le.end(), bytes.begin() + kLimbsAt);
  EXPECT_TRUE(hunt(false, key, bytes).findings.empty());
  const auto sink = hunt(true, key, bytes);
  EXPECT_TRUE(found_at(sink, kLimbsAt, "rsa-prime"));
}

TEST(RsaFactorHunt, ExhaustiveFindsNothingInBytesWithoutTheKey) {
  const TestKey key = make_key();
  const Bytes bytes = test::seeded_bytes(4096, 13);
  EXPECT_TRUE(hunt(true, key, bytes).findings.empty());
}

}  // namespace
}  // namespace dumpguard
