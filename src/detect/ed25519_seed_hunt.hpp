// Detector: the Ed25519 / X25519 seed hunt. libsodium, Go's crypto/ed25519 and OpenSSH keep a
// private key as seed‖public key (64 bytes), so for every Edwards public key the scan knows,
// each copy of it in memory is checked for a seed right before it (the seed must give that
// public key); every found seed is then searched exactly everywhere.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<Detector> make_ed25519_seed_hunt_detector();
}
