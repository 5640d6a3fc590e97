// Who crashed, as the kernel tells the core handler: the core_pattern specifiers, given on the
// handler's command line in a fixed order (core(5)), and what follows from them: the name the
// stored core gets (systemd-coredump's, so coredumpctl-style tooling and people find it) and its
// extended attributes (user.coredump.*, as systemd-coredump sets them).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

// The order the installed line passes them in: %P %u %g %s %t %c %h %e %d, then %F where the
// kernel has it (6.16 and later).
inline constexpr char kSpecifierOrder[] = "Pugstched";
inline constexpr std::size_t kSpecifierCount = 9;

struct CrashInfo {
  std::uint64_t pid = 0;        // %P: in the initial PID namespace
  std::uint64_t uid = 0;        // %u
  std::uint64_t gid = 0;        // %g
  std::uint64_t signal = 0;     // %s
  std::uint64_t time = 0;       // %t: seconds since the epoch
  std::uint64_t core_limit = 0; // %c: RLIMIT_CORE; the maximum means unlimited
  std::string host;             // %h
  std::string comm;             // %e: at most 15 bytes, chosen by the process
  std::uint64_t dump_mode = 0;  // %d
  int pidfd = -1;               // %F: a descriptor for the process, or -1
  std::string exe;              // /proc/PID/exe, read while the process still exists; "" if gone
  std::string boot_id;          // 32 hex digits
  // The arguments as the kernel gave them, by specifier letter, for the next handler.
  std::map<char, std::string> given;
};

// Reads the specifiers (9, or 10 with %F). Errors name the argument and what it should be.
Result<CrashInfo> parse_crash_info(const std::vector<std::string>& args);

// "core.COMM.UID.BOOTID.PID.USEC" with COMM escaped as systemd-coredump does (xescape: '.',
// '/', '\', blanks and bytes outside printable ASCII become \xNN), so no name leaves its
// directory and none is hidden.
std::string stored_core_name(const CrashInfo& crash);

// user.coredump.{pid,uid,gid,signal,timestamp,rlimit,hostname,comm,exe} and their values.
std::vector<std::pair<std::string, std::string>> coredump_xattrs(const CrashInfo& crash);

// `word` with each %X of the kernel's replaced by the value the handler was given (%% is %):
// the next handler's arguments as the kernel would have passed them.
std::string substitute_specifiers(const std::string& word, const CrashInfo& crash);

}  // namespace dumpguard
