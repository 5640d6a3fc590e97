// The list of detectors a scan runs, and the settings they are made with. Adding a detector
// touches this list and its own file.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "detect/aes_schedule.hpp"
#include "detect/detector.hpp"
#include "detect/ec_scalar_hunt.hpp"
#include "detect/registered_secret.hpp"
#include "detect/rsa_factor_hunt.hpp"
#include "detect/text_rule_detector.hpp"

namespace dumpguard {

// What the detectors that take settings are made with, and which detectors run. The scan
// builds it from its options in one place (scan/detector_settings.hpp).
struct DetectorSettings {
  // Their names, as detector_names() lists them; empty: all.
  std::vector<std::string> chosen;
  AesScheduleSettings aes_schedule;
  RsaFactorSettings rsa_factor;
  EcScalarSettings ec_scalar;
  RegisteredSecretSettings registered_secret;
  TextRuleSettings text_rules;
};

// Each kind in the order a scan runs them: every structure detector, then every hunt.
struct Detectors {
  std::vector<std::unique_ptr<StructureDetector>> structure;
  std::vector<std::unique_ptr<HuntDetector>> hunts;
};
Detectors make_detectors(const DetectorSettings& settings);

// Every detector's name, in the order a scan runs them (the library's users find it in
// dumpguard/scan.hpp, for ScanOptions::detectors).
std::vector<std::string> detector_names();

}  // namespace dumpguard
