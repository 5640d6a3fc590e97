// Detector: the Ed25519 / X25519 seed hunt. libsodium, Go's crypto/ed25519 and OpenSSH keep a
// private key as seed‖public key (64 bytes), so for every Edwards public key the scan knows,
// each copy of it in memory is checked for a seed right before it (the seed must give that
// public key). Seeds kept apart (OpenSSL) are sought at islands of random bytes, at most
// island_budget of them (else it reports a limit). Every found seed is then searched exactly.
#pragma once
#include <memory>
#include "detect/detector.hpp"
#include "detect/limb_candidates.hpp"
namespace dumpguard {
std::unique_ptr<HuntDetector> make_ed25519_seed_hunt_detector(std::size_t island_budget = kIslandBudget);
}
