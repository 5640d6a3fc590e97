// Reading text rules from TOML (toml++). A rule file fails closed: an unknown key, a value of
// the wrong type, a missing field or a duplicate id is an error naming FILE:LINE:COL, so a typo
// never silently disables a rule. Files are size-capped before parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"
#include "rules/rule.hpp"

namespace dumpguard::rules {

// Rule files larger than this are refused before parsing (the built-in set is ~40 KB).
inline constexpr std::size_t kMaxRuleFileBytes = 4 * 1024 * 1024;
// Deeper nesting is refused before toml++ recurses into it (io/toml.hpp); a rule file nests 3 deep.
inline constexpr std::size_t kMaxRuleFileNesting = 4096;

// Parses one rule file's text; `name` is used in messages ("FILE:LINE:COL: ...").
Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& name);

// Reads and parses the file at `path`.
Result<std::vector<Rule>> read_rule_file(const std::string& path);

// The built-in rules, parsed (they are checked by `rules check` in the tests).
Result<std::vector<Rule>> builtin_rules();

// The rules a scan uses: the built-in set unless `rules_only`, then each file's rules in order.
// A user rule with the id of an earlier rule replaces it (so a file can tune a built-in rule).
Result<std::vector<Rule>> load_rules(const std::vector<std::string>& files, bool rules_only);

}  // namespace dumpguard::rules
