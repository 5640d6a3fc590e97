// Linked (never run) by the mingw-w64 cross build in make test: the Windows protection files
// compile, and every Windows function they call resolves against mingw's import libraries
// (WerRegisterExcludedMemoryBlock from libkernel32.a, MiniDumpWriteDump from libdbghelp.a).
// It shows the intended use: secret memory, then an in-process minidump that leaves it out.
#include <windows.h>
#include <dbghelp.h>

#include <cstdio>
#include <cstring>

#include "dumpguard/protect.hpp"

int main() {
  dumpguard::SecretBuffer key(32);
  std::memset(key.data(), 0x5a, key.size());  // stands in for a key read straight into it
  dg_protect_status_t status;
  dg_protect_status(&status);
  std::printf("%zu secret bytes, %zu unlocked\n", status.live_bytes, status.unlocked_bytes);

  HANDLE file = CreateFileA("self.dmp", GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return 1;
  dg_minidump_filter filter{};
  MINIDUMP_CALLBACK_INFORMATION callback{dg_minidump_callback, &filter};
  const BOOL ok = MiniDumpWriteDump(GetCurrentProcess(), GetCurrentProcessId(), file,
                                    static_cast<MINIDUMP_TYPE>(MiniDumpWithFullMemory), nullptr, nullptr, &callback);
  CloseHandle(file);
  return ok ? 0 : 1;
}
