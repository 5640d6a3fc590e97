#include "gate/release_policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crypto/public_key_der.hpp"
#include "user_files/public_key_files.hpp"

namespace dumpguard {

Result<GatePolicy> make_gate_policy(const GateConfig& config) {
  GatePolicy policy;
  policy.actions = config.actions;
  policy.default_action = config.default_action.value_or("redact");
  policy.max_size = config.max_size.value_or(kDefaultGateMaxSize);
  if (config.formats) policy.formats = std::set<std::string>(config.formats->begin(), config.formats->end());
  policy.drop = config.drop;
  for (const GateKeyRule& rule : config.keys) {
    if (!rule.fingerprint.empty()) {
      policy.keys[rule.fingerprint] = {rule.action, "fingerprint"};
      continue;
    }
    DG_TRY(std::vector<SuppliedKey> supplied, load_public_key_file(rule.pubkey));
    for (const SuppliedKey& key : supplied) {
      auto parsed = parse_spki_der(key.spki_der);
      if (!parsed) return Error{Errc::bad_value, 0, fmt::format("{}: a public key dumpguard cannot fingerprint", rule.pubkey)};
      policy.keys[parsed->key.fingerprint] = {rule.action, rule.pubkey};
    }
    policy.pubkey_files.push_back(rule.pubkey);
  }
  return policy;
}

std::optional<std::string> refuse_by_size(const GatePolicy& policy, std::uint64_t size) {
  if (policy.max_size == 0 || size <= policy.max_size) return std::nullopt;
  return fmt::format("{} bytes, more than the largest dump accepted ({} bytes, gate.max-size)", size, policy.max_size);
}

std::optional<std::string> refuse_by_format(const GatePolicy& policy, const Dump& dump) {
  const std::string format = to_string(dump.model.format);
  if (!policy.formats || policy.formats->count(format) > 0) return std::nullopt;
  return fmt::format("format {} is not among the formats allowed (gate.formats)", format);
}

PolicyVerdict apply_policy(const GatePolicy& policy, const ScanReport& report) {
  PolicyVerdict verdict;
  std::set<std::string> kinds;
  for (const Finding& f : report.findings) {
    const auto rule = policy.actions.find(f.kind);
    const std::string& action = rule == policy.actions.end() ? policy.default_action : rule->second;
    if (action == "quarantine") kinds.insert(f.kind);
  }
  // A listed key is present when a finding belongs to it, or when the scan answered "present"
  // for it as a supplied key or registered secret.
  std::set<std::string> present;
  for (const KeyGroup& k : report.keys) present.insert(k.fingerprint);
  for (const auto* list : {&report.supplied, &report.registered}) {
    for (const SuppliedKeyStatus& s : *list) {
      if (s.status == Presence::present) present.insert(s.fingerprint);
    }
  }
  std::vector<std::string> named;
  for (const std::string& fp : present) {
    const auto rule = policy.keys.find(fp);
    if (rule != policy.keys.end() && rule->second.action == "quarantine") {
      verdict.keys.push_back(fp);
      named.push_back(fmt::format("{} (from {})", fp, rule->second.source));
    }
  }
  verdict.kinds.assign(kinds.begin(), kinds.end());
  verdict.quarantine = !verdict.kinds.empty() || !verdict.keys.empty();
  if (!verdict.keys.empty()) {
    verdict.message = fmt::format("a key whose presence quarantines the dump is present: {}", fmt::join(named, ", "));
  } else if (!verdict.kinds.empty()) {
    verdict.message = fmt::format("findings of kinds the policy quarantines: {}", fmt::join(verdict.kinds, ", "));
  }
  return verdict;
}

}  // namespace dumpguard
