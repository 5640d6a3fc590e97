// A text rule: one kind of credential written as a pattern whose capture group is the secret.
// Rules come from TOML files (rule_file.hpp): the built-in set under rules/, and the user's.
// The same rule is matched in ASCII/UTF-8 text and in UTF-16LE text (engine.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dumpguard/finding.hpp"
#include "rules/validator.hpp"

namespace dumpguard::rules {

// An example a rule must match (positive) or must not (negative). A positive example may
// name the secret its match must capture, so `rules check` tests the span, not only a hit.
struct RuleExample {
  std::string text;
  std::optional<std::string> secret;
};

struct Rule {
  std::string id;           // stable, lowercase with dashes: "aws-access-key-id"; the finding's kind
  std::string description;  // one line for people
  std::string provider;     // who issues the credential ("GitHub", "AWS"), or the context ("URL")
  // PCRE2 syntax that Vectorscan also accepts (no backreferences or lookaround). The secret is
  // the first capture group that took part in the match, or the whole match if none did.
  std::string pattern;
  // Optional: what Vectorscan matches instead of `pattern`, for rules with long repeats (a PEM
  // body) that would take Vectorscan a third of a second each to compile. It must match the
  // start of every match of `pattern` (the pattern up to its long repeat); PCRE2 then matches
  // `pattern` from there. `rules check` runs the examples through it.
  std::string prefilter;
  std::vector<std::string> keywords;  // literals the pattern is anchored on (`rules check` warns without one)
  std::optional<double> entropy;      // minimum Shannon entropy of the secret, bits per character
  std::vector<std::string> allow_patterns;  // a secret matching one of these is not reported
  std::vector<std::string> stopwords;       // nor one containing one of these (case-insensitive)
  Severity severity = Severity::high;
  // An offline check of the secret's own structure (validator.hpp), or none. A secret that
  // passes it is verified; one that fails it is still reported, unverified.
  Validator validator = Validator::none;
  std::size_t max_length = 0;  // longest whole match, in characters; bounds the PCRE2 window
  std::vector<RuleExample> positive;
  std::vector<std::string> negative;
  std::string source;  // "FILE:LINE:COL" of the rule's table, for messages
};

// The longest max_length any rule may declare: a PEM body of a 4096-bit RSA key with its
// header lines is about 3.3 KB; 16 KiB leaves room without letting one rule cost much.
inline constexpr std::size_t kMaxRuleLength = 16 * 1024;

}  // namespace dumpguard::rules
