// JSON Web Keys written by the test from key numbers OpenSSL generates at run time
// (base64url per RFC 7515 2; members per RFC 7518 6 and RFC 8037 2), planted at odd
// offsets in random bytes: private keys found with the exact span of their object and
// OpenSSL's SPKI fingerprint, public ones harvested, JWK Sets split into their keys.
#include <gtest/gtest.h>

#include <openssl/core_names.h>

#include <string>
#include <utility>
#include <vector>

#include "detect/jwk.hpp"
#include "structured_key_fixtures.hpp"

using namespace dumpguard;
using namespace dumpguard::test;

namespace {

std::string b64url(const Bytes& v) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : v) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

using Members = std::vector<std::pair<std::string, std::string>>;

std::string object(const Members& members, const char* separator = ",") {
  std::string out = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i) out += separator;
    out += "\"" + members[i].first + "\":\"" + members[i].second + "\"";
  }
  return out + "}";
}

Members rsa_members(EVP_PKEY* key, bool with_private, bool with_primes = true) {
  Members m{{"kty", "RSA"},
            {"n", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
            {"e", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}};
  if (!with_private) return m;
  m.emplace_back("d", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_D)));
  if (!with_primes) return m;
  m.emplace_back("p", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1)));
  m.emplace_back("q", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2)));
  m.emplace_back("dp", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1)));
  m.emplace_back("dq", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2)));
  m.emplace_back("qi", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)));
  return m;
}

Members ec_members(EVP_PKEY* key, const char* crv, std::size_t field, bool with_private) {
  const Bytes point = ec_point(key);
  Members m{{"kty", "EC"},
            {"crv", crv},
            {"x", b64url(Bytes(point.begin() + 1, point.begin() + 1 + static_cast<std::ptrdiff_t>(field)))},
            {"y", b64url(Bytes(point.begin() + 1 + static_cast<std::ptrdiff_t>(field), point.end()))}};
  if (with_private) m.emplace_back("d", b64url(bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, field)));
  return m;
}

Members okp_members(EVP_PKEY* key, const char* crv, bool with_private) {
  Members m{{"kty", "OKP"}, {"crv", crv}, {"x", b64url(raw_public(key))}};
  if (with_private) m.emplace_back("d", b64url(raw_private(key)));
  return m;
}

CollectingSink scan_text(const std::string& text, std::size_t at) {
  auto detector = make_jwk_detector();
  Bytes buffer = random_bytes(at + text.size() + 4096);
  plant(buffer, at, Bytes(text.begin(), text.end()));
  return run_detector(*detector, buffer);
}

void expect_private(const CollectingSink& sink, std::size_t at, std::size_t length, EVP_PKEY* key,
                    const char* kind, bool verified = true) {
  ASSERT_EQ(sink.findings.size(), 1u);
  const Finding& f = sink.findings[0];
  EXPECT_EQ(f.kind, kind);
  EXPECT_EQ(f.encoding, "jwk");
  EXPECT_EQ(f.file_offset, kFileOffset + at);
  EXPECT_EQ(f.length, length);
  EXPECT_EQ(f.verified, verified) << f.proof;
  EXPECT_EQ(f.severity, verified ? Severity::critical : Severity::high);
  if (verified) {
    EXPECT_EQ(f.key, spki_sha256(key));
  }
}

}  // namespace

TEST(Jwk, RsaPrivateKeyIsVerified) {
  auto key = rsa_key(2048);
  const std::string jwk = object(rsa_members(key.get(), true));
  expect_private(scan_text(jwk, 4001), 4001, jwk.size(), key.get(), "rsa-private-key");
}

TEST(Jwk, RsaPrivateKeyWithoutPrimesIsVerifiedByItsExponents) {
  auto key = rsa_key(2048);
  const std::string jwk = object(rsa_members(key.get(), true, false));
  const auto sink = scan_text(jwk, 17);
  expect_private(sink, 17, jwk.size(), key.get(), "rsa-private-key");
  EXPECT_NE(sink.findings.at(0).proof.find("no primes"), std::string::npos);
}

TEST(Jwk, EcPrivateKeysOnEveryCurve) {
  const std::pair<const char*, std::size_t> curves[] = {{"P-256", 32}, {"P-384", 48}, {"P-521", 66}};
  for (const auto& [crv, field] : curves) {
    SCOPED_TRACE(crv);
    auto key = ec_key(crv);
    // Pretty-printed, the way configuration files hold them.
    const std::string jwk = object(ec_members(key.get(), crv, field, true), ",\n  ");
    expect_private(scan_text(jwk, 333), 333, jwk.size(), key.get(), "ec-private-key");
  }
}

TEST(Jwk, OkpPrivateKeys) {
  auto ed = raw_key("ED25519");
  const std::string ed_jwk = object(okp_members(ed.get(), "Ed25519", true));
  expect_private(scan_text(ed_jwk, 99), 99, ed_jwk.size(), ed.get(), "ed25519-private-key");
  auto x = raw_key("X25519");
  const std::string x_jwk = object(okp_members(x.get(), "X25519", true));
  expect_private(scan_text(x_jwk, 101), 101, x_jwk.size(), x.get(), "x25519-private-key");
}

TEST(Jwk, CorruptedPrivateValuesAreUnverified) {
  auto rsa = rsa_key(2048);
  Members m = rsa_members(rsa.get(), true);
  m[3].second[10] = m[3].second[10] == 'A' ? 'B' : 'A';  // d
  const std::string jwk = object(m);
  expect_private(scan_text(jwk, 5), 5, jwk.size(), rsa.get(), "rsa-private-key", false);

  auto ec = ec_key("P-256");
  Members e = ec_members(ec.get(), "P-256", 32, true);
  e[4].second[5] = e[4].second[5] == 'A' ? 'B' : 'A';  // d
  const std::string ec_jwk = object(e);
  expect_private(scan_text(ec_jwk, 5), 5, ec_jwk.size(), ec.get(), "ec-private-key", false);
}

TEST(Jwk, PublicKeysAreHarvestedNotReported) {
  auto rsa = rsa_key(2048);
  auto ec = ec_key("P-384");
  auto ed = raw_key("ED25519");
  const std::pair<std::string, EVP_PKEY*> cases[] = {
      {object(rsa_members(rsa.get(), false)), rsa.get()},
      {object(ec_members(ec.get(), "P-384", 48, false)), ec.get()},
      {object(okp_members(ed.get(), "Ed25519", false)), ed.get()}};
  for (const auto& [jwk, key] : cases) {
    const auto sink = scan_text(jwk, 77);
    EXPECT_TRUE(sink.findings.empty());
    EXPECT_NE(sink.harvested(spki_sha256(key)), nullptr);
  }
}

TEST(Jwk, KeySetYieldsEachKeyWithItsOwnSpan) {
  auto a = ec_key("P-256");
  auto b = raw_key("ED25519");
  auto c = rsa_key(2048);
  // Members before "kty" with nested values and escapes, as real documents have them.
  Members first = ec_members(a.get(), "P-256", 32, true);
  const std::string key_a = "{\"kid\":\"a \\\"quoted\\\" {id}\",\"x5c\":[\"{not json}\"],\"ext\":{\"n\":[1,2.5e3,true,null]}," +
                            object(first).substr(1);
  const std::string key_b = object(okp_members(b.get(), "Ed25519", true));
  const std::string key_c = object(rsa_members(c.get(), false));
  const std::string set = "{\"keys\": [\n  " + key_a + ",\n  " + key_b + ",\n  " + key_c + "\n]}";
  const std::size_t at = 1001;
  const auto sink = scan_text(set, at);
  ASSERT_EQ(sink.findings.size(), 2u);
  EXPECT_EQ(sink.findings[0].file_offset, kFileOffset + at + set.find(key_a));
  EXPECT_EQ(sink.findings[0].length, key_a.size());
  EXPECT_EQ(sink.findings[0].key, spki_sha256(a.get()));
  EXPECT_TRUE(sink.findings[0].verified);
  EXPECT_EQ(sink.findings[1].file_offset, kFileOffset + at + set.find(key_b));
  EXPECT_EQ(sink.findings[1].length, key_b.size());
  EXPECT_EQ(sink.findings[1].key, spki_sha256(b.get()));
  EXPECT_NE(sink.harvested(spki_sha256(c.get())), nullptr);
}

TEST(Jwk, RandomDataAndBrokenObjectsGiveNothing) {
  auto key = raw_key("ED25519");
  const std::string good = object(okp_members(key.get(), "Ed25519", true));
  Bytes buffer = random_bytes(1 << 20);
  const std::string anchor = "\"kty\"";
  for (std::size_t i = 100; i + 64 < buffer.size(); i += 8191) plant(buffer, i, Bytes(anchor.begin(), anchor.end()));
  // Cut off before its closing brace, at the very end of the area.
  const std::string cut = good.substr(0, good.size() - 1);
  plant(buffer, buffer.size() - cut.size(), Bytes(cut.begin(), cut.end()));
  auto detector = make_jwk_detector();
  const auto sink = run_detector(*detector, buffer);
  EXPECT_TRUE(sink.findings.empty());
  EXPECT_TRUE(sink.keys.empty());
}
