// The built-in rules' Vectorscan database, compiled at build time and embedded: the built-in
// engine uses it, it finds exactly what a database compiled at run time finds, and any bytes it
// cannot use (other rules, another Vectorscan or platform, corruption) make load() compile.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "detect/text_rule_detector.hpp"
#include "rules/builtin_database.hpp"
#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard {
namespace {

using rules::RuleEngine;
using rules::RuleScanner;
using rules::TextEncoding;
using rules::TextMatch;

// Every match of `text` in one encoding: (rule id, offset, length, secret). UTF-16LE text sits
// between two non-text code units, as `rules check` puts it.
using Match = std::tuple<std::string, std::uint64_t, std::uint64_t, std::string>;
std::vector<Match> matches(const std::shared_ptr<const RuleEngine>& engine, const std::string& text,
                           TextEncoding encoding) {
  RuleScanner scanner(engine);
  std::vector<Match> out;
  auto record = [&](const TextMatch& m) {
    out.emplace_back(engine->rules()[m.rule].id, m.offset, m.length,
                     std::string(m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin)));
  };
  if (encoding == TextEncoding::ascii) {
    scanner.scan_ascii(std::as_bytes(std::span(text.data(), text.size())), record);
  } else {
    std::string wide = "\xff\xff";
    for (char c : text) wide += {c, '\0'};
    wide += "\xff\xff";
    scanner.scan_utf16le(std::as_bytes(std::span(wide.data(), wide.size())), record);
  }
  return out;
}

// Every positive and negative example of every rule, alone, in both encodings.
std::vector<std::string> example_texts(const std::vector<rules::Rule>& rules) {
  std::vector<std::string> texts;
  for (const rules::Rule& r : rules) {
    for (const rules::RuleExample& ex : r.positive) texts.push_back(ex.text);
    for (const std::string& ex : r.negative) texts.push_back(ex);
  }
  return texts;
}

TEST(RuleDatabase, BuiltinEngineUsesTheEmbeddedDatabaseAndFindsWhatACompiledOneFinds) {
  auto builtin = rules::builtin_rules();
  ASSERT_TRUE(builtin) << builtin.error().message;
  // Fails when the embedded bytes were made from other rules or flags (a stale database), or
  // by another Vectorscan, as load() then compiles.
  const auto embedded = builtin_rule_engine();
  EXPECT_TRUE(embedded->deserialized());
  EXPECT_FALSE(rules::builtin_database().empty());
  auto compiled = RuleEngine::compile(*builtin);
  ASSERT_TRUE(compiled) << compiled.error().message;
  EXPECT_FALSE((*compiled)->deserialized());
  EXPECT_EQ(embedded->max_length(), (*compiled)->max_length());

  std::size_t positives = 0, found = 0;
  for (const rules::Rule& r : *builtin) positives += r.positive.size();
  for (const std::string& text : example_texts(*builtin)) {
    for (TextEncoding encoding : {TextEncoding::ascii, TextEncoding::utf16le}) {
      const auto expected = matches(*compiled, text, encoding);
      EXPECT_EQ(matches(embedded, text, encoding), expected) << rules::to_string(encoding) << ": " << text.size()
                                                              << "-character example";
      found += expected.size();
    }
  }
  // Every positive example matches in ASCII, so the comparison above compared matches.
  EXPECT_GE(found, positives);
  EXPECT_GT(positives, 70u);
}

constexpr const char* kRules = R"(
[[rule]]
id = "test-token"
description = "a test token"
keywords = ["tok_"]
pattern = '''\b(tok_[A-Za-z0-9]{20,40})\b'''
max_length = 44

[[rule]]
id = "test-key"
description = "a key with a prefilter"
keywords = ["key:"]
pattern = '''key:([A-F0-9]{16,64})'''
prefilter = '''key:[A-F0-9]{16}'''
max_length = 68
)";

const std::string kText = "x tok_EXAMPLEexample0123456789 y key:00112233445566778899AABBCCDDEEFF z";

TEST(RuleDatabase, SerializeMakesWhatLoadUses) {
  auto parsed = rules::parse_rule_file(kRules, "test.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto bytes = RuleEngine::serialize(*parsed);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto loaded = RuleEngine::load(*parsed, *bytes);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE((*loaded)->deserialized());
  const std::vector<Match> expected = {
      {"test-token", 2, 28, "tok_EXAMPLEexample0123456789"},
      {"test-key", 37, 32, "00112233445566778899AABBCCDDEEFF"},
  };
  EXPECT_EQ(matches(*loaded, kText, TextEncoding::ascii), expected);
  EXPECT_EQ(matches(*loaded, kText, TextEncoding::utf16le).size(), 2u);
}

// Bytes load() must not use, each made from good bytes as a real failure would make them.
TEST(RuleDatabase, BytesItCannotUseMakeLoadCompile) {
  auto parsed = rules::parse_rule_file(kRules, "test.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto serialized = RuleEngine::serialize(*parsed);
  ASSERT_TRUE(serialized) << serialized.error().message;
  const std::vector<std::byte>& good = *serialized;
  // The rules' identity and a NUL, then each database (AVX-512 first, then generic) as an
  // 8-byte little-endian length and Vectorscan's serialized form, whose header
  // (hs_serialize_database) is: magic, version, bytecode length (u32 each), platform (u64),
  // CRC32C of the bytecode (u32), two reserved u32s; then the bytecode, then unused padding.
  const auto nul = std::find(good.begin(), good.end(), std::byte{0});
  ASSERT_NE(nul, good.end());
  struct Database {
    std::size_t at, size;
  };
  std::vector<Database> databases;
  for (std::size_t at = static_cast<std::size_t>(nul - good.begin()) + 1; at + 8 <= good.size();) {
    std::uint64_t length = 0;
    for (int i = 0; i < 8; ++i) length |= static_cast<std::uint64_t>(good[at + i]) << (8 * i);
    ASSERT_LE(at + 8 + length, good.size());
    databases.push_back({at + 8, static_cast<std::size_t>(length)});
    at += 8 + length;
  }
  ASSERT_EQ(databases.size(), 2u);
  ASSERT_GT(databases[0].size, 256u);

  // The same change in every database, at `offset` into it (negative: from its middle).
  auto in_each = [&](std::ptrdiff_t offset, std::byte mask) {
    std::vector<std::byte> bad = good;
    for (const Database& d : databases) {
      bad[d.at + static_cast<std::size_t>(offset >= 0 ? offset : static_cast<std::ptrdiff_t>(d.size / 2))] ^= mask;
    }
    return bad;
  };
  const std::vector<std::pair<std::string, std::vector<std::byte>>> cases = {
      {"empty", {}},
      {"cut inside the first database", std::vector<std::byte>(good.begin(), good.begin() + databases[0].at + 100)},
      {"identity changed", [&] {
         std::vector<std::byte> bad = good;
         bad[0] ^= std::byte{0x20};
         return bad;
       }()},
      {"Vectorscan magic changed", in_each(0, std::byte{1})},
      {"another Vectorscan version", in_each(4, std::byte{1})},
      {"platforms this host is not", in_each(12, std::byte{0xf0})},
      // The CRC covers the bytecode (in the middle; the padding at the end is not checked).
      {"bytecode corrupted", in_each(-1, std::byte{0x55})},
      {"the built-in rules' databases", {rules::builtin_database().begin(), rules::builtin_database().end()}},
  };
  for (const auto& [what, bytes] : cases) {
    auto loaded = RuleEngine::load(*parsed, bytes);
    ASSERT_TRUE(loaded) << what << ": " << loaded.error().message;
    EXPECT_FALSE((*loaded)->deserialized()) << what;
    EXPECT_EQ(matches(*loaded, kText, TextEncoding::ascii).size(), 2u) << what;
  }

  // A host that refuses the first database (an AVX-512 one, on an older host) uses the next.
  std::vector<std::byte> first_refused = good;
  first_refused[databases[0].at + 12] ^= std::byte{0xf0};
  auto next = RuleEngine::load(*parsed, first_refused);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_TRUE((*next)->deserialized());
  EXPECT_EQ(matches(*next, kText, TextEncoding::ascii).size(), 2u);

  // Rules edited since the bytes were made: a stale database is not used either.
  std::vector<rules::Rule> edited = *parsed;
  edited[1].pattern = "key:([A-F0-9]{16,60})";
  auto stale = RuleEngine::load(edited, good);
  ASSERT_TRUE(stale) << stale.error().message;
  EXPECT_FALSE((*stale)->deserialized());
  edited = *parsed;
  edited[0].max_length = 45;  // its bound was checked against 44
  stale = RuleEngine::load(edited, good);
  ASSERT_TRUE(stale) << stale.error().message;
  EXPECT_FALSE((*stale)->deserialized());

  // The good bytes, for contrast: the cases above fail only where they differ.
  auto loaded = RuleEngine::load(*parsed, good);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE((*loaded)->deserialized());
}

// The build-time tool runs serialize(): it refuses every rule compile() refuses, with the same
// message, so a bad built-in rule fails the build and run time may skip those checks.
TEST(RuleDatabase, SerializeRefusesWhatCompileRefuses) {
  for (const auto& [pattern, max_length, message] : std::vector<std::tuple<std::string, std::size_t, std::string>>{
           {"key=[a-z]+", 100, "unboundedly"},
           {"key=[a-z]{1,200}", 100, "max_length 100"},
           {"(?:key)?", 10, "empty text"},
           {"key=(", 10, "Vectorscan cannot compile the pattern"},
       }) {
    rules::Rule r;
    r.id = "r";
    r.source = "t:1:1";
    r.pattern = pattern;
    r.max_length = max_length;
    auto serialized = RuleEngine::serialize({r});
    ASSERT_FALSE(serialized) << pattern;
    EXPECT_NE(serialized.error().message.find(message), std::string::npos) << serialized.error().message;
    auto compiled = RuleEngine::compile({r});
    ASSERT_FALSE(compiled) << pattern;
    EXPECT_EQ(serialized.error().message, compiled.error().message);
  }
}

}  // namespace
}  // namespace dumpguard
