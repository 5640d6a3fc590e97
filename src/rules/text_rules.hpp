// The compiled form behind dumpguard::TextRules, for the detector that runs it and the
// reports that mask with it.
#pragma once

#include <memory>
#include <optional>

#include "dumpguard/text_rules.hpp"
#include "rules/engine.hpp"

namespace dumpguard {

struct TextRules::Engine {
  std::shared_ptr<const rules::RuleEngine> rules;
  bool from_files = false;  // rule files were given (else the built-in set)
};

// The built-in rules, loaded once per process with the database compiled at build time
// (rules/builtin_database.hpp), or compiled if that cannot be used.
std::shared_ptr<const rules::RuleEngine> builtin_rule_engine();

// The engine a scan runs: the rules given, or the built-in ones.
std::shared_ptr<const rules::RuleEngine> engine_of(const std::optional<TextRules>& given);

}  // namespace dumpguard
