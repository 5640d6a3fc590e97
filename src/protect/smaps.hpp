// What the kernel says about a mapping: the VmFlags line of /proc/self/smaps ("dd" dontdump,
// "wf" wipeonfork, "lo" locked). The library checks its own exclusion with it, and the tests
// and test programs read the same flags rather than trusting the library's word.
#pragma once
#include <string>
#include <string_view>

namespace dumpguard::protect_detail {

// The VmFlags of the smaps entry that holds `address`, as " f1 f2 ... " (a space on each side
// of every flag), or "" when no entry holds it or smaps cannot be read.
std::string vm_flags_of(const void* address);

// Whether `flags` (as vm_flags_of gives them) hold `flag`.
inline bool has_vm_flag(std::string_view flags, std::string_view flag) {
  // No string concatenation here: GCC 12 -O3 warns falsely (-Wrestrict) on `" " + s + " "`.
  for (std::size_t at = flags.find(flag); at != std::string_view::npos; at = flags.find(flag, at + 1)) {
    if (at > 0 && flags[at - 1] == ' ' && at + flag.size() < flags.size() && flags[at + flag.size()] == ' ') return true;
  }
  return false;
}

}  // namespace dumpguard::protect_detail
