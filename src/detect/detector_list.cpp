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

// Each detector by the name it reports, in the order a scan runs them (structure detectors come
// first: the hunts read what they harvest). Made only when chosen: the text rules compile their
// database when made. Exactly one of `structure` and `hunt` is set.
using MakeStructure = std::unique_ptr<StructureDetector> (*)(const DetectorSettings& settings);
using MakeHunt = std::unique_ptr<HuntDetector> (*)(const DetectorSettings& settings);
struct Entry {
  const char* name;
  MakeStructure structure = nullptr;
  MakeHunt hunt = nullptr;
};

const Entry kDetectors[] = {
    {"pem", [](const DetectorSettings&) { return make_pem_detector(); }},
    {"der", [](const DetectorSettings&) { return make_der_private_key_detector(); }},
    {"der-base64", [](const DetectorSettings&) { return make_der_base64_detector(); }},
    {"public-keys", [](const DetectorSettings&) { return make_public_key_harvest_detector(); }},
    {"jwt", [](const DetectorSettings&) { return make_jwt_harvest_detector(); }},
    {"registered-secret",
     [](const DetectorSettings& s) -> std::unique_ptr<StructureDetector> {
       if (s.registered_secret.secrets.empty()) return nullptr;
       return make_registered_secret_detector(s.registered_secret);
     }},
    {"openssh", [](const DetectorSettings&) { return make_openssh_detector(); }},
    {"cng", [](const DetectorSettings&) { return make_cng_blob_detector(); }},
    {"capi", [](const DetectorSettings&) { return make_capi_blob_detector(); }},
    {"jwk", [](const DetectorSettings&) { return make_jwk_detector(); }},
    {"text-rules", [](const DetectorSettings& s) { return make_text_rules_detector(s.text_rules); }},
    {"environment", [](const DetectorSettings&) { return make_environment_secrets_detector(); }},
    {"aes-schedule", [](const DetectorSettings& s) { return make_aes_schedule_detector(s.aes_schedule); }},
    {"chacha-state", [](const DetectorSettings&) { return make_chacha_state_detector(); }},
    {"rsa-factor", nullptr, [](const DetectorSettings& s) { return make_rsa_factor_hunt_detector(s.rsa_factor); }},
    {"ec-scalar", nullptr, [](const DetectorSettings& s) { return make_ec_scalar_hunt_detector(s.ec_scalar); }},
    {"edwards-seed", nullptr, [](const DetectorSettings&) { return make_ed25519_seed_hunt_detector(); }},
    {"hmac-key", nullptr, [](const DetectorSettings&) { return make_hmac_key_hunt_detector(); }},
};

template <typename Made>
void keep(std::vector<std::unique_ptr<Made>>& list, const char* name, std::unique_ptr<Made> made) {
  if (!made) return;
  if (made->name() != name) throw std::logic_error("registry: a detector's name differs from its entry");
  list.push_back(std::move(made));
}

}  // namespace

Detectors make_detectors(const DetectorSettings& settings) {
  Detectors d;
  const auto& names = settings.chosen;
  for (const Entry& e : kDetectors) {
    if (!names.empty() && std::find(names.begin(), names.end(), e.name) == names.end()) continue;
    if (e.structure) keep(d.structure, e.name, e.structure(settings));
    if (e.hunt) keep(d.hunts, e.name, e.hunt(settings));
  }
  return d;
}

std::vector<std::string> detector_names() {
  std::vector<std::string> names;
  for (const Entry& e : kDetectors) names.emplace_back(e.name);
  return names;
}

}  // namespace dumpguard
