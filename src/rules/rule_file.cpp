#include "rules/rule_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "io/toml.hpp"
#include "rules/builtin_rules.hpp"

namespace dumpguard::rules {

namespace {

std::string where(const std::string& name, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", name, src.begin.line, src.begin.column);
}

Error rule_error(const std::string& name, const toml::source_region& src, std::string_view what) {
  return Error{Errc::bad_value, 0, fmt::format("{}: {}", where(name, src), what)};
}

// Reads one rule table. Every key is known, or the rule is an error: a misspelt "entropy" must
// not silently turn an entropy-gated rule into one that reports every match.
struct RuleReader {
  const std::string& name;
  std::optional<Error> error;

  void fail(const toml::source_region& src, std::string_view what) {
    if (!error) error = rule_error(name, src, what);
  }

  std::optional<std::string> string_of(const toml::node& node, std::string_view key) {
    if (const auto* s = node.as_string()) return s->get();
    fail(node.source(), fmt::format("\"{}\" must be a string", key));
    return std::nullopt;
  }

  std::vector<std::string> strings_of(const toml::node& node, std::string_view key) {
    std::vector<std::string> out;
    const auto* array = node.as_array();
    if (!array) {
      fail(node.source(), fmt::format("\"{}\" must be an array of strings", key));
      return out;
    }
    for (const toml::node& item : *array) {
      if (auto s = string_of(item, key)) out.push_back(std::move(*s));
    }
    return out;
  }

  void allowlist(const toml::node& node, Rule& rule) {
    const auto* table = node.as_table();
    if (!table) return fail(node.source(), "\"allowlist\" must be a table");
    for (auto&& [key, value] : *table) {
      if (key.str() == "patterns") {
        rule.allow_patterns = strings_of(value, "allowlist.patterns");
      } else if (key.str() == "stopwords") {
        rule.stopwords = strings_of(value, "allowlist.stopwords");
      } else {
        fail(key.source(), fmt::format("unknown key \"allowlist.{}\" (expected patterns, stopwords)", key.str()));
      }
    }
  }

  void examples(const toml::node& node, Rule& rule) {
    const auto* table = node.as_table();
    if (!table) return fail(node.source(), "\"examples\" must be a table");
    for (auto&& [key, value] : *table) {
      if (key.str() == "negative") {
        rule.negative = strings_of(value, "examples.negative");
      } else if (key.str() == "positive") {
        const auto* array = value.as_array();
        if (!array) {
          fail(value.source(), "\"examples.positive\" must be an array");
          continue;
        }
        for (const toml::node& item : *array) positive(item, rule);
      } else {
        fail(key.source(), fmt::format("unknown key \"examples.{}\" (expected positive, negative)", key.str()));
      }
    }
  }

  // A positive example is a string, or { text = "...", secret = "..." } naming the capture.
  void positive(const toml::node& item, Rule& rule) {
    if (const auto* s = item.as_string()) {
      rule.positive.push_back({s->get(), std::nullopt});
      return;
    }
    const auto* table = item.as_table();
    if (!table) return fail(item.source(), "a positive example must be a string or { text, secret }");
    RuleExample example;
    bool has_text = false;
    for (auto&& [key, value] : *table) {
      if (key.str() == "text") {
        if (auto s = string_of(value, "text")) example.text = std::move(*s), has_text = true;
      } else if (key.str() == "secret") {
        example.secret = string_of(value, "secret");
      } else {
        fail(key.source(), fmt::format("unknown key \"{}\" in a positive example (expected text, secret)", key.str()));
      }
    }
    if (!has_text) fail(item.source(), "a positive example table needs \"text\"");
    rule.positive.push_back(std::move(example));
  }

  Rule rule(const toml::table& table) {
    Rule rule;
    rule.source = where(name, table.source());
    bool has_id = false, has_pattern = false, has_max = false;
    for (auto&& [key, value] : table) {
      const std::string_view k = key.str();
      if (k == "id") {
        if (auto s = string_of(value, k)) rule.id = std::move(*s), has_id = true;
      } else if (k == "description") {
        if (auto s = string_of(value, k)) rule.description = std::move(*s);
      } else if (k == "pattern") {
        if (auto s = string_of(value, k)) rule.pattern = std::move(*s), has_pattern = true;
      } else if (k == "provider") {
        if (auto s = string_of(value, k)) rule.provider = std::move(*s);
      } else if (k == "validator") {
        auto s = string_of(value, k);
        if (!s) continue;
        if (auto v = validator_named(*s)) rule.validator = *v;
        else fail(value.source(), "\"validator\" must be base62-crc32 (the only check the engine has)");
      } else if (k == "prefilter") {
        if (auto s = string_of(value, k)) rule.prefilter = std::move(*s);
      } else if (k == "keywords") {
        rule.keywords = strings_of(value, k);
      } else if (k == "entropy") {
        const auto v = value.value<double>();  // an integer converts too
        if (!v || *v < 0 || *v > 8) {
          fail(value.source(), "\"entropy\" must be a number of bits per character, 0 to 8");
        } else {
          rule.entropy = *v;
        }
      } else if (k == "severity") {
        auto s = string_of(value, k);
        if (!s) continue;
        if (*s == "low") rule.severity = Severity::low;
        else if (*s == "medium") rule.severity = Severity::medium;
        else if (*s == "high") rule.severity = Severity::high;
        else fail(value.source(), "\"severity\" must be low, medium or high (critical is for verified keys)");
      } else if (k == "max_length") {
        const auto* v = value.as_integer();
        if (!v || v->get() < 1 || static_cast<std::uint64_t>(v->get()) > kMaxRuleLength) {
          fail(value.source(), fmt::format("\"max_length\" must be an integer from 1 to {}", kMaxRuleLength));
        } else {
          rule.max_length = static_cast<std::size_t>(v->get());
          has_max = true;
        }
      } else if (k == "allowlist") {
        allowlist(value, rule);
      } else if (k == "examples") {
        examples(value, rule);
      } else {
        fail(key.source(), fmt::format("unknown key \"{}\" (expected id, description, provider, pattern, prefilter, keywords, "
                                       "entropy, severity, validator, max_length, allowlist, examples)",
                                       k));
      }
    }
    if (!has_id) fail(table.source(), "the rule has no \"id\"");
    if (!has_pattern) fail(table.source(), "the rule has no \"pattern\"");
    if (!has_max) fail(table.source(), "the rule has no \"max_length\": every rule needs a bounded match");
    if (has_id && (rule.id.empty() || rule.id.size() > 64 ||
                   rule.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)) {
      fail(table.source(), "\"id\" must be 1 to 64 characters of a-z, 0-9 and -");
    }
    return rule;
  }
};

}  // namespace

Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& name) {
  if (text.size() > kMaxRuleFileBytes) {
    return Error{Errc::limit, 0, fmt::format("{}: a rule file may hold at most {} bytes", name, kMaxRuleFileBytes)};
  }
  if (toml_nesting_depth(text) > kMaxRuleFileNesting) {
    return Error{Errc::limit, 0,
                 fmt::format("{}: nested more than {} levels deep ('.', '[' and '{{' outside strings); a rule "
                             "file nests 3 deep",
                             name, kMaxRuleFileNesting)};
  }
  toml::parse_result parsed = toml::parse(text, std::string_view(name));
  if (!parsed) {
    // toml++'s descriptions name what was expected; they quote at most a character or a key.
    const toml::parse_error& e = parsed.error();
    return Error{Errc::bad_value, 0, fmt::format("{}: {}", where(name, e.source()), e.description())};
  }
  toml::table root = std::move(parsed).table();
  std::vector<Rule> rules;
  RuleReader reader{name, std::nullopt};
  std::set<std::string> ids;
  for (auto&& [key, value] : root) {
    if (key.str() != "rule") {
      return rule_error(name, key.source(), fmt::format("unknown key \"{}\" (a rule file holds [[rule]] tables)", key.str()));
    }
    const auto* array = value.as_array();
    if (!array || !array->is_array_of_tables()) return rule_error(name, value.source(), "\"rule\" must be [[rule]] tables");
    for (const toml::node& item : *array) {
      Rule rule = reader.rule(*item.as_table());
      if (reader.error) return *reader.error;
      if (!ids.insert(rule.id).second) {
        return rule_error(name, item.source(), fmt::format("duplicate rule id \"{}\"", rule.id));
      }
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

Result<std::vector<Rule>> read_rule_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::io, 0, fmt::format("{}: cannot read the rule file", path)};
  std::string text;
  // Read at most one byte past the cap, so an oversized file is refused without reading it all.
  text.resize(kMaxRuleFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return Error{Errc::io, 0, fmt::format("{}: cannot read the rule file", path)};
  return parse_rule_file(text, path);
}

Result<std::vector<Rule>> builtin_rules() {
  std::vector<Rule> all;
  std::set<std::string> ids;
  for (const BuiltinRuleFile& file : builtin_rule_files()) {
    auto rules = parse_rule_file(file.text, std::string(file.name));
    if (!rules) return rules.error();
    for (Rule& r : *rules) {
      if (!ids.insert(r.id).second) {
        return Error{Errc::bad_value, 0, fmt::format("{}: duplicate rule id \"{}\"", r.source, r.id)};
      }
      all.push_back(std::move(r));
    }
  }
  return all;
}

Result<std::vector<Rule>> load_rules(const std::vector<std::string>& files, bool rules_only) {
  std::vector<Rule> all;
  if (!rules_only) {
    auto builtin = builtin_rules();
    if (!builtin) return builtin.error();
    all = std::move(*builtin);
  }
  for (const std::string& path : files) {
    auto rules = read_rule_file(path);
    if (!rules) return rules.error();
    for (Rule& r : *rules) {
      auto same = std::find_if(all.begin(), all.end(), [&](const Rule& o) { return o.id == r.id; });
      if (same != all.end()) {
        *same = std::move(r);
      } else {
        all.push_back(std::move(r));
      }
    }
  }
  return all;
}

}  // namespace dumpguard::rules
