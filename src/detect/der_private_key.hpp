// Detector: DER private keys at any byte offset (PKCS#1, PKCS#8, SEC1), each checked
// against its public half (crypto/private_key.hpp).
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_der_private_key_detector();
}
