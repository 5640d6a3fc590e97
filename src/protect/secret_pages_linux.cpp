// Secret pages on Linux: one private anonymous mapping per allocation,
// [guard][data pages][guard], set up in the only safe order:
//   1. mmap the whole range PROT_NONE: nothing can be written yet;
//   2. madvise(MADV_DONTDUMP) the whole range (guards too: gcore writes PROT_NONE ranges);
//      if that fails, unmap and fail: never hand out memory a core dump would include;
//   3. madvise(MADV_WIPEONFORK) the data pages: children see zeros there (Linux >= 4.14);
//   4. mprotect the data pages read/write: only now can a secret byte be written;
//   5. mlock them; a failure (RLIMIT_MEMLOCK) is reported, not fatal.
// /proc/PID/smaps shows the result as VmFlags "dd" (dontdump), "wf" (wipeonfork), "lo" (locked).
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "protect/secret_pages.hpp"

namespace dumpguard::protect_detail {
namespace {
// mlock through the system call itself: AddressSanitizer intercepts mlock() as a no-op that
// reports success, which would make the status claim pages are locked when they are not.
bool lock_pages(void* p, std::size_t n) { return syscall(SYS_mlock, p, n) == 0; }
void unlock_pages(void* p, std::size_t n) { syscall(SYS_munlock, p, n); }
}  // namespace

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

bool map_secret_pages(std::size_t data_len, Pages& out) noexcept {
  const std::size_t page = page_size();
  const std::size_t total = data_len + 2 * page;
  void* base = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return false;
  auto* bytes = static_cast<std::byte*>(base);
  std::byte* data = bytes + page;
  const auto fail = [&](int err) {
    munmap(base, total);
    errno = err;
    return false;
  };
  if (take_injected_exclusion_failure()) return fail(EINVAL);
  if (madvise(base, total, MADV_DONTDUMP) != 0) return fail(errno);
  const bool wipe_on_fork = madvise(data, data_len, MADV_WIPEONFORK) == 0;
  if (mprotect(data, data_len, PROT_READ | PROT_WRITE) != 0) return fail(errno);
  const bool locked = lock_pages(data, data_len);
  out = Pages{.base = bytes,
              .total = total,
              .data = data,
              .data_len = data_len,
              .locked = locked,
              .wipe_on_fork = wipe_on_fork,
              .lock_error = locked ? 0 : errno};
  return true;
}

void unmap_secret_pages(Pages& pages) noexcept {
  if (pages.locked) unlock_pages(pages.data, pages.data_len);
  munmap(pages.base, pages.total);
  pages = Pages{};
}

void wipe(void* p, std::size_t n) noexcept { explicit_bzero(p, n); }

void print_notice(const char* message) noexcept {
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
}

}  // namespace dumpguard::protect_detail
