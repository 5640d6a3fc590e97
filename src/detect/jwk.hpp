// Detector: JSON Web Keys (RFC 7517) in memory, alone or inside a JWK Set: RSA and EC
// (RFC 7518 6.2, 6.3) and OKP Ed25519/X25519 (RFC 8037). Keys with "d" are checked as
// private keys; keys without it are harvested as public keys for the hunts.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_jwk_detector();
}
