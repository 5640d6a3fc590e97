// Allocates secret memory through the installed protection library and says whether it is
// protected (it is, unless the kernel refuses MADV_DONTDUMP).
#include <cstdio>

#include <dumpguard/protect.hpp>

int main() {
  dumpguard::SecretBuffer key(32);
  std::printf("%s\n", dumpguard::is_protected(key.data(), key.size()) ? "protected" : "unprotected");
  return 0;
}
