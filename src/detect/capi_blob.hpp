// Detector: legacy CryptoAPI RSA key blobs (CryptExportKey): PRIVATEKEYBLOB, checked, and
// PUBLICKEYBLOB, harvested, with or without their BLOBHEADER, since CSPs keep the bare
// RSAPUBKEY ("RSA2"/"RSA1") and numbers in memory too.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_capi_blob_detector();
}
