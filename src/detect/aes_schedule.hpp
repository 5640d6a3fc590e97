// Detector: expanded AES-128/192/256 key schedules (FIPS-197 5.2), for encryption and for
// the equivalent inverse cipher (5.3.5) in both round orders, in FIPS byte order and as
// little-endian 32-bit words. An exact schedule is its own proof; tolerance allows bit errors.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
struct AesScheduleSettings {
  // How many bits of the stored schedule may differ from an exact schedule (0 = exact only;
  // aeskeyfind's -t).
  unsigned tolerance_bits = 0;
};
std::unique_ptr<StructureDetector> make_aes_schedule_detector(const AesScheduleSettings& settings);
}
