#include "scan/detector_settings.hpp"

#include <algorithm>

#include "rules/text_rules.hpp"

namespace dumpguard {

DetectorSettings detector_settings(const ScanOptions& options) {
  DetectorSettings s;
  s.chosen = options.detectors;
  s.aes_schedule.tolerance_bits = options.aes_tolerance;
  s.rsa_factor.exhaustive = options.exhaustive;
  s.ec_scalar.exhaustive = options.exhaustive;
  s.ec_scalar.blind_budget = options.exhaustive ? kBlindScalarBudget : kDefaultBlindScalarBudget;
  s.registered_secret.secrets = options.registered_secrets;
  s.registered_secret.fingerprint_key = options.fingerprint_key;
  // The built-in rules are loaded only for a scan that runs them.
  const auto& chosen = options.detectors;
  if (chosen.empty() || std::find(chosen.begin(), chosen.end(), kTextRulesDetector) != chosen.end()) {
    s.text_rules.engine = engine_of(options.text_rules);
  }
  return s;
}

}  // namespace dumpguard
