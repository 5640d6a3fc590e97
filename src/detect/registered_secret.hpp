// Detector: secrets the user registered (`dumpguard fingerprint`, `--fingerprints`).
// Every byte offset is a candidate. The keyed rolling hash of the first min(length, 16) bytes
// prefilters it (so one pass serves every form of every secret of at least 16 bytes), and the
// HMAC of the whole form confirms it. The detector never holds a secret, only its fingerprints.
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "crypto/secret_fingerprint.hpp"
#include "detect/detector.hpp"

namespace dumpguard {
struct RegisteredSecretSettings {
  std::vector<RegisteredSecret> secrets;      // none: the detector is not made
  std::vector<std::uint8_t> fingerprint_key;  // the key their fingerprints were made with
};
std::unique_ptr<StructureDetector> make_registered_secret_detector(const RegisteredSecretSettings& settings);
}
