// Installing the core handler: the kernel's core_pattern line (at most 127 bytes, so it carries
// the binary, the config file and the specifiers, nothing else), a sysctl.d drop-in so the line
// survives a reboot, and the handler that was there before, kept beside the config file so that
// uninstalling restores it exactly.
#pragma once
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

struct CorePatternPlaces {
  std::string proc_kernel = "/proc/sys/kernel";  // core_pattern and core_pipe_limit
  std::string sysctl_file = "/etc/sysctl.d/60-dumpguard-core-handler.conf";
  std::string previous_file;                     // CONFIG.previous
};

// "|BINARY core-handler --config CONFIG -- %P %u %g %s %t %c %h %e %d" and " %F" where the kernel
// has it (6.16 and later); an error when it would not fit in core_pattern.
Result<std::string> core_pattern_line(const std::string& binary, const std::string& config);

// Writes core_pattern and core_pipe_limit, and the drop-in with both. The values there before are
// kept in places.previous_file unless that file already holds them (a second install).
Status install_core_pattern(const std::string& line, unsigned pipe_limit, const CorePatternPlaces& places);

// Writes back the values kept at install, byte for byte, and removes the drop-in and the kept
// file. Refused when core_pattern is no longer dumpguard's (someone installed another handler
// since): that handler is left alone.
Status uninstall_core_pattern(const CorePatternPlaces& places);

}  // namespace dumpguard
