// The closure: a known secret planted in forms written out here by hand (raw, base64 inside a
// longer base64 string at each alignment, upper-case hex in UTF-16LE, a JVM int[] with a
// leading zero word, CPython digits, V8 small integers) is found in each, as one key, and each
// finding covers the whole copy. A pending secret's copies count only once its witness is found
// in the same pass, outside the candidate itself.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "crypto/base64.hpp"
#include "detect/secret_closure.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Sink final : FindingSink {
  void finding(Finding f) override { findings.push_back(std::move(f)); }
  void public_key(PublicKey k) override { keys.push_back(std::move(k)); }
  void secret(KnownSecret) override {}
  void limit(std::string_view, std::string what) override { limits.push_back(std::move(what)); }
  std::vector<Finding> findings;
  std::vector<PublicKey> keys;
  std::vector<std::string> limits;
};

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 r(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(r());
  return out;
}

KnownSecret secret(KnownSecret::Shape shape, const Bytes& value, std::size_t width, const std::string& key) {
  KnownSecret s;
  s.shape = shape;
  s.value.bytes = value;
  s.width = width;
  s.detector = "test";
  s.kind = "test-secret";
  s.key = key;
  s.proof = "planted";
  s.verified = true;
  s.severity = Severity::critical;
  return s;
}

class Planter {
 public:
  explicit Planter(std::size_t size) : data(random_bytes(size, 99)) {}
  // Writes `bytes` at the next free place and returns its offset.
  std::size_t plant(const Bytes& bytes) {
    cursor_ += 61;  // random bytes between copies
    const std::size_t at = cursor_;
    std::copy(bytes.begin(), bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
    cursor_ += bytes.size();
    return at;
  }
  Bytes data;

 private:
  std::size_t cursor_ = 0;
};

std::vector<Finding> close(const Bytes& data, std::vector<KnownSecret> secrets, Sink& sink) {
  Dump dump;
  KeyRing ring;
  const ScanArea area{0, std::as_bytes(std::span(data)), std::nullopt};
  const ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), {}};
  close_over_secrets(context, std::move(secrets), sink);
  return sink.findings;
}

// Whether a finding of `key` covers exactly [at, at + length).
bool covered(const std::vector<Finding>& findings, const std::string& key, std::size_t at, std::size_t length,
             const std::string& encoding) {
  for (const Finding& f : findings) {
    if (f.key == key && f.file_offset == at && f.length == length && f.encoding == encoding) return true;
  }
  return false;
}

TEST(SecretClosure, FindsABinaryKeyInEveryTextFormAndAlignment) {
  const Bytes key = random_bytes(32, 1);
  Planter p(8192);
  const std::size_t raw = p.plant(key);
  // base64 of prefix ‖ key ‖ suffix at each alignment: the characters that hold only the key's
  // bits, and the partial characters either side, are the copy.
  std::vector<std::pair<std::size_t, std::size_t>> b64;  // (offset, length) expected
  for (std::size_t k = 0; k < 3; ++k) {
    Bytes buf = random_bytes(k, 50 + static_cast<std::uint32_t>(k));
    buf.insert(buf.end(), key.begin(), key.end());
    const Bytes tail = random_bytes(4, 60);
    buf.insert(buf.end(), tail.begin(), tail.end());
    const std::string text = "=\"" + base64_encode(buf, false) + "\"";
    const std::size_t at = p.plant(Bytes(text.begin(), text.end()));
    // Characters [8k/6 rounded down, 8(k+32)/6 rounded up) hold key bits.
    const std::size_t first = (8 * k) / 6, last = (8 * (k + 32) + 5) / 6;
    b64.emplace_back(at + 2 + first, last - first);
  }
  // Upper-case hex in UTF-16LE.
  Bytes wide_hex;
  for (std::uint8_t b : key) {
    for (char c : {"0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15]}) {
      wide_hex.push_back(static_cast<std::uint8_t>(c));
      wide_hex.push_back(0);
    }
  }
  const std::size_t hex = p.plant(wide_hex);

  Sink sink;
  std::vector<KnownSecret> secrets;
  secrets.push_back(secret(KnownSecret::Shape::bytes, key, 32, "k1"));
  const auto findings = close(p.data, std::move(secrets), sink);
  EXPECT_TRUE(covered(findings, "k1", raw, 32, "raw"));
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(covered(findings, "k1", b64[k].first, b64[k].second, "base64")) << "alignment " << k;
  }
  EXPECT_TRUE(covered(findings, "k1", hex, 128, "utf16le-hex-upper"));
  EXPECT_EQ(findings.size(), 5u);
}

TEST(SecretClosure, FindsANumberInRuntimeLayoutsWithItsPadding) {
  Bytes n = random_bytes(128, 2);
  n[0] |= 0x80;
  Planter p(16384);
  // JVM BigInteger.mag: 32-bit words, most significant first, little-endian each; a runtime
  // that keeps a fixed width of 33 words leaves a zero word in front.
  Bytes jvm(4, 0);
  for (std::size_t w = 0; w < 32; ++w) {
    for (std::size_t b = 0; b < 4; ++b) jvm.push_back(n[4 * w + 3 - b]);
  }
  const std::size_t jvm_at = p.plant(jvm);
  // CPython: 30-bit digits, least significant first, by shifting the number down.
  Bytes cpython;
  {
    Bytes v = n;  // big-endian, shifted right 30 bits at a time
    for (std::size_t d = 0; d < (1024 + 29) / 30; ++d) {
      std::uint32_t digit = 0;
      for (unsigned bit = 0; bit < 30; ++bit) {
        const std::size_t index = d * 30 + bit;
        if (index < 1024 && ((v[127 - index / 8] >> (index % 8)) & 1)) digit |= 1u << bit;
      }
      for (unsigned b = 0; b < 4; ++b) cpython.push_back(static_cast<std::uint8_t>(digit >> (8 * b)));
    }
  }
  const std::size_t cpython_at = p.plant(cpython);
  // V8 small integers in 64-bit slots (Node.js), 28-bit digits as jsbn keeps them.
  Bytes smi;
  for (std::size_t d = 0; d < (1024 + 27) / 28; ++d) {
    std::uint32_t digit = 0;
    for (unsigned bit = 0; bit < 28; ++bit) {
      const std::size_t index = d * 28 + bit;
      if (index < 1024 && ((n[127 - index / 8] >> (index % 8)) & 1)) digit |= 1u << bit;
    }
    smi.insert(smi.end(), 4, 0);
    for (unsigned b = 0; b < 4; ++b) smi.push_back(static_cast<std::uint8_t>(digit >> (8 * b)));
  }
  const std::size_t smi_at = p.plant(smi);
  const std::size_t be_at = p.plant(n);

  Sink sink;
  std::vector<KnownSecret> secrets;
  secrets.push_back(secret(KnownSecret::Shape::number, n, 132, "k2"));
  const auto findings = close(p.data, std::move(secrets), sink);
  EXPECT_TRUE(covered(findings, "k2", jvm_at, jvm.size(), "jvm-int32")) << "with its zero word";
  EXPECT_TRUE(covered(findings, "k2", cpython_at, cpython.size(), "cpython-30"));
  EXPECT_TRUE(covered(findings, "k2", smi_at, smi.size(), "smi64-28"));
  EXPECT_TRUE(covered(findings, "k2", be_at, 128, "be"));
}

TEST(SecretClosure, TextSecretsInBothEncodingsAndTooShortOrPlainValuesAreNotChased) {
  const std::string token = "s3cr3t-Tok3n-With-Ent0py";
  Planter p(4096);
  const std::size_t ascii = p.plant(Bytes(token.begin(), token.end()));
  Bytes wide;
  for (char c : token) {
    wide.push_back(static_cast<std::uint8_t>(c));
    wide.push_back(0);
  }
  const std::size_t utf16 = p.plant(wide);
  p.plant(Bytes(16, 0));
  Sink sink;
  std::vector<KnownSecret> secrets;
  secrets.push_back(secret(KnownSecret::Shape::text, Bytes(token.begin(), token.end()), 0, "k3"));
  secrets.push_back(secret(KnownSecret::Shape::bytes, Bytes(16, 0), 16, "zeros"));     // too plain
  secrets.push_back(secret(KnownSecret::Shape::text, Bytes{'a', 'b', 'c', 'd', 'e'}, 0, "short"));
  const auto findings = close(p.data, std::move(secrets), sink);
  EXPECT_TRUE(covered(findings, "k3", ascii, token.size(), "ascii"));
  EXPECT_TRUE(covered(findings, "k3", utf16, wide.size(), "utf16le"));
  for (const Finding& f : findings) EXPECT_EQ(f.key, "k3");
}

TEST(SecretClosure, PastItsBudgetTheClosureSaysWhatItLeftOut) {
  // Distinct values past kMaxClosureSecrets are not chased, and the limit says how many: a
  // limit keeps the verdict from being "clean".
  Planter p(64);
  std::vector<KnownSecret> secrets;
  for (std::size_t i = 0; i < kMaxClosureSecrets + 3; ++i) {
    secrets.push_back(secret(KnownSecret::Shape::bytes, random_bytes(16, static_cast<std::uint32_t>(1000 + i)), 16,
                             "many"));
  }
  Sink sink;
  close(p.data, std::move(secrets), sink);
  ASSERT_EQ(sink.limits.size(), 1u);
  EXPECT_NE(sink.limits[0].find("the 3 after the first 4096"), std::string::npos) << sink.limits[0];
}

// A candidate (a number) whose witness is a public value: with the witness elsewhere, every copy
// of the candidate is a finding, whose proof names where the witness was, and its key joins the
// report; with the witness only inside the candidate's own bytes, or absent, nothing is claimed.
TEST(SecretClosure, APendingSecretCountsOnlyWhenItsWitnessIsFoundElsewhere) {
  const Bytes value = random_bytes(32, 7), witness = random_bytes(32, 8);
  const auto pending = [&](std::uint64_t candidate_at, std::uint64_t candidate_length) {
    PendingSecret p;
    p.secret = secret(KnownSecret::Shape::number, value, 32, "sha256:pending");
    p.secret.proof = "proven by ";
    p.witnesses.push_back({witness, {}, "the witness"});
    p.candidate_offset = candidate_at;
    p.candidate_length = candidate_length;
    p.key = PublicKey{};
    p.key->fingerprint = "sha256:pending";
    p.key->origin = "seen at ";
    return p;
  };
  const auto run = [&](const Bytes& data, PendingSecret p, Sink& sink) {
    Dump dump;
    KeyRing ring;
    const ScanArea area{0, std::as_bytes(std::span(data)), std::nullopt};
    const ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), {}};
    std::vector<PendingSecret> all;
    all.push_back(std::move(p));
    close_over_secrets(context, {}, std::move(all), sink);
  };
  Bytes le(value.rbegin(), value.rend());
  Planter planter(8192);
  const std::size_t first = planter.plant(value), second = planter.plant(le), seen = planter.plant(witness);

  Sink proven;
  run(planter.data, pending(first, 32), proven);
  EXPECT_TRUE(covered(proven.findings, "sha256:pending", first, 32, "be"));
  EXPECT_TRUE(covered(proven.findings, "sha256:pending", second, 32, "le"));
  ASSERT_FALSE(proven.findings.empty());
  EXPECT_EQ(proven.findings[0].proof, fmt::format("proven by the witness at file offset {:#x}", seen));
  ASSERT_EQ(proven.keys.size(), 1u);
  EXPECT_EQ(proven.keys[0].origin, fmt::format("seen at the witness at file offset {:#x}", seen));

  // The witness inside the candidate's own span proves nothing.
  Sink inside;
  run(planter.data, pending(seen - 8, 48), inside);
  EXPECT_TRUE(inside.findings.empty());
  EXPECT_TRUE(inside.keys.empty());

  Planter bare(8192);
  const std::size_t alone = bare.plant(value);
  Sink unproven;
  run(bare.data, pending(alone, 32), unproven);
  EXPECT_TRUE(unproven.findings.empty());
  EXPECT_TRUE(unproven.keys.empty());
}

}  // namespace
}  // namespace dumpguard
