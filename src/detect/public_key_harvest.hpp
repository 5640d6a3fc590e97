// Detector: public keys in DER (X.509 certificates, SubjectPublicKeyInfo, PKCS#1
// RSAPublicKey). Not findings: they feed the hunts for their private halves.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_public_key_harvest_detector();
}
