// The readers' cap on how many regions a model holds (kMaxRegions, dumpguard/dump.hpp), and
// the one warning a reader adds when it reaches it.
#pragma once

#include <string>

#include "dumpguard/dump.hpp"

namespace dumpguard {

// room() is true while `regions` < kMaxRegions; the first time it
// is not, `warning` gets the one message the reader adds.
struct RegionCap {
  bool reached = false;
  bool room(std::size_t regions, std::string& warning) {
    if (regions < kMaxRegions) return true;
    if (!reached) {
      reached = true;
      warning = "more than " + std::to_string(kMaxRegions) +
                " regions: the rest are not modelled, and their bytes are scanned as unaccounted bytes";
    }
    return false;
  }
};

}  // namespace dumpguard
