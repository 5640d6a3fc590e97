#include "rules/rule_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "rules/engine.hpp"

namespace dumpguard::rules {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Hit {
  std::string secret;
  bool span_exact = true;  // UTF-16LE: the mapped bytes hold exactly the secret's characters
};

std::vector<Hit> matches(RuleScanner& scanner, const std::string& text, TextEncoding encoding) {
  std::vector<Hit> out;
  if (encoding == TextEncoding::ascii) {
    scanner.scan_ascii(std::as_bytes(std::span(text.data(), text.size())), [&](const TextMatch& m) {
      out.push_back({std::string(m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin)), true});
    });
    return out;
  }
  // The example as UTF-16LE between two non-text code units, as it would sit in memory.
  std::string wide = "\xff\xff";
  for (char c : text) wide += {c, '\0'};
  wide += "\xff\xff";
  scanner.scan_utf16le(std::as_bytes(std::span(wide.data(), wide.size())), [&](const TextMatch& m) {
    Hit h{std::string(m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin)), true};
    std::string expected;
    for (char c : h.secret) expected += {c, '\0'};
    h.span_exact = m.offset + m.length <= wide.size() && wide.compare(m.offset, m.length, expected) == 0;
    out.push_back(std::move(h));
  });
  return out;
}

// Whether every character of the example is one the UTF-16LE pass narrows (printable ASCII,
// tab, CR, LF), and the example is long enough to be a run it searches.
bool utf16_searchable(const std::string& text) {
  return text.size() >= kMinUtf16Run && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
         });
}

}  // namespace

bool anchored(const Rule& rule) {
  // The pattern with escapes of punctuation removed, so "ya29\\." holds the keyword "ya29.".
  std::string pattern;
  for (std::size_t i = 0; i < rule.pattern.size(); ++i) {
    const char c = rule.pattern[i];
    if (c == '\\' && i + 1 < rule.pattern.size() && std::ispunct(static_cast<unsigned char>(rule.pattern[i + 1]))) continue;
    pattern += c;
  }
  pattern = lower(pattern);
  return std::any_of(rule.keywords.begin(), rule.keywords.end(), [&](const std::string& k) {
    return k.size() >= 2 && pattern.find(lower(k)) != std::string::npos;
  });
}

CheckReport check_rules(const std::vector<Rule>& rules) {
  CheckReport report;
  report.rules = rules.size();
  for (const Rule& rule : rules) {
    const std::string who = fmt::format("{}: rule {}", rule.source, rule.id);
    bool failed = false;
    auto error = [&](std::string text) {
      report.messages.push_back({true, fmt::format("{}: {}", who, text)});
      failed = true;
    };
    auto engine = RuleEngine::compile({rule});
    if (!engine) {
      report.messages.push_back({true, engine.error().message});
      ++report.failed_rules;
      continue;
    }
    if (!anchored(rule)) {
      report.messages.push_back(
          {false, fmt::format("{}: no keyword of 2 or more characters appears literally in the pattern; an "
                              "unanchored rule costs 10-30x more to scan",
                              who)});
    }
    if (rule.positive.empty() || rule.negative.empty()) error("needs at least one positive and one negative example");
    RuleScanner scanner(*engine);
    for (std::size_t i = 0; i < rule.positive.size(); ++i) {
      const RuleExample& example = rule.positive[i];
      ++report.examples;
      for (TextEncoding encoding : {TextEncoding::ascii, TextEncoding::utf16le}) {
        if (encoding == TextEncoding::utf16le && !utf16_searchable(example.text)) continue;
        const auto found = matches(scanner, example.text, encoding);
        if (found.empty()) {
          error(fmt::format("positive example {} does not match in {}", i + 1, to_string(encoding)));
          continue;
        }
        if (std::any_of(found.begin(), found.end(), [](const Hit& h) { return !h.span_exact; })) {
          error(fmt::format("positive example {}: a {} match maps to the wrong bytes", i + 1, to_string(encoding)));
        }
        if (example.secret && std::none_of(found.begin(), found.end(), [&](const Hit& h) { return h.secret == *example.secret; })) {
          error(fmt::format("positive example {} matches in {}, but does not capture the secret it names", i + 1,
                            to_string(encoding)));
        }
        // A rule with a checksum shows examples that pass it: a made-up token of the right
        // shape would be reported, but unverified, and would teach nothing about the format.
        if (rule.validator != Validator::none && encoding == TextEncoding::ascii &&
            std::none_of(found.begin(), found.end(), [&](const Hit& h) { return check(rule.validator, h.secret); })) {
          error(fmt::format("positive example {} fails the rule's {} check", i + 1, to_string(rule.validator)));
        }
      }
    }
    for (std::size_t i = 0; i < rule.negative.size(); ++i) {
      ++report.examples;
      for (TextEncoding encoding : {TextEncoding::ascii, TextEncoding::utf16le}) {
        if (!matches(scanner, rule.negative[i], encoding).empty()) {
          error(fmt::format("negative example {} matches in {}", i + 1, to_string(encoding)));
        }
      }
    }
    if (failed) ++report.failed_rules;
  }
  // Each rule compiles alone; together they must compile into one database too.
  if (report.failed_rules == 0) {
    auto all = RuleEngine::compile(rules);
    if (!all) {
      report.messages.push_back({true, all.error().message});
      ++report.failed_rules;
    }
  }
  return report;
}

}  // namespace dumpguard::rules
