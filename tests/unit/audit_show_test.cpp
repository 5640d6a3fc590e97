// `audit show`'s pieces: ISO 8601 times, picking records by dump (followed through its digests),
// key fingerprint, time and event, the one-line summary (no terminal escapes get through), and
// the key files the audit commands read.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audit/key.hpp"
#include "report/audit_history.hpp"

namespace dumpguard {
namespace {

TEST(AuditShowTime, Iso8601FormsBecomeUtc) {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"2026-11-27", "2026-11-27T00:00:00Z"},
      {"2026-11-27T05:28", "2026-11-27T05:28:00Z"},
      {"2026-11-27T05:28:55Z", "2026-11-27T05:28:55Z"},
      {"2026-11-27 05:28:55.123456z", "2026-11-27T05:28:55Z"},
      {"2026-11-27T01:00:00+02:00", "2026-11-26T23:00:00Z"},
      {"2026-12-31T23:30:00-0100", "2027-01-01T00:30:00Z"},
      {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
  };
  for (const auto& [in, out] : good) {
    auto t = parse_iso8601_utc(in);
    ASSERT_TRUE(t) << in << ": " << t.error().message;
    EXPECT_EQ(*t, out) << in;
  }
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2025-02-29", "2026-11-27T24:00", "2026-11-27T05:28:61",
                          "2026-11-27T05", "2026-11-27Tx", "2026-11-27T05:28:55+25:00", "2026-11-27T05:28:55Z junk",
                          "yesterday", "2026-11-27T05:28:55.", "\x1b[2J"}) {
    auto t = parse_iso8601_utc(bad);
    EXPECT_FALSE(t) << bad;
    if (!t) {
      for (const char c : t.error().message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "the error is one printable line";
    }
  }
}

AuditShown shown(std::uint64_t seq, const std::string& time, const std::string& event, nlohmann::json data) {
  AuditShown s;
  s.file = "log";
  s.line = seq;
  s.sound = true;
  s.record = {{"seq", seq}, {"time", time}, {"host", "h"}, {"version", "0"}, {"event", event}, {"data", std::move(data)},
              {"prev", std::string(64, '0')}};
  return s;
}

std::vector<std::uint64_t> seqs(const std::vector<const AuditShown*>& picked) {
  std::vector<std::uint64_t> out;
  for (const auto* p : picked) out.push_back(p->record["seq"].get<std::uint64_t>());
  return out;
}

class AuditShowPick : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string a(64, 'a'), a2(64, 'b'), c(64, 'c'), c2(64, 'd');
    all_ = {
        shown(1, "2026-11-27T01:00:00Z", "received", {{"dump", "/inbox/core.1"}, {"sha256", a}}),
        shown(2, "2026-11-27T01:00:01Z", "received", {{"dump", "/inbox/core.2"}, {"sha256", c}}),
        shown(3, "2026-11-27T01:00:02Z", "findings",
              {{"input_sha256", a}, {"keys", {{"sha256:0123456789abcdef", {{"kind", "rsa"}}}}}, {"kinds", {{"rsa", 1}}}}),
        shown(4, "2026-11-27T01:00:03Z", "redacted", {{"input", {{"sha256", a}}}, {"output", {{"sha256", a2}}}}),
        shown(5, "2026-11-27T02:00:00Z", "released", {{"output_sha256", a2}, {"to", "/release/core.1"}}),
        shown(6, "2026-11-27T03:00:00Z", "quarantined",
              {{"dump", "/inbox/core.2"}, {"sha256", c2}, {"reason", "key sha256:fedcba9876543210 found"},
               {"keys", nlohmann::json::array({"sha256:fedcba9876543210"})}}),
    };
  }
  std::vector<std::uint64_t> pick(const AuditFilter& f) const { return seqs(pick_audit_records(all_, f)); }
  std::vector<AuditShown> all_;
};

TEST_F(AuditShowPick, ADumpIsFollowedThroughItsDigests) {
  AuditFilter f;
  f.dump = "core.1";  // a file name: received names it, and its digests lead to the rest
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{1, 3, 4, 5}));
  f.dump = "/inbox/core.2";
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{2, 6}));
  f.dump = std::string(12, 'b');  // a prefix of the redacted output's digest
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{1, 3, 4, 5}));
  f.dump = "core";
  EXPECT_TRUE(pick(f).empty()) << "a name matches whole, not as a substring";
  f.dump = "aaaa";
  EXPECT_TRUE(pick(f).empty()) << "a digest prefix needs 8 digits";
}

TEST_F(AuditShowPick, KeyFingerprintTimeAndEvent) {
  AuditFilter f;
  f.key_fingerprint = "sha256:0123456789abcdef";
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{3}));
  f.key_fingerprint = "fedcba98";  // the digits after the algorithm's name, a prefix of them
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{6}));
  f.key_fingerprint = "fedc";
  EXPECT_TRUE(pick(f).empty());
  f = {};
  f.since = "2026-11-27T01:00:02Z";
  f.until = "2026-11-27T03:00:00Z";
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{3, 4, 5}));
  f = {};
  f.events = {"released", "quarantined"};
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{5, 6}));
  f.dump = "core.1";
  EXPECT_EQ(pick(f), (std::vector<std::uint64_t>{5}));
}

TEST_F(AuditShowPick, OneLinePerRecordWithShortHashesAndNoEscapes) {
  const std::string line = audit_record_line(all_[3]);
  EXPECT_EQ(line.rfind("2026-11-27T01:00:03Z  #4", 0), 0u) << line;
  EXPECT_NE(line.find("redacted"), std::string::npos);
  EXPECT_NE(line.find("input=aaaaaaaaaaaa "), std::string::npos) << line;
  EXPECT_NE(line.find("output=bbbbbbbbbbbb"), std::string::npos) << line;
  EXPECT_EQ(line.find(std::string(13, 'a')), std::string::npos) << "hashes shortened to 12 digits";
  AuditShown hostile = shown(7, "2026-11-27T04:00:00Z", "received", {{"dump", "core\x1b]0;owned\x07\n.1"}});
  hostile.sound = false;
  const std::string h = audit_record_line(hostile);
  for (const char c : h) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in " << h;
  EXPECT_NE(h.find("core\\x1b]0;owned\\x07\\x0a.1"), std::string::npos) << h;
  EXPECT_EQ(h.rfind("UNVERIFIED ", 0), 0u);
}

// ---- key files ----------------------------------------------------------------------------

class AuditKeyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = std::string(::testing::TempDir()) + "/auditkey-XXXXXX";
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(AuditKeyFiles, Ed25519PemPairsAndHmacSecretsLoad) {
  auto ed = AuditKey::generate(AuditAlg::ed25519);
  ASSERT_TRUE(ed);
  const auto priv = write("ed", *ed->private_file(), 0600);
  const auto pub = write("ed.pub", *ed->public_file(), 0644);
  auto loaded = load_audit_key(priv);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->key.alg(), AuditAlg::ed25519);
  EXPECT_TRUE(loaded->key.can_sign());
  EXPECT_FALSE(loaded->loose_mode);
  auto loaded_pub = load_audit_key(pub);
  ASSERT_TRUE(loaded_pub);
  EXPECT_FALSE(loaded_pub->key.can_sign());
  EXPECT_FALSE(loaded_pub->loose_mode) << "a public key may be read by all";
  EXPECT_EQ(loaded_pub->key.id(), ed->id());
  const auto sig = loaded->key.sign("message");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(loaded_pub->key.verify("message", *sig));
  EXPECT_FALSE(loaded_pub->key.verify("messagf", *sig));
  std::string upper = *sig;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(loaded_pub->key.verify("message", upper)) << "only the log's lower-case hex";
  EXPECT_FALSE(loaded_pub->key.sign("message"));

  const auto hmac = write("hmac", std::string(32, 'k'), 0644);
  auto h = load_audit_key(hmac);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->key.alg(), AuditAlg::hmac_sha256);
  EXPECT_TRUE(h->loose_mode) << "a secret others may read";
  EXPECT_EQ(h->key.id().size(), 32u);
  EXPECT_EQ(h->key.id().find("6b6b6b6b"), std::string::npos);
}

TEST_F(AuditKeyFiles, WhatIsNotAKeyIsRefusedWithoutQuotingIt) {
  const std::string secret_text = "SECRETSECRET";  // 12 bytes: too short for HMAC
  const auto short_key = write("short", secret_text, 0600);
  auto k = load_audit_key(short_key);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message.find(secret_text), std::string::npos);
  EXPECT_FALSE(load_audit_key(write("long", std::string(65, 'x'), 0600)));
  EXPECT_FALSE(load_audit_key(write("huge", std::string(5000, 'x'), 0600)));
  // A PEM key of another type (X25519: a key of Ed25519's size and curve, for key agreement),
  // and a broken one.
  EVP_PKEY* x25519 = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  ASSERT_NE(x25519, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, x25519, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* pem = nullptr;
  const long pem_size = BIO_get_mem_data(bio, &pem);
  const std::string x25519_pem(pem, static_cast<std::size_t>(pem_size));
  BIO_free(bio);
  EVP_PKEY_free(x25519);
  auto other = load_audit_key(write("x25519.pem", x25519_pem, 0600));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("not an unencrypted Ed25519"), std::string::npos) << other.error().message;
  EXPECT_FALSE(load_audit_key(write("bad.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0600)));
  EXPECT_FALSE(load_audit_key(write("bad.pub", "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n", 0644)));
  // A symlink is not followed.
  const std::string target = write("target", std::string(32, 'k'), 0600);
  const std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_FALSE(load_audit_key(link));
}

}  // namespace
}  // namespace dumpguard
