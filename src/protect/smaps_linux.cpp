#include "protect/smaps.hpp"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace dumpguard::protect_detail {

std::string vm_flags_of(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return {};
  char line[512];
  bool in = false;
  std::string flags;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::uintmax_t s = 0, e = 0;
    char perms[5] = {};
    if (std::sscanf(line, "%jx-%jx %4s", &s, &e, perms) == 3) {
      in = a >= s && a < e;
      continue;
    }
    if (in && std::strncmp(line, "VmFlags:", 8) == 0) {
      flags = line + 8;
      while (!flags.empty() && (flags.back() == '\n' || flags.back() == ' ')) flags.pop_back();
      flags += ' ';
      break;
    }
  }
  std::fclose(f);
  return flags;
}

}  // namespace dumpguard::protect_detail
