// Detector: Windows CNG key blobs as BCryptExportKey writes them and CNG keeps them in
// memory: BCRYPT_RSAKEY_BLOB (RSA1 public, RSA2 private, RSA3 full private) and
// BCRYPT_ECCKEY_BLOB (ECDSA and ECDH on P-256/384/521). Private blobs are checked; public
// ones are harvested for the hunts.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_cng_blob_detector();
}
