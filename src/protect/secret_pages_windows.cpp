// Secret pages on Windows: one VirtualAlloc reservation per allocation,
// [guard][data pages][guard], set up in the same order as on Linux:
//   1. reserve the whole range (reserved pages are never in a dump) and commit the data
//      pages PAGE_NOACCESS: nothing can be written yet;
//   2. WerRegisterExcludedMemoryBlock(data pages): Windows Error Reporting leaves them out of
//      the dumps it writes; if that fails, release everything and fail;
//   3. VirtualProtect the data pages PAGE_READWRITE: only now can a secret byte be written;
//   4. VirtualLock them; a failure (the working-set quota) is reported, not fatal.
// Trap: WER's exclusion list is a size feature for WER's own reports, not a security boundary.
// Any other dump writer (MiniDumpWriteDump from a debugger, procdump, Task Manager, a full
// kernel dump) ignores it: use dg_minidump_callback in your own crash handler
// (minidump_callback_windows.cpp), and see docs/protect.md for what no callback can help.
// Built only by the mingw-w64 cross compile in make test; not run there.
#include <windows.h>

#include <cerrno>
#include <cstdio>

#include "dumpguard/protect.hpp"
#include "protect/secret_pages.hpp"

// mingw-w64's <werapi.h> does not compile on its own and does not declare these, but its
// libkernel32.a exports them (Windows 10: kernel32.dll). Signatures from the Windows SDK's werapi.h.
extern "C" {
__declspec(dllimport) HRESULT WINAPI WerRegisterExcludedMemoryBlock(const void* address, DWORD size);
__declspec(dllimport) HRESULT WINAPI WerUnregisterExcludedMemoryBlock(const void* address);
}

namespace dumpguard::protect_detail {

std::size_t page_size() noexcept {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwPageSize;
}

bool map_secret_pages(std::size_t data_len, Pages& out) noexcept {
  const std::size_t page = page_size();
  if (data_len > MAXDWORD) {
    errno = ENOMEM;
    return false;
  }
  const std::size_t total = data_len + 2 * page;
  void* base = VirtualAlloc(nullptr, total, MEM_RESERVE, PAGE_NOACCESS);
  if (base == nullptr) {
    errno = ENOMEM;
    return false;
  }
  auto* bytes = static_cast<std::byte*>(base);
  std::byte* data = bytes + page;
  const auto fail = [&](int err) {
    VirtualFree(base, 0, MEM_RELEASE);
    errno = err;
    return false;
  };
  if (VirtualAlloc(data, data_len, MEM_COMMIT, PAGE_NOACCESS) == nullptr) return fail(ENOMEM);
  if (take_injected_exclusion_failure()) return fail(EINVAL);
  if (FAILED(WerRegisterExcludedMemoryBlock(data, static_cast<DWORD>(data_len)))) return fail(EINVAL);
  DWORD old = 0;
  if (!VirtualProtect(data, data_len, PAGE_READWRITE, &old)) {
    WerUnregisterExcludedMemoryBlock(data);
    return fail(EACCES);
  }
  const bool locked = VirtualLock(data, data_len) != 0;
  out = Pages{.base = bytes,
              .total = total,
              .data = data,
              .data_len = data_len,
              .locked = locked,
              .wipe_on_fork = true,  // Windows has no fork
              .lock_error = locked ? 0 : static_cast<int>(GetLastError())};
  return true;
}

void unmap_secret_pages(Pages& pages) noexcept {
  WerUnregisterExcludedMemoryBlock(pages.data);
  if (pages.locked) VirtualUnlock(pages.data, pages.data_len);
  VirtualFree(pages.base, 0, MEM_RELEASE);
  pages = Pages{};
}

void wipe(void* p, std::size_t n) noexcept { SecureZeroMemory(p, n); }

void print_notice(const char* message) noexcept {
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
}

}  // namespace dumpguard::protect_detail

// OpenSSL's secure heap is mmap-based and Linux-only in OpenSSL 3.0 (crypto/mem_sec.c has no
// Windows implementation): refuse, so no caller believes its keys are protected.
namespace dumpguard {
bool openssl_secure_heap_init(std::size_t, std::size_t, std::string* why) {
  if (why != nullptr) *why = "OpenSSL has no secure heap on Windows";
  return false;
}
}  // namespace dumpguard
extern "C" int dg_openssl_secure_heap_init(size_t, size_t) { return 0; }
