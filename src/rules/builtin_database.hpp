// The built-in rules' Vectorscan database, compiled and serialized once at build time
// (RuleEngine::serialize, run by src/rules/builtin_database_tool.cpp) and embedded in the
// library, so a scan does not spend half a second compiling it (docs/design.md).
#pragma once

#include <cstddef>
#include <span>

namespace dumpguard::rules {

// The bytes RuleEngine::load takes with rules::builtin_rules(). Empty when the build could not
// run the tool (cross-compiling): the built-in rules are then compiled at run time.
std::span<const std::byte> builtin_database();

}  // namespace dumpguard::rules
