// Detector: PEM blocks (RFC 7468). Private-key blocks of every label are decoded and
// checked; encrypted ones are reported as encrypted; certificate and public-key blocks
// are harvested for the hunts.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_pem_detector();
}
