// The list of detectors a scan runs. Adding a detector touches this list and its own file.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "detect/detector.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {
// The detectors a scan with these options runs, in order (ScanOptions::detectors filters them).
std::vector<std::unique_ptr<Detector>> make_detectors(const ScanOptions& options);
}
