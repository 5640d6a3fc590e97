#include "detect/text_rule_detector.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "crypto/digest.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard {

namespace {

bool name_char(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

class TextRuleDetector final : public StructureDetector {
 public:
  explicit TextRuleDetector(std::shared_ptr<const rules::RuleEngine> engine) : engine_(engine), scanner_(std::move(engine)) {}

  std::string_view name() const override { return kTextRulesDetector; }
  // A match ends within max_length characters of its start, and variable_name() looks 256
  // characters further back; UTF-16LE doubles both. The lookahead is rules' \\b and separators.
  Reach reach() const override {
    const std::size_t chars = engine_->max_length() + 256 + 16;
    return {2 * chars, 2 * chars};
  }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) override {
    scanner_.scan(area.bytes, [&](const rules::TextMatch& m) {
      const rules::Rule& rule = engine_->rules()[m.rule];
      const std::string_view secret = m.subject.substr(m.secret_begin, m.secret_end - m.secret_begin);
      Finding f = finding_at(context, area, m.offset, m.length, kTextRulesDetector, rule.id, rules::to_string(m.encoding));
      // The characters, not the bytes: an ASCII and a UTF-16LE copy are one secret.
      f.key = keyed_fingerprint(context.fingerprint_key,
                                {reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()});
      // A checksum that holds is a proof (rules/validator.hpp); one that fails leaves the match
      // reported at the rule's severity: a token copied with a typo still grants what it did.
      const bool checked = rules::check(rule.validator, secret);
      f.severity = checked ? Severity::critical : rule.severity;
      f.verified = checked;
      const std::string_view variable = variable_name(m.subject, m.secret_begin);
      f.proof = fmt::format("text rule {} ({}){}: a {}-character secret{}{}; not checked with its issuer", rule.id,
                            rule.description,
                            variable.empty() ? "" : fmt::format(" in the value of {}", variable), secret.size(),
                            rule.entropy ? fmt::format(" with entropy at least {:.1f} bits per character", *rule.entropy)
                                         : "",
                            checked                                        ? fmt::format(", {}", rules::proof_words(rule.validator))
                            : rule.validator != rules::Validator::none ? fmt::format(", but its {} check fails",
                                                                                      rules::to_string(rule.validator))
                                                                         : "");
      const auto* chars = reinterpret_cast<const std::uint8_t*>(secret.data());
      sink.secret(secret_of(f, KnownSecret::Shape::text, {chars, secret.size()}));
      // A runtime that splits a JWT keeps its signature apart: that segment alone is a copy too.
      if (const std::size_t dot = secret.rfind('.'); rule.id == "jwt" && dot != std::string_view::npos) {
        KnownSecret signature =
            secret_of(f, KnownSecret::Shape::text, {chars + dot + 1, secret.size() - dot - 1}, 0, "jwt-signature");
        signature.proof = "the signature segment of a JWT found whole elsewhere in the dump";
        sink.secret(std::move(signature));
      }
      sink.finding(std::move(f));
    });
    if (scanner_.truncated() && !limited_) {
      limited_ = true;
      sink.limit(kTextRulesDetector, "more than a million candidate runs in one 8 MiB chunk: some were not checked");
    }
    if (scanner_.stopped_windows() > 0 && !stopped_) {
      stopped_ = true;
      sink.limit(kTextRulesDetector, "PCRE2 stopped at its backtracking limit in a candidate window: it was not checked");
    }
  }

 private:
  std::shared_ptr<const rules::RuleEngine> engine_;
  rules::RuleScanner scanner_;
  bool limited_ = false;
  bool stopped_ = false;
};

}  // namespace

std::string_view variable_name(std::string_view subject, std::size_t at) {
  constexpr std::size_t kReach = 256;
  std::size_t begin = at;
  while (begin > 0 && at - begin < kReach) {
    const unsigned char c = static_cast<unsigned char>(subject[begin - 1]);
    if (c < 0x20 || c >= 0x7f) break;
    --begin;
  }
  if (begin > 0 && at - begin >= kReach) return {};  // no start of string in reach
  std::size_t end = begin;
  while (end < at && name_char(subject[end], end == begin)) ++end;
  if (end == begin || end >= at || subject[end] != '=') return {};
  return subject.substr(begin, end - begin);
}

std::unique_ptr<StructureDetector> make_text_rules_detector(const TextRuleSettings& settings) {
  return std::make_unique<TextRuleDetector>(settings.engine);
}


}  // namespace dumpguard
