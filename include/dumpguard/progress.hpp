// Progress of a long run (a scan, a redaction): the library reports how far it is, and the
// caller decides whether and how to show it (the CLI draws a bar on a terminal). The library
// never prints. A report says nothing about the dump's content: stage, step, byte counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace dumpguard {

struct Progress {
  std::string_view stage;   // "scan", "hash", "write", "verify"
  std::string_view step;    // what runs now within the stage (a detector's name), or empty
  std::size_t pass = 0;     // a scan makes one pass over the dump per detector
  std::size_t passes = 1;
  std::uint64_t done = 0;   // bytes of this pass done
  std::uint64_t total = 0;  // bytes of this pass

  // How far the whole stage is, from 0 to 1.
  double fraction() const {
    const double within = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    return passes == 0 ? 1.0 : (static_cast<double>(pass) + within) / static_cast<double>(passes);
  }
};

// Called often (after each region of each pass, each piece written); a caller that draws
// throttles itself. Empty: nobody is listening.
using ProgressCallback = std::function<void(const Progress&)>;

}  // namespace dumpguard
