// OpenSSH keys: openssh-key-v1 containers (PROTOCOL.key) built byte by byte from keys that
// OpenSSL generates at test time, planted at odd offsets in random bytes, found by the
// OpenSSH detector (binary) and the PEM detector (armored), with exact spans and SPKI
// fingerprints computed by OpenSSL. Also: bare agent-layout private fields, wire-format
// public keys (harvested only), encrypted and corrupted keys, random data.
#include <gtest/gtest.h>

#include <openssl/core_names.h>

#include <algorithm>
#include <string>

#include "crypto/openssh_key.hpp"
#include "detect/openssh.hpp"
#include "detect/pem.hpp"
#include "structured_key_fixtures.hpp"

using namespace dumpguard;
using namespace dumpguard::test;

namespace {

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_string(Bytes& out, const Bytes& s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}
void put_string(Bytes& out, const std::string& s) { put_string(out, Bytes(s.begin(), s.end())); }
// RFC 4251 5: a positive mpint gets a zero byte when its top bit is set.
void put_mpint(Bytes& out, const Bytes& magnitude) {
  std::size_t i = 0;
  while (i < magnitude.size() && magnitude[i] == 0) ++i;
  Bytes v(magnitude.begin() + static_cast<std::ptrdiff_t>(i), magnitude.end());
  if (!v.empty() && (v[0] & 0x80)) v.insert(v.begin(), 0);
  put_string(out, v);
}

std::string ssh_type(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return "ssh-rsa";
  if (EVP_PKEY_is_a(key, "ED25519")) return "ssh-ed25519";
  switch (EVP_PKEY_get_bits(key)) {
    case 256: return "ecdsa-sha2-nistp256";
    case 384: return "ecdsa-sha2-nistp384";
    default: return "ecdsa-sha2-nistp521";
  }
}

Bytes public_blob(EVP_PKEY* key) {
  Bytes out;
  const std::string type = ssh_type(key);
  put_string(out, type);
  if (type == "ssh-rsa") {
    put_mpint(out, bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    put_mpint(out, bn_param(key, OSSL_PKEY_PARAM_RSA_N));
  } else if (type == "ssh-ed25519") {
    put_string(out, raw_public(key));
  } else {
    put_string(out, type.substr(11));  // "nistp256"
    put_string(out, ec_point(key));
  }
  return out;
}

// The private fields as PROTOCOL.key's private section (and the agent protocol) hold them.
Bytes private_fields(EVP_PKEY* key) {
  Bytes out;
  const std::string type = ssh_type(key);
  put_string(out, type);
  if (type == "ssh-rsa") {
    for (const char* name : {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
                             OSSL_PKEY_PARAM_RSA_COEFFICIENT1, OSSL_PKEY_PARAM_RSA_FACTOR1,
                             OSSL_PKEY_PARAM_RSA_FACTOR2}) {
      put_mpint(out, bn_param(key, name));
    }
  } else if (type == "ssh-ed25519") {
    const Bytes pub = raw_public(key);
    Bytes sk = raw_private(key);
    sk.insert(sk.end(), pub.begin(), pub.end());
    put_string(out, pub);
    put_string(out, sk);
  } else {
    put_string(out, type.substr(11));
    put_string(out, ec_point(key));
    put_mpint(out, bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY));
  }
  return out;
}

struct ContainerOptions {
  bool encrypted = false;
  bool bad_checkints = false;
};

Bytes container(EVP_PKEY* key, ContainerOptions options = {}) {
  const std::string magic("openssh-key-v1", 15);  // with its NUL
  Bytes out(magic.begin(), magic.end());
  Bytes section;
  const std::size_t block = options.encrypted ? 16 : 8;
  put_u32(section, 0x1234abcd);
  put_u32(section, options.bad_checkints ? 0x1234abce : 0x1234abcd);
  const Bytes fields = private_fields(key);
  section.insert(section.end(), fields.begin(), fields.end());
  put_string(section, std::string("test@dumpguard"));
  for (std::uint8_t pad = 1; section.size() % block != 0; ++pad) section.push_back(pad);
  if (options.encrypted) {
    put_string(out, std::string("aes256-ctr"));
    put_string(out, std::string("bcrypt"));
    Bytes kdf_options;
    put_string(kdf_options, random_bytes(16));
    put_u32(kdf_options, 16);
    put_string(out, kdf_options);
    section = random_bytes(section.size());  // ciphertext stands in for the real thing
  } else {
    put_string(out, std::string("none"));
    put_string(out, std::string("none"));
    put_string(out, std::string());
  }
  put_u32(out, 1);
  put_string(out, public_blob(key));
  put_string(out, section);
  return out;
}

std::string pem_armor(const Bytes& blob) {
  std::string b64(4 * ((blob.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), blob.data(), static_cast<int>(blob.size()));
  b64.resize(static_cast<std::size_t>(n));
  std::string out = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  out += "-----END OPENSSH PRIVATE KEY-----\n";
  return out;
}

std::vector<Pkey> every_key_type() {
  std::vector<Pkey> keys;
  keys.push_back(rsa_key(2048));
  keys.push_back(raw_key("ED25519"));
  keys.push_back(ec_key("P-256"));
  keys.push_back(ec_key("P-384"));
  keys.push_back(ec_key("P-521"));
  return keys;
}

const char* kind_of(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return "rsa-private-key";
  if (EVP_PKEY_is_a(key, "ED25519")) return "ed25519-private-key";
  return "ec-private-key";
}

}  // namespace

TEST(OpensshContainer, EveryKeyTypeIsFoundVerifiedWithItsExactSpan) {
  auto detector = make_openssh_detector();
  for (const Pkey& key : every_key_type()) {
    SCOPED_TRACE(ssh_type(key.get()));
    const Bytes blob = container(key.get());
    Bytes buffer = random_bytes(64 * 1024);
    const std::size_t at = 10'001;
    plant(buffer, at, blob);
    const auto sink = run_detector(*detector, buffer);
    ASSERT_EQ(sink.findings.size(), 1u);
    const Finding& f = sink.findings[0];
    EXPECT_EQ(f.kind, kind_of(key.get()));
    EXPECT_EQ(f.encoding, "openssh");
    EXPECT_EQ(f.file_offset, kFileOffset + at);
    EXPECT_EQ(f.length, blob.size());
    ASSERT_TRUE(f.vaddr.has_value());
    EXPECT_EQ(*f.vaddr, kVaddr + at);
    EXPECT_TRUE(f.verified) << f.proof;
    EXPECT_EQ(f.severity, Severity::critical);
    const std::string fp = spki_sha256(key.get());
    EXPECT_EQ(f.key, fp);
    // The clear public section is harvested as seen in the dump, not merely derived.
    EXPECT_NE(sink.harvested(fp), nullptr);
  }
}

TEST(OpensshContainer, PemArmoredBlockIsParsedByThePemDetector) {
  auto detector = make_pem_detector();
  for (const Pkey& key : every_key_type()) {
    SCOPED_TRACE(ssh_type(key.get()));
    const std::string pem = pem_armor(container(key.get()));
    Bytes buffer = random_bytes(32 * 1024);
    const std::size_t at = 777;
    plant(buffer, at, Bytes(pem.begin(), pem.end()));
    const auto sink = run_detector(*detector, buffer);
    ASSERT_EQ(sink.findings.size(), 1u);
    const Finding& f = sink.findings[0];
    EXPECT_EQ(f.kind, kind_of(key.get()));
    EXPECT_EQ(f.encoding, "pem-openssh");
    EXPECT_EQ(f.file_offset, kFileOffset + at);
    EXPECT_EQ(f.length, pem.size() - 1);  // the END line, without the newline after it
    EXPECT_TRUE(f.verified) << f.proof;
    EXPECT_EQ(f.key, spki_sha256(key.get()));
  }
}

TEST(OpensshContainer, EncryptedKeyIsReportedLowUnderItsPublicFingerprint) {
  auto key = raw_key("ED25519");
  const Bytes blob = container(key.get(), {.encrypted = true});
  Bytes buffer = random_bytes(16 * 1024);
  plant(buffer, 333, blob);
  auto binary = make_openssh_detector();
  const auto sink = run_detector(*binary, buffer);
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].kind, "encrypted-private-key");
  EXPECT_EQ(sink.findings[0].severity, Severity::low);
  EXPECT_FALSE(sink.findings[0].verified);
  EXPECT_EQ(sink.findings[0].length, blob.size());
  EXPECT_EQ(sink.findings[0].key, spki_sha256(key.get()));

  const std::string pem = pem_armor(blob);
  Bytes text = random_bytes(8 * 1024);
  plant(text, 101, Bytes(pem.begin(), pem.end()));
  auto pem_detector = make_pem_detector();
  const auto pem_sink = run_detector(*pem_detector, text);
  ASSERT_EQ(pem_sink.findings.size(), 1u);
  EXPECT_EQ(pem_sink.findings[0].kind, "encrypted-private-key");
  EXPECT_EQ(pem_sink.findings[0].severity, Severity::low);
}

TEST(OpensshContainer, CorruptedNumbersGiveUnverifiedHighFindings) {
  auto detector = make_openssh_detector();
  for (const Pkey& key : every_key_type()) {
    SCOPED_TRACE(ssh_type(key.get()));
    Bytes blob = container(key.get());
    // Flip one byte of q (RSA), of the seed (Ed25519: sk is seed‖pk) or of d (ECDSA).
    const Bytes fields = private_fields(key.get());
    const auto at = std::search(blob.begin(), blob.end(), fields.begin(), fields.end()) - blob.begin();
    const std::string type = ssh_type(key.get());
    const std::size_t back = type == "ssh-rsa" ? 20 : type == "ssh-ed25519" ? 50 : 5;
    blob[static_cast<std::size_t>(at) + fields.size() - back] ^= 0x01;
    Bytes buffer = random_bytes(16 * 1024);
    plant(buffer, 4097, blob);
    const auto sink = run_detector(*detector, buffer);
    ASSERT_EQ(sink.findings.size(), 1u);
    EXPECT_FALSE(sink.findings[0].verified);
    EXPECT_EQ(sink.findings[0].severity, Severity::high);
    EXPECT_EQ(sink.findings[0].length, blob.size());
  }
}

TEST(OpensshContainer, MismatchedCheckintsLeaveAnUncheckedBlock) {
  auto key = rsa_key(2048);
  const Bytes blob = container(key.get(), {.bad_checkints = true});
  Bytes buffer = random_bytes(8 * 1024);
  plant(buffer, 3, blob);
  auto detector = make_openssh_detector();
  const auto sink = run_detector(*detector, buffer);
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].kind, "private-key-block");
  EXPECT_EQ(sink.findings[0].severity, Severity::high);
  EXPECT_EQ(sink.findings[0].length, blob.size());
}

TEST(OpensshWire, AgentLayoutPrivateFieldsAreFound) {
  auto detector = make_openssh_detector();
  for (const Pkey& key : every_key_type()) {
    SCOPED_TRACE(ssh_type(key.get()));
    const Bytes fields = private_fields(key.get());
    Bytes buffer = random_bytes(16 * 1024);
    plant(buffer, 1235, fields);
    const auto sink = run_detector(*detector, buffer);
    ASSERT_EQ(sink.findings.size(), 1u);
    EXPECT_EQ(sink.findings[0].encoding, "ssh-private-fields");
    EXPECT_EQ(sink.findings[0].file_offset, kFileOffset + 1235);
    EXPECT_EQ(sink.findings[0].length, fields.size());
    EXPECT_TRUE(sink.findings[0].verified) << sink.findings[0].proof;
    EXPECT_EQ(sink.findings[0].key, spki_sha256(key.get()));
  }
}

TEST(OpensshWire, PublicKeyBlobsAreHarvestedNotReported) {
  auto detector = make_openssh_detector();
  for (const Pkey& key : every_key_type()) {
    SCOPED_TRACE(ssh_type(key.get()));
    Bytes buffer = random_bytes(16 * 1024);
    plant(buffer, 999, public_blob(key.get()));
    const auto sink = run_detector(*detector, buffer);
    EXPECT_TRUE(sink.findings.empty());
    EXPECT_NE(sink.harvested(spki_sha256(key.get())), nullptr);
  }
}

TEST(OpensshWire, RandomDataAndBareMagicGiveNothing) {
  auto detector = make_openssh_detector();
  Bytes buffer = random_bytes(1 << 20);
  const std::string magic("openssh-key-v1", 15);
  plant(buffer, 5, Bytes(magic.begin(), magic.end()));
  plant(buffer, buffer.size() - magic.size(), Bytes(magic.begin(), magic.end()));
  const Bytes type{0, 0, 0, 7, 's', 's', 'h', '-', 'r', 's', 'a'};
  plant(buffer, 1001, type);
  plant(buffer, buffer.size() - type.size(), type);
  const auto sink = run_detector(*detector, buffer);
  EXPECT_TRUE(sink.findings.empty());
  EXPECT_TRUE(sink.keys.empty());
}

TEST(OpensshParse, EveryTruncationIsSafe) {
  auto key = ec_key("P-256");
  const Bytes blob = container(key.get());
  for (std::size_t n = 0; n < blob.size(); ++n) {
    // A copy of exactly n bytes, so any over-read is a heap overflow under ASan.
    const Bytes cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
    auto parsed = parse_openssh_key(cut);
    if (parsed) {
      EXPECT_FALSE(parsed->private_key.has_value()) << n;
      EXPECT_LE(parsed->length, n);
    }
  }
  auto full = parse_openssh_key(blob);
  ASSERT_TRUE(full && full->private_key);
  EXPECT_EQ(full->length, blob.size());
  EXPECT_EQ(full->cipher, "none");
}
