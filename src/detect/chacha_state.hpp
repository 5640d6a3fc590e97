// Detector: ChaCha20 and Salsa20 cipher states (RFC 8439 2.3; Bernstein, "Salsa20
// specification" 4 and 9), found by the "expand 32-byte k" constant around a 32-byte key.
// There is no mathematical check of the key, so findings are unverified (severity high).
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_chacha_state_detector();
}
