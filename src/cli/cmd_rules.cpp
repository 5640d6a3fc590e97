// `dumpguard rules check`: compile the text rules and test every example, in both encodings.
// `dumpguard rules list`: what each rule finds, who issues it, how severe, whether verifiable.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "rules/rule_check.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard::cli {

int run_rules_check(const RulesCheckOptions& options) {
  auto rules = rules::load_rules(options.rules, options.rules_only);
  if (!rules) {
    print_stderr("dumpguard: {}\n", rules.error().message);
    return kExitError;
  }
  const rules::CheckReport report = rules::check_rules(*rules);
  for (const rules::CheckMessage& m : report.messages) {
    fmt::print("{}: {}\n", m.error ? "error" : "warning", m.text);
  }
  const std::size_t warnings = static_cast<std::size_t>(
      std::count_if(report.messages.begin(), report.messages.end(), [](const auto& m) { return !m.error; }));
  fmt::print("{} rules, {} examples checked in ASCII and UTF-16LE: {} failed, {} warning{}\n", report.rules,
             report.examples, report.failed_rules, warnings, warnings == 1 ? "" : "s");
  return report.failed_rules == 0 ? kExitOk : kExitFindings;
}

int run_rules_list(const RulesListOptions& options) {
  auto rules = rules::load_rules(options.rules, options.rules_only);
  if (!rules) {
    print_stderr("dumpguard: {}\n", rules.error().message);
    return kExitError;
  }
  auto provider = [](const rules::Rule& r) { return r.provider.empty() ? std::string("-") : r.provider; };
  // "checksum" when a match can be verified offline (rules/validator.hpp); nothing contacts issuers.
  auto verifiable = [](const rules::Rule& r) {
    return r.validator == rules::Validator::none ? std::string("no") : fmt::format("checksum ({})", to_string(r.validator));
  };
  if (options.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const rules::Rule& r : *rules) {
      out.push_back(nlohmann::ordered_json{{"id", r.id},
                     {"provider", r.provider},
                     {"severity", to_string(r.severity)},
                     {"verifiable", r.validator != rules::Validator::none},
                     {"validator", r.validator == rules::Validator::none ? "" : to_string(r.validator)},
                     {"description", r.description},
                     {"source", r.source}});
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  std::size_t id_width = 2, provider_width = 8;
  for (const rules::Rule& r : *rules) {
    id_width = std::max(id_width, r.id.size());
    provider_width = std::max(provider_width, provider(r).size());
  }
  fmt::print("{:<{}}  {:<{}}  {:<8}  {}\n", "ID", id_width, "PROVIDER", provider_width, "SEVERITY", "VERIFIABLE");
  for (const rules::Rule& r : *rules) {
    fmt::print("{:<{}}  {:<{}}  {:<8}  {}\n", r.id, id_width, provider(r), provider_width, to_string(r.severity),
               verifiable(r));
  }
  fmt::print("{} rules\n", rules->size());
  return kExitOk;
}

}  // namespace dumpguard::cli
