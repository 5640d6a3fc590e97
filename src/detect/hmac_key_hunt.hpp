// Detector: the HMAC key hunt. For every HMAC-signed JWT the scan knows (found in the dump,
// or supplied with --token), candidate keys are tried until the token's signature verifies
// under one: that is the proof. Every copy of a found key is then searched exactly.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<HuntDetector> make_hmac_key_hunt_detector();
}
