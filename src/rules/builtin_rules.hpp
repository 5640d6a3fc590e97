// The built-in rule files (rules/*.toml), embedded at build time by CMakeLists.txt.
#pragma once

#include <string_view>
#include <vector>

namespace dumpguard::rules {

struct BuiltinRuleFile {
  std::string_view name;  // "builtin:cloud.toml"
  std::string_view text;
};

const std::vector<BuiltinRuleFile>& builtin_rule_files();

}  // namespace dumpguard::rules
