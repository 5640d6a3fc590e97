#include "rules/text_rules.hpp"

#include <stdexcept>

#include "rules/builtin_database.hpp"
#include "rules/builtin_rules.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard {

std::shared_ptr<const rules::RuleEngine> builtin_rule_engine() {
  static const std::shared_ptr<const rules::RuleEngine> engine = [] {
    auto rules = rules::builtin_rules();
    if (!rules) throw std::logic_error("built-in rules: " + rules.error().message);
    // The database compiled at build time; compiled here only if it cannot be used.
    auto compiled = rules::RuleEngine::load(std::move(*rules), rules::builtin_database());
    if (!compiled) throw std::logic_error("built-in rules: " + compiled.error().message);
    return *compiled;
  }();
  return engine;
}

std::shared_ptr<const rules::RuleEngine> engine_of(const std::optional<TextRules>& given) {
  return given ? given->engine().rules : builtin_rule_engine();
}

TextRules TextRules::builtin() {
  return TextRules(std::make_shared<const Engine>(Engine{builtin_rule_engine(), false}));
}

Result<TextRules> TextRules::from_files(const std::vector<std::string>& paths, bool only_these) {
  DG_TRY(std::vector<rules::Rule> rules, rules::load_rules(paths, only_these));
  DG_TRY(std::shared_ptr<const rules::RuleEngine> engine, rules::RuleEngine::compile(std::move(rules)));
  return TextRules(std::make_shared<const Engine>(Engine{std::move(engine), true}));
}

std::size_t TextRules::size() const { return engine_->rules->rules().size(); }

std::string TextRules::origin() const {
  if (engine_->rules->deserialized()) return "their Vectorscan database compiled at build time";
  if (engine_->from_files) return "compiled at run time (rule files given)";
  return "compiled at run time: this Vectorscan refused the embedded database";
}

}  // namespace dumpguard
