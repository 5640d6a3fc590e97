// OpenSSL's secure heap under the protection library's exclusion (Linux).
//
// CRYPTO_secure_malloc_init(size, min_size) mmaps one range, [guard][arena][guard], and marks
// the arena MADV_DONTDUMP and mlock'ed itself (OpenSSL 3.0, crypto/mem_sec.c), but reports a
// failure of either only as "partly initialised" (2), and never sets MADV_WIPEONFORK. OpenSSL
// has no call that returns the arena's address, so we find it:
//   1. read /proc/self/maps before the init, and after it;
//   2. take one byte from the secure heap (CRYPTO_secure_malloc(1)) and note its address;
//   3. the arena is the mapping that is new since step 1, holds that address, is readable and
//      writable, and is exactly `size` bytes (OpenSSL's arena size) between two PROT_NONE pages;
//   4. madvise it MADV_DONTDUMP (again: we do not rely on OpenSSL's unchecked call) and
//      MADV_WIPEONFORK, and confirm in /proc/self/smaps that its VmFlags now carry "dd".
// All of this happens before any key is loaded, so the arena holds only OpenSSL's free-list
// pointers when the exclusion takes hold: the library's order (exclude, then write) is kept.
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dumpguard/protect.hpp"
#include "protect/secret_pages.hpp"

namespace dumpguard {
namespace {

struct Vma {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string perms;
  bool anonymous = false;  // no inode
};

std::vector<Vma> read_maps() {
  std::vector<Vma> out;
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (f == nullptr) return out;
  char line[512];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::uintmax_t start = 0, end = 0, offset = 0, inode = 0;
    char perms[8] = {};
    unsigned major = 0, minor = 0;
    if (std::sscanf(line, "%jx-%jx %7s %jx %x:%x %ju", &start, &end, perms, &offset, &major, &minor, &inode) == 7) {
      out.push_back(Vma{static_cast<std::uintptr_t>(start), static_cast<std::uintptr_t>(end), perms, inode == 0});
    }
  }
  std::fclose(f);
  return out;
}

// The VmFlags line of the smaps entry that starts at `start`, or "".
std::string vm_flags(std::uintptr_t start) {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return {};
  char line[512];
  bool in_entry = false;
  std::string flags;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::uintmax_t s = 0, e = 0;
    char dash = 0;
    if (std::sscanf(line, "%jx%c%jx ", &s, &dash, &e) == 3 && dash == '-' && std::strchr(line, ':') != nullptr &&
        std::strncmp(line, "VmFlags", 7) != 0) {
      in_entry = static_cast<std::uintptr_t>(s) == start;
      continue;
    }
    if (in_entry && std::strncmp(line, "VmFlags:", 8) == 0) {
      flags = line + 8;
      break;
    }
  }
  std::fclose(f);
  return flags;
}

bool has_flag(std::string flags, const char* flag) {
  for (char& c : flags) {
    if (c == '\n') c = ' ';
  }
  return (" " + flags + " ").find(std::string(" ") + flag + " ") != std::string::npos;
}

bool fail(std::string* why, const std::string& reason) {
  if (why != nullptr) *why = reason;
  return false;
}

}  // namespace

bool openssl_secure_heap_init(std::size_t size, std::size_t min_size, std::string* why) {
  if (CRYPTO_secure_malloc_initialized() != 0) return fail(why, "OpenSSL's secure heap was already initialised");
  const std::vector<Vma> before = read_maps();
  const int init = CRYPTO_secure_malloc_init(size, min_size);
  if (init == 0) return fail(why, "CRYPTO_secure_malloc_init failed (size and min_size must be powers of two)");
  void* probe = CRYPTO_secure_malloc(1, __FILE__, __LINE__);
  if (probe == nullptr || CRYPTO_secure_allocated(probe) == 0) {
    CRYPTO_secure_free(probe, __FILE__, __LINE__);
    return fail(why, "OpenSSL's secure heap gave no memory after its init");
  }
  const auto address = reinterpret_cast<std::uintptr_t>(probe);
  CRYPTO_secure_free(probe, __FILE__, __LINE__);
  const std::vector<Vma> after = read_maps();
  const Vma* arena = nullptr;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const Vma& v = after[i];
    if (address < v.start || address >= v.end) continue;
    bool is_new = true;
    for (const Vma& b : before) {
      if (b.start == v.start && b.end == v.end && b.perms == v.perms) is_new = false;
    }
    const bool guarded = i > 0 && i + 1 < after.size() && after[i - 1].end == v.start &&
                         after[i - 1].perms.rfind("---", 0) == 0 && after[i + 1].start == v.end &&
                         after[i + 1].perms.rfind("---", 0) == 0;
    if (is_new && v.anonymous && v.perms.rfind("rw", 0) == 0 && v.end - v.start == size && guarded) arena = &v;
  }
  if (arena == nullptr) {
    return fail(why, "could not identify OpenSSL's secure heap arena in /proc/self/maps (a new rw mapping of "
                     "exactly the requested size between two guard pages)");
  }
  void* start = reinterpret_cast<void*>(arena->start);
  const std::size_t length = arena->end - arena->start;
  if (madvise(start, length, MADV_DONTDUMP) != 0) {
    return fail(why, std::string("madvise(MADV_DONTDUMP) on OpenSSL's arena failed: ") + std::strerror(errno));
  }
  const bool wipe_on_fork = madvise(start, length, MADV_WIPEONFORK) == 0;
  const std::string flags = vm_flags(arena->start);
  if (!has_flag(flags, "dd")) return fail(why, "OpenSSL's arena does not show VmFlags dd (dontdump) in /proc/self/smaps");
  protect_detail::note_openssl_arena(length);
  if (init == 2 || !has_flag(flags, "lo")) {
    protect_detail::notify_once(protect_detail::kNoticeOpenSsl,
                                "dumpguard-protect: OpenSSL's secure heap could not be locked in RAM "
                                "(RLIMIT_MEMLOCK?); it is excluded from core dumps but may be written to swap");
  }
  if (!wipe_on_fork) {
    protect_detail::notify_once(protect_detail::kNoticeWipeOnFork,
                                "dumpguard-protect: MADV_WIPEONFORK is not available (Linux before 4.14); forked "
                                "children keep a copy of secret pages");
  }
  return true;
}

}  // namespace dumpguard

extern "C" int dg_openssl_secure_heap_init(size_t size, size_t min_size) {
  return dumpguard::openssl_secure_heap_init(size, min_size) ? 1 : 0;
}
