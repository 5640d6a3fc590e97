// Text rules: the engine finds each match once, at the exact bytes, in ASCII and UTF-16LE, across
// chunk and piece boundaries; entropy and allowlists filter; rule files fail closed with
// FILE:LINE:COL; the detector's findings name the rule and variable, never the secret.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "detect/text_rule_detector.hpp"
#include "fixtures/detector_harness.hpp"
#include "rules/engine.hpp"
#include "rules/placeholder.hpp"
#include "rules/rule_check.hpp"
#include "rules/rule_file.hpp"
#include "rules/validator.hpp"
#include "scan/key_groups.hpp"

namespace dumpguard {
namespace {

using rules::RuleEngine;
using rules::RuleScanner;
using rules::TextEncoding;
using rules::TextMatch;

constexpr const char* kRules = R"(
[[rule]]
id = "test-token"
description = "a test token"
keywords = ["tok_"]
pattern = '''\b(tok_[A-Za-z0-9]{20,40})\b'''
max_length = 44
[rule.examples]
positive = [{ text = "x tok_EXAMPLEexample0123456789 y", secret = "tok_EXAMPLEexample0123456789" }]
negative = ["tok_short"]

[[rule]]
id = "test-password"
description = "a password with an entropy threshold"
severity = "medium"
keywords = ["pass"]
pattern = '''pass=([^\s;]{8,64})'''
max_length = 69
entropy = 3.0
allowlist = { patterns = ['''^\$\{'''], stopwords = ["example"] }
[rule.examples]
positive = ["pass=Zq8#kL2!vR9@"]
negative = ["pass=aaaaaaaaaaaa"]
)";

std::shared_ptr<const RuleEngine> engine() {
  auto rules = rules::parse_rule_file(kRules, "test.toml");
  EXPECT_TRUE(rules) << (rules ? "" : rules.error().message);
  auto compiled = RuleEngine::compile(std::move(*rules));
  EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error().message);
  return *compiled;
}

std::vector<std::uint8_t> utf16(std::string_view s) {
  std::vector<std::uint8_t> out;
  for (char c : s) {
    out.push_back(static_cast<std::uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

// Filler that holds no text: bytes 0x80-0xff never form ASCII or UTF-16LE text.
std::vector<std::uint8_t> filler(std::size_t n, std::uint32_t seed) {
  auto b = test::seeded_bytes(n, seed);
  for (auto& x : b) x |= 0x80;
  return b;
}

void put(std::vector<std::uint8_t>& buf, std::size_t at, std::string_view text) {
  std::copy(text.begin(), text.end(), buf.begin() + static_cast<std::ptrdiff_t>(at));
}
void put(std::vector<std::uint8_t>& buf, std::size_t at, const std::vector<std::uint8_t>& bytes) {
  std::copy(bytes.begin(), bytes.end(), buf.begin() + static_cast<std::ptrdiff_t>(at));
}

// A match's subject is valid only during the callback: keep the secret's characters.
struct Found {
  TextEncoding encoding;
  std::uint64_t offset, length;
  std::string secret;
};

std::vector<Found> scan(const std::shared_ptr<const RuleEngine>& e, const std::vector<std::uint8_t>& buf) {
  RuleScanner scanner(e);
  std::vector<Found> out;
  scanner.scan(std::as_bytes(std::span(buf)), [&](const TextMatch& m) {
    out.push_back({m.encoding, m.offset, m.length, std::string(m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin))});
  });
  return out;
}

const std::string kToken = "tok_EXAMPLE0123456789abcdefXYZ";  // 30 characters

TEST(TextRules, AsciiAndUtf16MatchesAtExactOffsets) {
  const auto e = engine();
  auto buf = filler(4096, 1);
  put(buf, 1000, "Authorization: " + kToken + "\n");
  const std::size_t wide_at = 2001;  // odd: UTF-16LE text is not always aligned
  put(buf, wide_at, utf16("token=" + kToken + ";"));
  const auto found = scan(e, buf);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].encoding, TextEncoding::ascii);
  EXPECT_EQ(found[0].offset, 1000u + 15);
  EXPECT_EQ(found[0].length, kToken.size());
  EXPECT_EQ(found[1].encoding, TextEncoding::utf16le);
  EXPECT_EQ(found[1].offset, wide_at + 2 * 6);
  EXPECT_EQ(found[1].length, 2 * kToken.size());
  const auto wide = utf16(kToken);
  EXPECT_TRUE(std::equal(wide.begin(), wide.end(), buf.begin() + static_cast<std::ptrdiff_t>(found[1].offset)));
  for (const Found& m : found) EXPECT_EQ(m.secret, kToken);
}

TEST(TextRules, MatchAcrossChunkBoundaryIsFoundOnce) {
  const auto e = engine();
  // Vectorscan scans 8 MiB chunks overlapped by the longest rule: put tokens across the
  // boundary, just before it, right after it, and at the very end of the area.
  constexpr std::size_t kChunk = 8u << 20;
  auto buf = filler(kChunk + 4096, 2);
  const std::vector<std::size_t> at = {kChunk - 64, kChunk - 20, kChunk + 20, buf.size() - kToken.size()};
  for (std::size_t a : at) put(buf, a, kToken);
  const auto found = scan(e, buf);
  ASSERT_EQ(found.size(), at.size());
  for (std::size_t i = 0; i < at.size(); ++i) {
    EXPECT_EQ(found[i].offset, at[i]);
    EXPECT_EQ(found[i].length, kToken.size());
  }
}

TEST(TextRules, LongUtf16RunIsCutIntoPiecesWithoutLosingOrRepeatingMatches) {
  const auto e = engine();
  // One UTF-16LE run of 4.5 Mi characters: longer than a piece (4 Mi), so it is cut with an
  // overlap; a token across the cut is found once, and so is one at the run's end.
  constexpr std::size_t kPiece = 4u << 20;
  std::string text(kPiece + kPiece / 8, ' ');
  const std::vector<std::size_t> at = {kPiece - 44 - 10, kPiece - 20, text.size() - kToken.size()};
  for (std::size_t a : at) text.replace(a, kToken.size(), kToken);
  auto buf = utf16(text);
  const auto found = scan(e, buf);
  ASSERT_EQ(found.size(), at.size());
  for (std::size_t i = 0; i < at.size(); ++i) {
    EXPECT_EQ(found[i].encoding, TextEncoding::utf16le);
    EXPECT_EQ(found[i].offset, 2 * at[i]);
  }
}

// The UTF-16LE pass narrows runs with vector packs found 64 bytes at a time: a token in a run
// that starts at every offset 0..129 (odd and even, across 16/32/64-byte block edges), with the
// run's end at the buffer's last byte or one before it, is found once at its exact bytes.
TEST(TextRules, Utf16TokensAtEveryOffsetAndAtTheEndOfTheBuffer) {
  const auto e = engine();
  const auto wide = utf16("key " + kToken);
  for (std::size_t at = 0; at < 130; ++at) {
    for (std::size_t after : {0u, 1u, 2u, 77u}) {
      auto buf = filler(at + wide.size() + after, static_cast<std::uint32_t>(at));
      put(buf, at, wide);
      if (after > 0) buf[at + wide.size()] = 0x20;  // a text byte whose high byte is missing or not 0
      const auto found = scan(e, buf);
      ASSERT_EQ(found.size(), 1u) << "run at " << at << ", " << after << " bytes after";
      EXPECT_EQ(found[0].encoding, TextEncoding::utf16le);
      EXPECT_EQ(found[0].offset, at + 2 * 4);
      EXPECT_EQ(found[0].length, 2 * kToken.size());
      EXPECT_EQ(found[0].secret, kToken);
    }
  }
}

// Runs of exactly kMinUtf16Run characters are searched and shorter ones are not (a rule that
// matches 8 characters shows which), and runs of exactly one piece (4 Mi characters) and one
// more are found whole; runs are batched up to 8 Mi characters, and a flush between two runs
// loses nothing.
TEST(TextRules, Utf16RunsOfTheMinimumLengthAndAroundThePieceSizeAndTheBatch) {
  auto eight_rules = rules::parse_rule_file(R"(
[[rule]]
id = "eight"
description = "eight letters q"
pattern = '''(qqqqqqqq)'''
max_length = 8
)", "eight.toml");
  ASSERT_TRUE(eight_rules) << eight_rules.error().message;
  auto eight = RuleEngine::compile(std::move(*eight_rules));
  ASSERT_TRUE(eight) << eight.error().message;
  {
    auto buf = filler(512, 4);
    put(buf, 11, utf16(std::string(rules::kMinUtf16Run, 'q')));      // searched
    put(buf, 200, utf16(std::string(rules::kMinUtf16Run - 1, 'q')));  // too short to be a run
    RuleScanner scanner(*eight);
    std::vector<std::uint64_t> at;
    scanner.scan_utf16le(std::as_bytes(std::span(buf)), [&](const TextMatch& m) { at.push_back(m.offset); });
    EXPECT_EQ(at, std::vector<std::uint64_t>{11});
  }
  const auto e = engine();
  constexpr std::size_t kPiece = 4u << 20;
  for (std::size_t chars : {kPiece, kPiece + 1}) {
    std::string text(chars, ' ');
    text.replace(0, kToken.size(), kToken);
    text.replace(chars - kToken.size(), kToken.size(), kToken);
    auto buf = utf16(text);
    const auto found = scan(e, buf);
    ASSERT_EQ(found.size(), 2u) << chars;
    EXPECT_EQ(found[0].offset, 0u);
    EXPECT_EQ(found[1].offset, 2 * (chars - kToken.size()));
  }
  // Three runs of 3 Mi characters, each with a token at both ends: the third does not fit in
  // the batch with the first two.
  const std::size_t run = 3u << 20;
  auto buf = filler(3 * (2 * run + 64), 5);
  std::vector<std::uint64_t> want;
  for (std::size_t r = 0; r < 3; ++r) {
    const std::size_t at = r * (2 * run + 64) + 33;
    std::string text(run, '.');
    text.replace(0, kToken.size() + 1, kToken + " ");
    text.replace(run - kToken.size() - 1, kToken.size() + 1, " " + kToken);
    put(buf, at, utf16(text));
    want.push_back(at);
    want.push_back(at + 2 * (run - kToken.size()));
  }
  std::vector<std::uint64_t> got;
  RuleScanner scanner(e);
  scanner.scan_utf16le(std::as_bytes(std::span(buf)), [&](const TextMatch& m) { got.push_back(m.offset); });
  EXPECT_EQ(got, want);
}

TEST(TextRules, EntropyThresholdAndAllowlistFilter) {
  const auto e = engine();
  auto buf = filler(2048, 3);
  put(buf, 100, "pass=Zq8#kL2!vR9@;");        // passes
  put(buf, 300, "pass=aaaaaaaabbbb;");        // entropy below 3 bits per character
  put(buf, 500, "pass=${DB_PASSWORD};");      // allowlist pattern
  put(buf, 700, "pass=my-Example-Pw1;");      // stopword, case-insensitive
  const auto found = scan(e, buf);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, 105u);
  EXPECT_GE(rules::shannon_entropy("Zq8#kL2!vR9@"), 3.0);
  EXPECT_LT(rules::shannon_entropy("aaaaaaaabbbb"), 3.0);
}

TEST(TextRules, RuleFileErrorsNameLineAndColumn) {
  auto unknown = rules::parse_rule_file("[[rule]]\nid = \"x\"\nentropyy = 3\npattern = 'x'\nmax_length = 1\n", "f.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("f.toml:3:1:"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("entropyy"), std::string::npos);

  auto syntax = rules::parse_rule_file("[[rule]]\nid = \"x\"\npattern = 'unterminated\n", "g.toml");
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message.find("g.toml:3:"), std::string::npos) << syntax.error().message;

  auto no_bound = rules::parse_rule_file("[[rule]]\nid = \"x\"\npattern = 'x'\n", "h.toml");
  ASSERT_FALSE(no_bound);
  EXPECT_NE(no_bound.error().message.find("max_length"), std::string::npos);

  auto duplicate = rules::parse_rule_file(
      "[[rule]]\nid = \"x\"\npattern = 'ab'\nmax_length = 2\n[[rule]]\nid = \"x\"\npattern = 'ab'\nmax_length = 2\n", "d.toml");
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("duplicate"), std::string::npos);

  EXPECT_FALSE(rules::parse_rule_file(std::string(rules::kMaxRuleFileBytes + 1, '#'), "big.toml"));
}

TEST(TextRules, UnboundedAndOverlongPatternsAreRefused) {
  auto compile = [](const char* pattern, std::size_t max_length) {
    rules::Rule r;
    r.id = "r";
    r.source = "t:1:1";
    r.pattern = pattern;
    r.max_length = max_length;
    return RuleEngine::compile({r});
  };
  auto unbounded = compile("key=[a-z]+", 100);
  ASSERT_FALSE(unbounded);
  EXPECT_NE(unbounded.error().message.find("unboundedly"), std::string::npos);
  auto longer = compile("key=[a-z]{1,200}", 100);
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message.find("max_length 100"), std::string::npos);
  EXPECT_FALSE(compile("(?:key)?", 10));  // matches empty text
  EXPECT_TRUE(compile("key=[a-z]{1,200}", 204));
}

TEST(TextRules, CheckRunsExamplesAndWarnsAboutUnanchoredRules) {
  auto parsed = rules::parse_rule_file(kRules, "test.toml");
  ASSERT_TRUE(parsed);
  auto report = rules::check_rules(*parsed);
  EXPECT_EQ(report.failed_rules, 0u);
  EXPECT_TRUE(report.messages.empty());

  std::vector<rules::Rule> bad = *parsed;
  bad[0].negative.push_back("tok_EXAMPLEexample0123456789");  // a negative example that matches
  bad[1].keywords = {"nothing"};
  report = rules::check_rules(bad);
  EXPECT_EQ(report.failed_rules, 1u);
  ASSERT_EQ(report.messages.size(), 3u);  // the negative example matches in both encodings
  EXPECT_TRUE(report.messages[0].error);
  EXPECT_NE(report.messages[0].text.find("negative example 2 matches in ascii"), std::string::npos);
  EXPECT_NE(report.messages[1].text.find("negative example 2 matches in utf16le"), std::string::npos);
  EXPECT_FALSE(report.messages[2].error);
  EXPECT_NE(report.messages[2].text.find("unanchored"), std::string::npos);
}

// The built-in set is checked by `dumpguard rules check` in ctest (rules_check_builtin).

TEST(TextRules, DetectorFindingNamesRuleAndVariableNeverTheSecret) {
  const auto e = engine();
  auto detector = make_text_rules_detector({e});
  auto buf = filler(1024, 4);
  const std::string env = "API_TOKEN=" + kToken;
  put(buf, 200, env);
  buf[200 + env.size()] = 0;
  const auto key = test::seeded_bytes(32, 5);
  const auto sink = test::run_over(*detector, buf, key, 0x1000);
  ASSERT_EQ(sink.findings.size(), 1u);
  const Finding& f = sink.findings[0];
  EXPECT_EQ(f.detector, "text-rules");
  EXPECT_EQ(f.kind, "test-token");
  EXPECT_EQ(f.encoding, "ascii");
  EXPECT_EQ(f.file_offset, 0x1000u + 200 + 10);
  EXPECT_EQ(f.length, kToken.size());
  EXPECT_EQ(f.severity, Severity::high);
  EXPECT_FALSE(f.verified);
  EXPECT_EQ(f.key.rfind("hmac-sha256:", 0), 0u);
  EXPECT_NE(f.proof.find("API_TOKEN"), std::string::npos);
  EXPECT_EQ(f.proof.find(kToken), std::string::npos);
  EXPECT_EQ(f.key.find(kToken), std::string::npos);
}

TEST(TextRules, VariableNameIsTheStringsNameOnly) {
  const std::string s = std::string("\0PATH=/bin\0DATABASE_URL=postgres://u:pw@h", 42);
  EXPECT_EQ(variable_name(s, s.find("pw")), "DATABASE_URL");
  EXPECT_EQ(variable_name(s, s.find("/bin")), "PATH");
  EXPECT_EQ(variable_name("not a var: x", 11), "");
  EXPECT_EQ(variable_name("=value", 1), "");
}

TEST(TextRules, StructuredFindingWinsOverTextInsideIt) {
  Finding pem;
  pem.detector = "pem";
  pem.kind = "rsa-private-key";
  pem.file_offset = 100;
  pem.length = 1700;
  pem.key = "sha256:aa";
  pem.severity = Severity::critical;
  Finding text = pem;
  text.detector = "text-rules";
  text.kind = "private-key-block";
  text.key = "hmac-sha256:bb";
  text.severity = Severity::high;
  Finding generic = text;  // the same secret by a generic rule, elsewhere
  generic.file_offset = 5000;
  generic.length = 40;
  generic.kind = "generic-secret";
  generic.severity = Severity::medium;
  Finding specific = generic;
  specific.kind = "github-pat";
  specific.severity = Severity::high;
  std::vector<Finding> findings = {text, generic, pem, specific};
  settle_findings(findings, KeyRing{});
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].detector, "pem");
  EXPECT_EQ(findings[1].kind, "github-pat");
}

}  // namespace
}  // namespace dumpguard

namespace dumpguard {
namespace {

// Every built-in rule's positive examples, planted at pseudo-random offsets of one large
// buffer (ASCII and UTF-16LE, odd and even offsets, across the 8 MiB chunk boundary), are
// found at exactly the secret's bytes by the built-in engine `scan` uses, with its embedded
// database (RuleDatabase.BuiltinEngineUses... holds that to what a compiled one finds;
// compiling 254 rules again here cost half a minute under ASan). `rules check` runs each
// example alone; this guards against a prefilter that misses matches amid other data (the
// Vectorscan defect docs/commands/rules.md describes was data-dependent).
TEST(TextRules, BuiltinExamplesAreFoundAmidOtherDataAtExactBytes) {
  auto builtin = rules::builtin_rules();
  ASSERT_TRUE(builtin) << builtin.error().message;
  struct Planted {
    std::string rule, secret;
    TextEncoding encoding;
    std::uint64_t offset;
  };
  std::vector<Planted> planted;
  auto buf = filler((8u << 20) + (1u << 20), 7);
  std::mt19937_64 rng(11);
  std::size_t at = (8u << 20) - 40000;  // the examples straddle the first chunk boundary
  for (const rules::Rule& r : *builtin) {
    for (const rules::RuleExample& ex : r.positive) {
      if (!ex.secret) continue;
      const std::size_t in_text = ex.text.find(*ex.secret);
      for (TextEncoding enc : {TextEncoding::ascii, TextEncoding::utf16le}) {
        at += 64 + rng() % 64;
        std::vector<std::uint8_t> bytes = enc == TextEncoding::ascii
                                              ? std::vector<std::uint8_t>(ex.text.begin(), ex.text.end())
                                              : utf16(ex.text);
        ASSERT_LT(at + bytes.size() + 2, buf.size());
        buf[at - 1] = 0;  // a string starts here
        put(buf, at, bytes);
        buf[at + bytes.size()] = 0;
        const std::size_t width = enc == TextEncoding::ascii ? 1 : 2;
        planted.push_back({r.id, *ex.secret, enc, at + width * in_text});
        at += bytes.size() + 1;
      }
    }
  }
  ASSERT_GT(planted.size(), 100u);
  using FoundSet = std::set<std::tuple<std::string, int, std::uint64_t, std::uint64_t>>;
  auto scan_all = [&](const std::shared_ptr<const RuleEngine>& engine) {
    RuleScanner scanner(engine);
    FoundSet found;
    scanner.scan(std::as_bytes(std::span(buf)), [&](const TextMatch& m) {
      found.insert({engine->rules()[m.rule].id, static_cast<int>(m.encoding), m.offset, m.length});
    });
    return found;
  };
  EXPECT_TRUE(builtin_rule_engine()->deserialized());
  const FoundSet found = scan_all(builtin_rule_engine());
  for (const Planted& p : planted) {
    const std::uint64_t length = p.secret.size() * (p.encoding == TextEncoding::ascii ? 1 : 2);
    EXPECT_TRUE(found.count({p.rule, static_cast<int>(p.encoding), p.offset, length}))
        << p.rule << " " << rules::to_string(p.encoding) << " at " << p.offset;
  }
}

// What a zero-filled redaction leaves where a secret was (`<password>`, NULs, `</password>`) is
// no credential: were it one, no redacted copy of such a dump would rescan clean.
TEST(TextRules, ASecretOfNulBytesIsNoMatch) {
  auto builtin = rules::builtin_rules();
  ASSERT_TRUE(builtin) << builtin.error().message;
  auto buf = filler(1u << 20, 5);
  std::size_t at = 4096, zeroed = 0;
  for (const rules::Rule& r : *builtin) {
    for (const rules::RuleExample& ex : r.positive) {
      if (!ex.secret) continue;
      std::string text = ex.text;
      const std::size_t in_text = text.find(*ex.secret);
      std::fill_n(text.begin() + static_cast<std::ptrdiff_t>(in_text), ex.secret->size(), '\0');
      ASSERT_LT(at + text.size() + 2, buf.size());
      buf[at - 1] = 0;
      put(buf, at, text);
      buf[at + text.size()] = 0;
      at += text.size() + 64;
      ++zeroed;
    }
  }
  ASSERT_GT(zeroed, 100u);
  RuleScanner scanner(builtin_rule_engine());
  std::vector<std::string> nul_secrets;
  scanner.scan(std::as_bytes(std::span(buf)), [&](const TextMatch& m) {
    const std::string_view secret = m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin);
    if (secret.find('\0') != std::string_view::npos) {
      nul_secrets.push_back(builtin_rule_engine()->rules()[m.rule].id + " at " + std::to_string(m.offset));
    }
  });
  EXPECT_TRUE(nul_secrets.empty()) << nul_secrets.size() << " matches hold NULs, first " << nul_secrets.front();
}

// GitHub's and npm's token checksum, computed here apart from validator.cpp: zlib's CRC32 of
// the 30 random characters, in base62 (0-9A-Za-z), six digits.
std::string base62_token(std::string_view prefix, std::string_view random30) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : random30) {
    c ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  std::uint64_t n = c ^ 0xFFFFFFFFu;
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string digits(6, '0');
  for (std::size_t i = 6; i-- > 0; n /= 62) digits[i] = alphabet[n % 62];
  return std::string(prefix) + std::string(random30) + digits;
}

TEST(TextRules, Base62Crc32ValidatorAcceptsTheChecksumAndNothingElse) {
  using rules::Validator;
  const std::string good = base62_token("ghp_", "EXAMPLEfakeTOKEN0123456789abcd");
  ASSERT_EQ(good.size(), 40u);
  EXPECT_TRUE(rules::check(Validator::base62_crc32, good));
  EXPECT_TRUE(rules::check(Validator::base62_crc32, base62_token("npm_", "EXAMPLEfakeTOKEN0123456789abcd")));
  std::string bad = good;
  bad[10] = bad[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(rules::check(Validator::base62_crc32, bad));
  bad = good;
  bad.back() = bad.back() == '0' ? '1' : '0';
  EXPECT_FALSE(rules::check(Validator::base62_crc32, bad));
  EXPECT_FALSE(rules::check(Validator::base62_crc32, good.substr(0, 39)));
  EXPECT_FALSE(rules::check(Validator::base62_crc32, "ghpEXAMPLEfakeTOKEN0123456789abcd000000"));
  EXPECT_FALSE(rules::check(Validator::none, good));
  EXPECT_EQ(rules::validator_named("base62-crc32"), Validator::base62_crc32);
  EXPECT_FALSE(rules::validator_named("crc32"));
}

TEST(TextRules, ValidatedMatchIsVerifiedAndAFailedChecksumStaysHigh) {
  const std::string rule = R"(
[[rule]]
id = "test-gh"
provider = "Test"
keywords = ["tgh_"]
validator = "base62-crc32"
pattern = '''\b(tgh_[A-Za-z0-9]{36})\b'''
max_length = 40
)";
  auto parsed = rules::parse_rule_file(rule, "v.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].provider, "Test");
  auto compiled = RuleEngine::compile(std::move(*parsed));
  ASSERT_TRUE(compiled) << compiled.error().message;
  const std::string good = base62_token("tgh_", "EXAMPLEfakeTOKEN0123456789abcd");
  std::string bad = good;
  bad[8] = bad[8] == 'Z' ? 'Y' : 'Z';
  auto buf = filler(4096, 21);
  put(buf, 100, " " + good + " ");
  put(buf, 1000, " " + bad + " ");
  auto detector = make_text_rules_detector({*compiled});
  const auto sink = test::run_over(*detector, buf, test::seeded_bytes(32, 5), 0);
  ASSERT_EQ(sink.findings.size(), 2u);
  for (const Finding& f : sink.findings) {
    if (f.file_offset == 101) {
      EXPECT_TRUE(f.verified);
      EXPECT_EQ(f.severity, Severity::critical);
      EXPECT_NE(f.proof.find("checksum"), std::string::npos);
    } else {
      EXPECT_EQ(f.file_offset, 1001u);
      EXPECT_FALSE(f.verified);
      EXPECT_EQ(f.severity, Severity::high);
      EXPECT_NE(f.proof.find("check fails"), std::string::npos);
    }
  }
  // `rules check` wants a validated rule's positive examples to pass the check, without quoting them.
  auto checked = rules::parse_rule_file(rule + "[rule.examples]\npositive = [\"" + bad + "\", \"" + good +
                                            "\"]\nnegative = [\"tgh_short\"]\n",
                                        "c.toml");
  ASSERT_TRUE(checked) << checked.error().message;
  const rules::CheckReport report = rules::check_rules(*checked);
  ASSERT_EQ(report.failed_rules, 1u);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_NE(report.messages[0].text.find("positive example 1 fails the rule's base62-crc32 check"), std::string::npos)
      << report.messages[0].text;
  EXPECT_EQ(report.messages[0].text.find(bad), std::string::npos);
  auto unknown = rules::parse_rule_file("[[rule]]\nid = \"x\"\nvalidator = \"luhn\"\npattern = 'x'\nmax_length = 1\n", "u.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("u.toml:3:13"), std::string::npos) << unknown.error().message;
}

TEST(TextRules, PlaceholdersReferencesAndArnsAreNotSecrets) {
  auto is = [](std::string_view text) { return rules::placeholder_or_reference(text, 0, text.size()); };
  for (std::string_view s : {"${DB_PASSWORD}", "$DB_PASSWORD", "${{ secrets.TOKEN }}", "$(cat /run/secrets/db)",
                             "%API_KEY%", "{{ .Values.password }}", "#{ENV['X']}", "@DB_PASS@", "<your-api-key>",
                             "<YOUR_TOKEN", "env.API_TOKEN", "process.env.STRIPE_KEY", "os.environ['TOKEN']",
                             "os.getenv(", "System.getenv(", "password", "Secret", "xxxxxxxxxxxxxxxx", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
                             "****************", "00000000", "ChangeMe123!", "your_api_key_here", "REDACTED-TOKEN"}) {
    EXPECT_TRUE(is(s)) << s;
  }
  for (std::string_view s : {"Zq8#kL2!vR9@tQ4", "EXAMPLEfakeKEY0123456789abcdxyz", "pa$$w0rd-Kq93lz", "a%b%c",
                             "ghp_EXAMPLEfakeTOKEN0123456789abcd0aB3x9"}) {
    EXPECT_FALSE(is(s)) << s;
  }
  // An ARN's "secret:NAME" is found by a "secret" rule, but the word it sits in is an ARN.
  const std::string arn = "SecretId=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Ab3dEf";
  EXPECT_TRUE(rules::placeholder_or_reference(arn, arn.find("prod/"), arn.size()));
  const std::string plain = "secret:prod/db-Ab3dEf9Kq2";
  EXPECT_FALSE(rules::placeholder_or_reference(plain, plain.find("prod/"), plain.size()));
}

// Lines from configuration and code that name a secret without holding one: the built-in set
// finds nothing in them (the generic rules fired on several before the shared filter).
TEST(TextRules, BuiltinRulesSkipReferencesPlaceholdersAndArns) {
  auto buf = filler(1 << 14, 5);
  std::size_t at = 64;
  for (std::string_view line : {"password = os.environ[\"DB_PASSWORD\"]", "DB_PASSWORD=${DB_PASSWORD:-unset}",
                                "password: '{{ vault_db_password }}'", "set PASSWORD=%DB_PASSWORD%",
                                "const password = process.env.DB_PASSWORD;", "password=<your-password-here>",
                                "api_key: xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "client_secret=REPLACE_ME_WITH_SECRET",
                                "secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-password-a1B2c3",
                                "token: ${{ secrets.GITHUB_TOKEN }}", "password = config.database.password",
                                "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    buf[at - 1] = 0;
    put(buf, at, line);
    buf[at + line.size()] = 0;
    at += line.size() + 64;
  }
  for (const Found& f : scan(builtin_rule_engine(), buf)) {
    ADD_FAILURE() << "found a " << f.secret.size() << "-character value at " << f.offset;
  }
}

// Every built-in rule says who issues what it finds, for `rules list`.
TEST(TextRules, EveryBuiltinRuleNamesItsProvider) {
  auto builtin = rules::builtin_rules();
  ASSERT_TRUE(builtin) << builtin.error().message;
  for (const rules::Rule& r : *builtin) EXPECT_FALSE(r.provider.empty()) << r.id;
}

}  // namespace
}  // namespace dumpguard
