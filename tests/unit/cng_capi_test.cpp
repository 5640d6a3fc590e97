// Windows key blobs built byte by byte from Microsoft's documented layouts ("BCRYPT_RSAKEY_BLOB
// structure", "BCRYPT_ECCKEY_BLOB structure", "Base Provider Key BLOBs") out of keys OpenSSL
// generates at test time. Each blob is first parsed back by the test itself and compared
// with the key's numbers, then planted at an odd offset in random bytes and scanned.
#include <gtest/gtest.h>

#include <openssl/core_names.h>

#include <algorithm>
#include <string>

#include "detect/capi_blob.hpp"
#include "detect/cng_blob.hpp"
#include "structured_key_fixtures.hpp"

using namespace dumpguard;
using namespace dumpguard::test;

namespace {

void put_u32le(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t get_u32le(const Bytes& b, std::size_t at) {
  return std::uint32_t{b.at(at)} | (std::uint32_t{b.at(at + 1)} << 8) | (std::uint32_t{b.at(at + 2)} << 16) |
         (std::uint32_t{b.at(at + 3)} << 24);
}
void append(Bytes& out, const Bytes& v) { out.insert(out.end(), v.begin(), v.end()); }
Bytes reversed(Bytes v) {
  std::reverse(v.begin(), v.end());
  return v;
}
Bytes slice(const Bytes& b, std::size_t& at, std::size_t n) {
  Bytes out(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
  at += n;
  return out;
}
Bytes strip(Bytes v) {
  v.erase(v.begin(), std::find_if(v.begin(), v.end(), [](std::uint8_t b) { return b != 0; }));
  return v;
}

constexpr std::uint32_t kRsa1 = 0x31415352, kRsa2 = 0x32415352, kRsa3 = 0x33415352;

// BCRYPT_RSAKEY_BLOB: Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2, then
// PublicExponent, Modulus [, Prime1, Prime2 [, Exponent1, Exponent2, Coefficient,
// PrivateExponent]], all big-endian.
Bytes cng_rsa(EVP_PKEY* key, std::uint32_t magic) {
  const auto bits = static_cast<std::uint32_t>(EVP_PKEY_get_bits(key));
  const std::size_t mod = bits / 8, half = bits / 16;
  const Bytes e = bn_param(key, OSSL_PKEY_PARAM_RSA_E);
  Bytes out;
  put_u32le(out, magic);
  put_u32le(out, bits);
  put_u32le(out, static_cast<std::uint32_t>(e.size()));
  put_u32le(out, static_cast<std::uint32_t>(mod));
  put_u32le(out, magic == kRsa1 ? 0 : static_cast<std::uint32_t>(half));
  put_u32le(out, magic == kRsa1 ? 0 : static_cast<std::uint32_t>(half));
  append(out, e);
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_N, mod));
  if (magic == kRsa1) return out;
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1, half));
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2, half));
  if (magic == kRsa2) return out;
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1, half));
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2, half));
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, half));
  append(out, bn_param(key, OSSL_PKEY_PARAM_RSA_D, mod));
  return out;
}

// The independent round trip: read the blob back by its header and compare every number.
void expect_cng_rsa_round_trip(const Bytes& blob, EVP_PKEY* key) {
  const std::uint32_t magic = get_u32le(blob, 0);
  const std::size_t cb_exp = get_u32le(blob, 8), cb_mod = get_u32le(blob, 12), cb_p1 = get_u32le(blob, 16),
                    cb_p2 = get_u32le(blob, 20);
  ASSERT_EQ(get_u32le(blob, 4), static_cast<std::uint32_t>(EVP_PKEY_get_bits(key)));
  std::size_t at = 24;
  EXPECT_EQ(slice(blob, at, cb_exp), bn_param(key, OSSL_PKEY_PARAM_RSA_E));
  EXPECT_EQ(strip(slice(blob, at, cb_mod)), bn_param(key, OSSL_PKEY_PARAM_RSA_N));
  if (magic != kRsa1) {
    EXPECT_EQ(strip(slice(blob, at, cb_p1)), bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1));
    EXPECT_EQ(strip(slice(blob, at, cb_p2)), bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2));
  }
  if (magic == kRsa3) {
    EXPECT_EQ(strip(slice(blob, at, cb_p1)), bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1));
    EXPECT_EQ(strip(slice(blob, at, cb_p2)), bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2));
    EXPECT_EQ(strip(slice(blob, at, cb_p1)), bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
    EXPECT_EQ(strip(slice(blob, at, cb_mod)), bn_param(key, OSSL_PKEY_PARAM_RSA_D));
  }
  EXPECT_EQ(at, blob.size());
}

struct Curve {
  const char* name;
  std::size_t field;
  char digit_public;  // '1', '3', '5': the public magic's last byte; private is one more
};
constexpr Curve kCurves[] = {{"P-256", 32, '1'}, {"P-384", 48, '3'}, {"P-521", 66, '5'}};

std::uint32_t ecc_magic(char family, char digit) {
  return 0x4345u | (std::uint32_t{static_cast<std::uint8_t>(family)} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(digit)} << 24);
}

// BCRYPT_ECCKEY_BLOB: dwMagic, cbKey, then X, Y [, d], each cbKey bytes big-endian.
Bytes cng_ecc(EVP_PKEY* key, std::uint32_t magic, std::size_t field, bool with_private) {
  Bytes out;
  put_u32le(out, magic);
  put_u32le(out, static_cast<std::uint32_t>(field));
  const Bytes point = ec_point(key);
  append(out, Bytes(point.begin() + 1, point.end()));
  if (with_private) append(out, bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, field));
  return out;
}

void expect_cng_ecc_round_trip(const Bytes& blob, EVP_PKEY* key, bool with_private) {
  const std::size_t field = get_u32le(blob, 4);
  std::size_t at = 8;
  Bytes point{0x04};
  append(point, slice(blob, at, 2 * field));
  EXPECT_EQ(point, ec_point(key));
  if (with_private) {
    EXPECT_EQ(strip(slice(blob, at, field)), bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY));
  }
  EXPECT_EQ(at, blob.size());
}

// PRIVATEKEYBLOB / PUBLICKEYBLOB: BLOBHEADER {bType, bVersion 2, reserved 0, aiKeyAlg},
// RSAPUBKEY {magic, bitlen, pubexp}, then little-endian numbers (bitlen/8 and bitlen/16).
Bytes capi_rsa(EVP_PKEY* key, bool is_private, bool with_header, std::uint32_t alg = 0xA400) {
  const auto bits = static_cast<std::uint32_t>(EVP_PKEY_get_bits(key));
  const std::size_t mod = bits / 8, half = bits / 16;
  Bytes out;
  if (with_header) {
    out.push_back(is_private ? 0x07 : 0x06);
    out.push_back(0x02);
    out.push_back(0);
    out.push_back(0);
    put_u32le(out, alg);
  }
  put_u32le(out, is_private ? kRsa2 : kRsa1);
  put_u32le(out, bits);
  const Bytes e = bn_param(key, OSSL_PKEY_PARAM_RSA_E, 4);
  put_u32le(out, (std::uint32_t{e[0]} << 24) | (std::uint32_t{e[1]} << 16) | (std::uint32_t{e[2]} << 8) | e[3]);
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_N, mod)));
  if (!is_private) return out;
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1, half)));
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2, half)));
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1, half)));
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2, half)));
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, half)));
  append(out, reversed(bn_param(key, OSSL_PKEY_PARAM_RSA_D, mod)));
  return out;
}

void expect_capi_round_trip(const Bytes& blob, EVP_PKEY* key, bool with_header) {
  std::size_t at = with_header ? 8 : 0;
  const bool is_private = get_u32le(blob, at) == kRsa2;
  const std::size_t bits = get_u32le(blob, at + 4);
  ASSERT_EQ(bits, static_cast<std::size_t>(EVP_PKEY_get_bits(key)));
  const Bytes e = strip(bn_param(key, OSSL_PKEY_PARAM_RSA_E, 4));
  EXPECT_EQ(strip(reversed(Bytes(blob.begin() + static_cast<std::ptrdiff_t>(at + 8),
                                 blob.begin() + static_cast<std::ptrdiff_t>(at + 12)))), e);
  at += 12;
  EXPECT_EQ(strip(reversed(slice(blob, at, bits / 8))), bn_param(key, OSSL_PKEY_PARAM_RSA_N));
  if (is_private) {
    for (const char* name : {OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
                             OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}) {
      EXPECT_EQ(strip(reversed(slice(blob, at, bits / 16))), bn_param(key, name)) << name;
    }
    EXPECT_EQ(strip(reversed(slice(blob, at, bits / 8))), bn_param(key, OSSL_PKEY_PARAM_RSA_D));
  }
  EXPECT_EQ(at, blob.size());
}

struct Scanned {
  CollectingSink sink;
  std::size_t at = 0;
};

Scanned plant_and_scan(StructureDetector& detector, const Bytes& blob, std::size_t at = 12'345) {
  Bytes buffer = random_bytes(64 * 1024);
  plant(buffer, at, blob);
  return {run_detector(detector, buffer), at};
}

void expect_one_private(const Scanned& s, const Bytes& blob, EVP_PKEY* key, const char* kind, const char* encoding,
                        bool verified) {
  ASSERT_EQ(s.sink.findings.size(), 1u);
  const Finding& f = s.sink.findings[0];
  EXPECT_EQ(f.kind, kind);
  EXPECT_EQ(f.encoding, encoding);
  EXPECT_EQ(f.file_offset, kFileOffset + s.at);
  EXPECT_EQ(f.length, blob.size());
  ASSERT_TRUE(f.vaddr.has_value());
  EXPECT_EQ(*f.vaddr, kVaddr + s.at);
  EXPECT_EQ(f.verified, verified) << f.proof;
  EXPECT_EQ(f.severity, verified ? Severity::critical : Severity::high);
  // Verified or not, a key is named by the public key stored in its structure (the
  // modulus, or the EC point), which is the key the structure claims to be.
  EXPECT_EQ(f.key, spki_sha256(key));
}

}  // namespace

TEST(CngRsa, FullPrivateBlobIsVerified) {
  auto detector = make_cng_blob_detector();
  for (unsigned bits : {2048u, 3072u}) {
    auto key = rsa_key(bits);
    const Bytes blob = cng_rsa(key.get(), kRsa3);
    expect_cng_rsa_round_trip(blob, key.get());
    expect_one_private(plant_and_scan(*detector, blob), blob, key.get(), "rsa-private-key", "cng-rsafull", true);
  }
}

TEST(CngRsa, PrivateBlobWithoutExponentIsVerifiedByItsFactors) {
  auto detector = make_cng_blob_detector();
  auto key = rsa_key(2048);
  const Bytes blob = cng_rsa(key.get(), kRsa2);
  expect_cng_rsa_round_trip(blob, key.get());
  const auto s = plant_and_scan(*detector, blob, 7);
  expect_one_private(s, blob, key.get(), "rsa-private-key", "cng-rsaprivate", true);
  EXPECT_NE(s.sink.findings.at(0).proof.find("no private exponent"), std::string::npos);
}

TEST(CngRsa, CorruptedNumbersAreUnverified) {
  auto detector = make_cng_blob_detector();
  auto key = rsa_key(2048);
  Bytes full = cng_rsa(key.get(), kRsa3);
  full[full.size() - 10] ^= 0x40;  // inside PrivateExponent
  expect_one_private(plant_and_scan(*detector, full), full, key.get(), "rsa-private-key", "cng-rsafull", false);
  Bytes priv = cng_rsa(key.get(), kRsa2);
  priv[priv.size() - 10] ^= 0x40;  // inside Prime2
  expect_one_private(plant_and_scan(*detector, priv), priv, key.get(), "rsa-private-key", "cng-rsaprivate", false);
}

TEST(CngRsa, PublicBlobIsHarvestedOnly) {
  auto detector = make_cng_blob_detector();
  auto key = rsa_key(2048);
  const Bytes blob = cng_rsa(key.get(), kRsa1);
  expect_cng_rsa_round_trip(blob, key.get());
  const auto s = plant_and_scan(*detector, blob);
  EXPECT_TRUE(s.sink.findings.empty());
  EXPECT_NE(s.sink.harvested(spki_sha256(key.get())), nullptr);
}

TEST(CngEcc, EcdsaAndEcdhPrivateBlobsOnEveryCurve) {
  auto detector = make_cng_blob_detector();
  for (const Curve& c : kCurves) {
    SCOPED_TRACE(c.name);
    auto key = ec_key(c.name);
    for (char family : {'S', 'K'}) {
      const Bytes blob = cng_ecc(key.get(), ecc_magic(family, static_cast<char>(c.digit_public + 1)), c.field, true);
      expect_cng_ecc_round_trip(blob, key.get(), true);
      const std::string encoding = std::string(family == 'S' ? "cng-ecdsa-" : "cng-ecdh-") +
                                   (c.field == 32 ? "p256" : c.field == 48 ? "p384" : "p521");
      expect_one_private(plant_and_scan(*detector, blob, 3001), blob, key.get(), "ec-private-key", encoding.c_str(),
                         true);
    }
  }
}

TEST(CngEcc, PublicBlobIsHarvestedAndCorruptScalarUnverified) {
  auto detector = make_cng_blob_detector();
  auto key = ec_key("P-256");
  const Bytes pub = cng_ecc(key.get(), ecc_magic('S', '1'), 32, false);
  expect_cng_ecc_round_trip(pub, key.get(), false);
  const auto s = plant_and_scan(*detector, pub);
  EXPECT_TRUE(s.sink.findings.empty());
  EXPECT_NE(s.sink.harvested(spki_sha256(key.get())), nullptr);

  Bytes priv = cng_ecc(key.get(), ecc_magic('S', '2'), 32, true);
  priv[priv.size() - 3] ^= 0x01;
  expect_one_private(plant_and_scan(*detector, priv), priv, key.get(), "ec-private-key", "cng-ecdsa-p256", false);
}

TEST(CngEcc, WrongKeySizeForTheMagicIsIgnored) {
  auto detector = make_cng_blob_detector();
  auto key = ec_key("P-384");
  const Bytes blob = cng_ecc(key.get(), ecc_magic('S', '2'), 48, true);  // P-256 magic, P-384 sizes
  EXPECT_TRUE(plant_and_scan(*detector, blob).sink.findings.empty());
}

TEST(CapiRsa, PrivateKeyBlobWithAndWithoutHeader) {
  auto detector = make_capi_blob_detector();
  auto key = rsa_key(2048);
  for (std::uint32_t alg : {0xA400u, 0x2400u}) {
    const Bytes blob = capi_rsa(key.get(), true, true, alg);
    expect_capi_round_trip(blob, key.get(), true);
    expect_one_private(plant_and_scan(*detector, blob, 555), blob, key.get(), "rsa-private-key",
                       "capi-privatekeyblob", true);
  }
  const Bytes bare = capi_rsa(key.get(), true, false);
  expect_capi_round_trip(bare, key.get(), false);
  expect_one_private(plant_and_scan(*detector, bare, 1111), bare, key.get(), "rsa-private-key", "capi-rsa2", true);
}

TEST(CapiRsa, CorruptedPrivateExponentIsUnverified) {
  auto detector = make_capi_blob_detector();
  auto key = rsa_key(2048);
  Bytes blob = capi_rsa(key.get(), true, true);
  blob[blob.size() - 100] ^= 0x08;
  expect_one_private(plant_and_scan(*detector, blob), blob, key.get(), "rsa-private-key", "capi-privatekeyblob",
                     false);
}

TEST(CapiRsa, PublicKeyBlobIsHarvestedOnly) {
  auto detector = make_capi_blob_detector();
  auto key = rsa_key(2048);
  const Bytes blob = capi_rsa(key.get(), false, true);
  expect_capi_round_trip(blob, key.get(), true);
  const auto s = plant_and_scan(*detector, blob);
  EXPECT_TRUE(s.sink.findings.empty());
  EXPECT_NE(s.sink.harvested(spki_sha256(key.get())), nullptr);
}

TEST(WindowsBlobs, EachDetectorIgnoresTheOthersLayoutAndRandomData) {
  auto cng = make_cng_blob_detector();
  auto capi = make_capi_blob_detector();
  auto key = rsa_key(2048);
  EXPECT_TRUE(plant_and_scan(*cng, capi_rsa(key.get(), true, true)).sink.findings.empty());
  EXPECT_TRUE(plant_and_scan(*capi, cng_rsa(key.get(), kRsa3)).sink.findings.empty());
  EXPECT_TRUE(plant_and_scan(*capi, cng_rsa(key.get(), kRsa2)).sink.findings.empty());

  Bytes noise = random_bytes(1 << 20);
  for (std::size_t i = 0; i + 64 < noise.size(); i += 4099) {  // magics with random headers
    const char* m = (i / 4099) % 2 ? "RSA2" : "ECS2";
    std::copy(m, m + 4, noise.begin() + static_cast<std::ptrdiff_t>(i));
  }
  const Bytes tail{'R', 'S', 'A', '3', 0, 8, 0, 0};  // a header cut off by the area's end
  plant(noise, noise.size() - tail.size(), tail);
  for (StructureDetector* d : {cng.get(), capi.get()}) {
    const auto sink = run_detector(*d, noise);
    EXPECT_TRUE(sink.findings.empty());
    EXPECT_TRUE(sink.keys.empty());
  }
}
