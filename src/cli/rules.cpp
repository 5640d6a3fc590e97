// `dumpguard rules check`: compile the text rules and test every example, in both encodings.
#include <fmt/format.h>

#include <algorithm>

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

}  // namespace dumpguard::cli
