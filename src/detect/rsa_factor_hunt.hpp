// Detector: the RSA factor hunt and key closure. For every RSA modulus known to the scan
// (harvested from the dump), it finds windows of memory that hold a nontrivial factor of
// it, little-endian limb arrays or big-endian bytes, and proves each by division. From the
// factors it derives d, dp, dq and qinv and searches every encoding of all of them exactly.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
struct RsaFactorSettings {
  // scan --exhaustive: every byte offset as a big-endian number and every 4-byte aligned
  // address as little-endian limbs, of each prime length, with no structure prior and no
  // prefilter beyond oddness (a factor of an odd modulus is odd), and every runtime's layout in
  // every dump. Costs a division per window.
  bool exhaustive = false;
};
std::unique_ptr<HuntDetector> make_rsa_factor_hunt_detector(const RsaFactorSettings& settings = {});
}
