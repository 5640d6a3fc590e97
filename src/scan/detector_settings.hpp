// The one place a scan's options become the detectors' settings: each detector gets its own
// small struct (detect/detector_list.hpp) and never sees the rest of ScanOptions.
#pragma once

#include "detect/detector_list.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {

// The text rules' engine is taken here (the built-in one, or that of --rules), so every
// thread's detectors share it.
DetectorSettings detector_settings(const ScanOptions& options);

}  // namespace dumpguard
