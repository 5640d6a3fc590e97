#include "detect/detector_list.hpp"

#include "detect/aes_schedule.hpp"
#include "detect/capi_blob.hpp"
#include "detect/chacha_state.hpp"
#include "detect/cng_blob.hpp"
#include "detect/der_base64.hpp"
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
#include "detect/text_rule_detector.hpp"
#include "detect/environment_secrets.hpp"

#include <algorithm>
#include <stdexcept>

namespace dumpguard {

namespace {

// Each detector by the name it reports, in the order a scan runs them. Made only when chosen:
// the text rules compile their database when made.
struct Entry {
  const char* name;
  std::unique_ptr<Detector> (*make)(const ScanOptions& options);
};

const Entry kDetectors[] = {
    {"pem", [](const ScanOptions&) { return make_pem_detector(); }},
    {"der", [](const ScanOptions&) { return make_der_private_key_detector(); }},
    {"der-base64", [](const ScanOptions&) { return make_der_base64_detector(); }},
    {"public-keys", [](const ScanOptions&) { return make_public_key_harvest_detector(); }},
    {"jwt", [](const ScanOptions&) { return make_jwt_harvest_detector(); }},
    {"registered-secret",
     [](const ScanOptions& o) -> std::unique_ptr<Detector> {
       if (o.registered_secrets.empty()) return nullptr;
       return make_registered_secret_detector(o.registered_secrets, o.fingerprint_key);
     }},
    {"openssh", [](const ScanOptions&) { return make_openssh_detector(); }},
    {"cng", [](const ScanOptions&) { return make_cng_blob_detector(); }},
    {"capi", [](const ScanOptions&) { return make_capi_blob_detector(); }},
    {"jwk", [](const ScanOptions&) { return make_jwk_detector(); }},
    {"text-rules",
     [](const ScanOptions& o) { return make_text_rules_detector(engine_of(o.text_rules)); }},
    {"environment", [](const ScanOptions&) { return make_environment_secrets_detector(); }},
    {"aes-schedule", [](const ScanOptions& o) { return make_aes_schedule_detector(o.aes_tolerance); }},
    {"chacha-state", [](const ScanOptions&) { return make_chacha_state_detector(); }},
    {"rsa-factor", [](const ScanOptions& o) { return make_rsa_factor_hunt_detector(o.exhaustive); }},
    {"ec-scalar",
     [](const ScanOptions& o) { return make_ec_scalar_hunt_detector(kIslandBudget, o.exhaustive ? kBlindScalarBudget : 0); }},
    {"edwards-seed", [](const ScanOptions&) { return make_ed25519_seed_hunt_detector(); }},
    {"hmac-key", [](const ScanOptions&) { return make_hmac_key_hunt_detector(); }},
};

}  // namespace

std::vector<std::unique_ptr<Detector>> make_detectors(const ScanOptions& options) {
  std::vector<std::unique_ptr<Detector>> d;
  const auto& names = options.detectors;
  for (const Entry& e : kDetectors) {
    if (!names.empty() && std::find(names.begin(), names.end(), e.name) == names.end()) continue;
    if (auto detector = e.make(options)) {
      if (detector->name() != e.name) throw std::logic_error("registry: a detector's name differs from its entry");
      d.push_back(std::move(detector));
    }
  }
  return d;
}

std::vector<std::string> detector_names() {
  std::vector<std::string> names;
  for (const Entry& e : kDetectors) names.emplace_back(e.name);
  return names;
}

}  // namespace dumpguard
