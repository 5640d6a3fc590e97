// Text rules for scan_dump (ScanOptions::text_rules): the built-in set, or rule files
// (docs/rules.md) with or without it, compiled once and shared by every scan that uses them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

class TextRules {
 public:
  // The built-in rules, compiled into the library (with their matching database, where this
  // machine's Vectorscan accepts it).
  static TextRules builtin();
  // The rules of these TOML files, after the built-in ones unless `only_these`. An error names
  // the file and the rule.
  static Result<TextRules> from_files(const std::vector<std::string>& paths, bool only_these);

  std::size_t size() const;  // how many rules
  // Where the matching database came from, in words ("compiled at build time", ...).
  std::string origin() const;

  // The compiled rules: the library's own type, opaque here.
  struct Engine;
  explicit TextRules(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
  const Engine& engine() const { return *engine_; }

 private:
  std::shared_ptr<const Engine> engine_;
};

}  // namespace dumpguard
