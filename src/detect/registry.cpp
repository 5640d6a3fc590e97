#include "detect/registry.hpp"

#include "detect/aes_schedule.hpp"
#include "detect/capi_blob.hpp"
#include "detect/chacha_state.hpp"
#include "detect/cng_blob.hpp"
#include "detect/der_private_key.hpp"
#include "detect/ec_scalar_hunt.hpp"
#include "detect/hmac_key_hunt.hpp"
#include "detect/jwt_harvest.hpp"
#include "detect/ed25519_seed_hunt.hpp"
#include "detect/jwk.hpp"
#include "detect/openssh.hpp"
#include "detect/pem.hpp"
#include "detect/registered_secret.hpp"
#include "detect/public_key_harvest.hpp"
#include "detect/rsa_factor_hunt.hpp"
#include "detect/text_rules.hpp"
#include "detect/environment_secrets.hpp"

#include <algorithm>

namespace dumpguard {

namespace {

std::vector<std::unique_ptr<Detector>> every_detector(const ScanOptions& options) {
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(make_pem_detector());
  d.push_back(make_der_private_key_detector());
  d.push_back(make_public_key_harvest_detector());
  d.push_back(make_jwt_harvest_detector());
  if (!options.registered_secrets.empty()) d.push_back(make_registered_secret_detector(options.registered_secrets, options.fingerprint_key));
  d.push_back(make_openssh_detector());
  d.push_back(make_cng_blob_detector());
  d.push_back(make_capi_blob_detector());
  d.push_back(make_jwk_detector());
  d.push_back(make_text_rules_detector(options.text_rules ? options.text_rules : builtin_rule_engine()));
  d.push_back(make_environment_secrets_detector());
  d.push_back(make_aes_schedule_detector(options.aes_tolerance));
  d.push_back(make_chacha_state_detector());
  d.push_back(make_rsa_factor_hunt_detector(options.exhaustive));
  d.push_back(make_ec_scalar_hunt_detector());
  d.push_back(make_ed25519_seed_hunt_detector());
  d.push_back(make_hmac_key_hunt_detector());
  return d;
}

}  // namespace

std::vector<std::unique_ptr<Detector>> make_detectors(const ScanOptions& options) {
  std::vector<std::unique_ptr<Detector>> d = every_detector(options);
  if (options.detectors.empty()) return d;
  std::vector<std::unique_ptr<Detector>> chosen;
  for (auto& detector : d) {
    const auto& names = options.detectors;
    if (std::find(names.begin(), names.end(), detector->name()) != names.end()) chosen.push_back(std::move(detector));
  }
  return chosen;
}

std::vector<std::string> detector_names() {
  ScanOptions options;
  options.registered_secrets.push_back({});  // so that registered-secret is listed too
  std::vector<std::string> names;
  for (const auto& detector : every_detector(options)) names.emplace_back(detector->name());
  return names;
}

}  // namespace dumpguard
