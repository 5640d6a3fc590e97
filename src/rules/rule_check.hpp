// `dumpguard rules check`: every rule compiles and is bounded, every positive example matches
// (capturing the secret it names) and every negative example does not, in ASCII and in
// UTF-16LE; a rule with no literal keyword to anchor on is warned about (it costs 10-30x).
#pragma once

#include <string>
#include <vector>

#include "rules/rule.hpp"

namespace dumpguard::rules {

struct CheckMessage {
  bool error = false;  // false: a warning
  std::string text;    // "FILE:LINE:COL: rule ID: what"
};

struct CheckReport {
  std::size_t rules = 0;
  std::size_t examples = 0;  // examples run (each in both encodings)
  std::size_t failed_rules = 0;
  std::vector<CheckMessage> messages;
};

CheckReport check_rules(const std::vector<Rule>& rules);

// Whether one of the rule's keywords (2 characters or more) appears literally in its pattern,
// case-insensitively: then Vectorscan can start from that literal.
bool anchored(const Rule& rule);

}  // namespace dumpguard::rules
