// Registered secrets: the fingerprint file holds nothing an attacker without the key can use,
// and the detector finds every form of a secret at any offset, including the area's last bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/digest.hpp"
#include "crypto/secret_fingerprint.hpp"
#include "user_files/fingerprint_file.hpp"
#include "detect/registered_secret.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes utf16(std::string_view s) {
  Bytes out;
  for (char c : s) {
    out.push_back(static_cast<std::uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + "." + std::to_string(getpid());
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(RegisteredSecret, FileIsBlindedAndTiedToItsKey) {
  const Bytes key = test::seeded_bytes(32, 1);
  const Bytes other_key = test::seeded_bytes(32, 2);
  const Bytes secret = test::seeded_bytes(20, 3);
  const RegisteredSecret a = fingerprint_secret(key, "a", secret);
  const RegisteredSecret b = fingerprint_secret(key, "b", secret);
  ASSERT_EQ(a.forms.size(), b.forms.size());
  EXPECT_EQ(a.id, b.id);  // stable on one installation
  for (std::size_t i = 0; i < a.forms.size(); ++i) {
    EXPECT_NE(a.forms[i].salt, b.forms[i].salt);
    EXPECT_NE(a.forms[i].prefilter, b.forms[i].prefilter) << "the prefilter is blinded per form";
    EXPECT_EQ(a.forms[i].hmac, b.forms[i].hmac);
  }
  const std::string text = write_fingerprint_file(key, {a});
  for (const std::string& form : {hex(secret), std::string(secret.begin(), secret.end())}) {
    EXPECT_EQ(text.find(form), std::string::npos);
  }
  const std::string path = temp_path("fingerprints");
  write(path, text);
  auto read = read_fingerprint_file(path, key);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].forms.size(), a.forms.size());
  auto wrong = read_fingerprint_file(path, other_key);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("another fingerprint key"), std::string::npos);
  std::remove(path.c_str());
}

TEST(RegisteredSecret, MalformedFilesAreRefused) {
  const Bytes key = test::seeded_bytes(32, 1);
  const std::string check = fingerprint_key_check(key);
  const std::string path = temp_path("bad-fingerprints");
  for (const std::string& text :
       {std::string("not json"), std::string("{\"format\":\"other\"}"),
        "{\"format\":\"dumpguard-fingerprints/1\",\"key_check\":\"" + check + "\",\"secrets\":[{\"id\":\"x\",\"forms\":[]}]}",
        "{\"format\":\"dumpguard-fingerprints/1\",\"key_check\":\"" + check +
            "\",\"secrets\":[{\"id\":\"x\",\"forms\":[{\"length\":3,\"salt\":\"00\",\"prefilter\":\"1\",\"hmac\":\"" +
            std::string(64, '0') + "\"}]}]}",
        "{\"format\":\"dumpguard-fingerprints/1\",\"key_check\":\"" + check +
            "\",\"secrets\":[{\"id\":\"x\",\"forms\":[{\"length\":30,\"salt\":\"00\",\"prefilter\":\"zz\",\"hmac\":\"" +
            std::string(64, '0') + "\"}]}]}"}) {
    write(path, text);
    EXPECT_FALSE(read_fingerprint_file(path, key)) << text;
  }
  std::remove(path.c_str());
}

TEST(RegisteredSecret, EveryFormIsFoundAtAnyOffset) {
  const Bytes key = test::seeded_bytes(32, 5);
  const std::string password = "correct-horse-battery";
  const Bytes binary = test::seeded_bytes(24, 6);
  const RegisteredSecret pw = fingerprint_secret(key, "pw", bytes_of(password));
  const RegisteredSecret bin = fingerprint_secret(key, "bin", binary);
  std::vector<std::pair<Bytes, std::string>> planted = {
      {bytes_of(password), "raw"},
      {utf16(password), "raw/utf16le"},
      {bytes_of(hex(binary)), "hex"},
      {utf16(hex(binary)), "hex/utf16le"},
      {binary, "raw"},
  };
  Bytes buffer = test::seeded_bytes(3, 7);  // an odd start: no alignment is assumed
  std::vector<std::size_t> offsets;
  for (const auto& [bytes, encoding] : planted) {
    const Bytes filler = test::seeded_bytes(101, static_cast<std::uint32_t>(buffer.size()));
    buffer.insert(buffer.end(), filler.begin(), filler.end());
    offsets.push_back(buffer.size());
    buffer.insert(buffer.end(), bytes.begin(), bytes.end());
  }
  // The last form ends exactly at the area's end.
  auto detector = make_registered_secret_detector({{pw, bin}, key});
  const auto sink = test::run_over(*detector, buffer, key);
  ASSERT_EQ(sink.findings.size(), planted.size());
  for (std::size_t i = 0; i < planted.size(); ++i) {
    const Finding& f = sink.findings[i];
    bool match = false;
    for (const Finding& g : sink.findings) match = match || (g.file_offset == offsets[i] && g.length == planted[i].first.size() && g.encoding == planted[i].second);
    EXPECT_TRUE(match) << "form " << planted[i].second << " at " << offsets[i];
    EXPECT_TRUE(f.verified);
    EXPECT_EQ(f.severity, Severity::critical);
  }
  // A near miss (one byte changed) is not a finding.
  Bytes near = bytes_of(password);
  near[near.size() / 2] ^= 1;
  EXPECT_TRUE(test::run_over(*detector, near, key).findings.empty());
}

TEST(RegisteredSecret, ShortSecretsUseTheirOwnWindow) {
  const Bytes key = test::seeded_bytes(32, 8);
  const std::string pin = "s3cr3t!";  // 7 bytes: shorter than the 16-byte anchor
  auto detector = make_registered_secret_detector({{fingerprint_secret(key, "pin", bytes_of(pin))}, key});
  Bytes buffer = test::seeded_bytes(50, 9);
  const std::size_t at = buffer.size();
  buffer.insert(buffer.end(), pin.begin(), pin.end());
  const auto sink = test::run_over(*detector, buffer, key);
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].file_offset, at);
}

std::string base64url(std::span<const std::uint8_t> data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    acc = (acc << 8) | b;
    for (bits += 8; bits >= 6; bits -= 6) out += kAlphabet[(acc >> (bits - 6)) & 63];
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

// An HS256 JWT (RFC 7519) signed with `secret`, made here with OpenSSL's HMAC.
std::string hs256_token(const std::string& secret) {
  const std::string header = R"({"alg":"HS256","typ":"JWT"})", payload = R"({"sub":"gate"})";
  const std::string input = base64url(bytes_of(header)) + "." + base64url(bytes_of(payload));
  std::uint8_t mac[32];
  unsigned mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), mac, &mac_length);
  return input + "." + base64url({mac, mac_length});
}

// A password that is both registered and the key of a supplied token is found by two
// detectors on the same bytes, and the report keeps one finding per span and key (the
// hmac-key one). The registered secret is still present: its id is the same keyed fingerprint.
TEST(RegisteredSecret, PresentWhereATokensHuntFoundTheSameBytes) {
  const Bytes key = test::seeded_bytes(32, 10);
  const std::string password = "db-Kq3vZ8rT1xLw9PmN2bYc";
  std::string image(4096, '\0');
  image.replace(1000, password.size(), password);
  const std::string path = temp_path("password-image");
  write(path, image);
  OpenOptions open;
  open.forced_format = Format::raw;
  auto dump = open_dump(path, open);
  ASSERT_TRUE(dump) << dump.error().message;
  ScanOptions options;
  options.fingerprint_key = key;
  options.registered_secrets = {fingerprint_secret(key, "db-password", bytes_of(password))};
  options.tokens = {hs256_token(password)};
  const ScanReport report = scan_dump(*dump, options);
  std::remove(path.c_str());
  ASSERT_EQ(report.supplied_tokens.size(), 1u);
  EXPECT_EQ(report.supplied_tokens[0].status, Presence::present);
  ASSERT_EQ(report.registered.size(), 1u);
  EXPECT_EQ(report.registered[0].status, Presence::present) << report.registered[0].statement;
  ASSERT_EQ(report.registered[0].findings.size(), 1u);
  EXPECT_EQ(report.findings[report.registered[0].findings[0]].file_offset, 1000u);
}

}  // namespace
}  // namespace dumpguard
