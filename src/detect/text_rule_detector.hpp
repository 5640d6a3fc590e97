// Detector: credentials held as text (tokens, keys, connection strings, password= lines), by
// the text rules (src/rules/), in ASCII and UTF-16LE. A finding's span is the secret alone (the
// rule's capture group), its kind is the rule id, and its key is a keyed fingerprint of the
// secret's characters, so every copy of one secret, in either encoding, is one key. A secret
// in a NAME=value string (an environment block) is reported with the variable's name.
#pragma once
#include <memory>

#include "detect/detector.hpp"
#include "rules/engine.hpp"
#include "rules/text_rules.hpp"

namespace dumpguard {

inline constexpr std::string_view kTextRulesDetector = "text-rules";

struct TextRuleSettings {
  // Compiled once per run and shared by every thread's instance; the scan sets it (the built-in
  // rules, or those of --rules).
  std::shared_ptr<const rules::RuleEngine> engine;
};
std::unique_ptr<StructureDetector> make_text_rules_detector(const TextRuleSettings& settings);

// The NAME of a NAME=value string that holds the text at `at` in `subject`, or empty: the
// string starts after a NUL or other non-text byte, within 256 characters before `at`.
std::string_view variable_name(std::string_view subject, std::size_t at);

}  // namespace dumpguard
