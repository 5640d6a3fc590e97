// The live secret allocations, the status counters and the notices, shared by the Linux and
// Windows builds; the C API and SecretBuffer sit on top. A spin lock guards the registry
// because it must also build with mingw's win32 thread model, which has no std::mutex.
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <new>

#include "dumpguard/protect.hpp"
#include "protect/secret_pages.hpp"

namespace dumpguard::protect_detail {
namespace {

class SpinLock {
 public:
  void lock() noexcept {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  bool try_lock_for(unsigned spins) noexcept {
    for (unsigned i = 0; i < spins; ++i) {
      if (!flag_.test_and_set(std::memory_order_acquire)) return true;
    }
    return false;
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

struct Guard {
  explicit Guard(SpinLock& l) : lock(l) { lock.lock(); }
  ~Guard() { lock.unlock(); }
  SpinLock& lock;
};

struct State {
  SpinLock lock;
  // Keyed by the first data page's address. Holds addresses and sizes only.
  std::map<std::uintptr_t, Pages> live;
  ProtectStatus status{};
  ProtectNoticeFn notice = nullptr;
  void* notice_context = nullptr;
  bool noticed[kNoticeKinds] = {};
  ReleaseObserver observer = nullptr;
  void* observer_context = nullptr;
  bool fail_next_exclusion = false;
  const ArenaCounters* openssl_heap = nullptr;
};

// Never destroyed: secrets freed from other static destructors must still find it.
State& state() {
  static State* s = new State();
  return *s;
}

// The live entry whose data pages hold p (lock held).
std::map<std::uintptr_t, Pages>::iterator find_entry(State& s, std::uintptr_t p) {
  auto it = s.live.upper_bound(p);
  if (it == s.live.begin()) return s.live.end();
  --it;
  const auto start = reinterpret_cast<std::uintptr_t>(it->second.data);
  return p - start < it->second.data_len ? it : s.live.end();
}

}  // namespace

void notify_once(int kind, const char* message) noexcept {
  State& s = state();
  ProtectNoticeFn fn = nullptr;
  void* context = nullptr;
  {
    Guard g(s.lock);
    if (kind < 0 || kind >= kNoticeKinds || s.noticed[kind]) return;
    s.noticed[kind] = true;
    fn = s.notice;
    context = s.notice_context;
  }
  if (fn != nullptr) {
    fn(message, context);
  } else {
    print_notice(message);
  }
}

void set_release_observer(ReleaseObserver fn, void* context) noexcept {
  State& s = state();
  Guard g(s.lock);
  s.observer = fn;
  s.observer_context = context;
}

void fail_next_exclusion_for_testing() noexcept {
  State& s = state();
  Guard g(s.lock);
  s.fail_next_exclusion = true;
}

bool take_injected_exclusion_failure() noexcept {
  State& s = state();
  Guard g(s.lock);
  const bool fail = s.fail_next_exclusion;
  s.fail_next_exclusion = false;
  return fail;
}

Lookup live_block(std::size_t index, std::uintptr_t& start, std::size_t& len) noexcept {
  State& s = state();
  if (!s.lock.try_lock_for(1u << 24)) return Lookup::busy;
  Lookup result = Lookup::none;
  if (index < s.live.size()) {
    auto it = std::next(s.live.begin(), static_cast<std::ptrdiff_t>(index));
    start = it->first;
    len = it->second.data_len;
    result = Lookup::found;
  }
  s.lock.unlock();
  return result;
}

Lookup overlaps_live_block(std::uintptr_t start, std::size_t len) noexcept {
  State& s = state();
  if (!s.lock.try_lock_for(1u << 24)) return Lookup::busy;
  Lookup result = Lookup::none;
  for (const auto& [first, pages] : s.live) {
    if (first < start + len && start < first + pages.data_len) {
      result = Lookup::found;
      break;
    }
  }
  s.lock.unlock();
  return result;
}

void note_openssl_arena(std::size_t bytes) noexcept {
  State& s = state();
  Guard g(s.lock);
  s.status.openssl_arena_bytes = bytes;
}

void note_openssl_heap(const ArenaCounters* counters) noexcept {
  State& s = state();
  Guard g(s.lock);
  s.openssl_heap = counters;
}

}  // namespace dumpguard::protect_detail

namespace dumpguard {

using namespace protect_detail;

void* secret_alloc(std::size_t size, std::size_t align) noexcept {
  const std::size_t page = page_size();
  if (align == 0 || (align & (align - 1)) != 0 || align > page) {
    errno = EINVAL;
    return nullptr;
  }
  if (size == 0) size = 1;
  if (size > SIZE_MAX - 3 * page) {
    errno = ENOMEM;
    return nullptr;
  }
  const std::size_t data_len = (size + page - 1) / page * page;
  Pages pages;
  State& s = state();
  if (!map_secret_pages(data_len, pages)) {
    const int err = errno;
    {
      Guard g(s.lock);
      ++s.status.refused;
    }
    errno = err;
    return nullptr;
  }
  // The secret ends as close to the trailing guard page as the alignment allows, so that an
  // overrun faults (libsodium's sodium_malloc does the same).
  const std::size_t offset = (data_len - size) / align * align;
  std::byte* user = pages.data + offset;
  {
    Guard g(s.lock);
    s.live.emplace(reinterpret_cast<std::uintptr_t>(pages.data), pages);
    ++s.status.live_buffers;
    s.status.live_bytes += pages.data_len;
    if (!pages.locked) {
      s.status.unlocked_bytes += pages.data_len;
      ++s.status.lock_failures;
      s.status.last_lock_error = pages.lock_error;
    }
    if (!pages.wipe_on_fork) s.status.no_wipe_on_fork_bytes += pages.data_len;
  }
  if (!pages.locked) {
    char message[256];
    std::snprintf(message, sizeof message,
                  "dumpguard-protect: secret pages could not be locked in RAM (error %d%s); they stay excluded "
                  "from core dumps but may be written to swap",
                  pages.lock_error, pages.lock_error == ENOMEM || pages.lock_error == EPERM ||
                                            pages.lock_error == EAGAIN
                                        ? ": the RLIMIT_MEMLOCK limit was reached"
                                        : "");
    notify_once(kNoticeLock, message);
  }
  if (!pages.wipe_on_fork) {
    notify_once(kNoticeWipeOnFork,
                "dumpguard-protect: MADV_WIPEONFORK is not available (Linux before 4.14); forked children "
                "keep a copy of secret pages (they are still excluded from the children's core dumps)");
  }
  return user;
}

void secret_free(void* p) noexcept {
  if (p == nullptr) return;
  State& s = state();
  Pages pages;
  ReleaseObserver observer = nullptr;
  void* observer_context = nullptr;
  {
    Guard g(s.lock);
    auto it = find_entry(s, reinterpret_cast<std::uintptr_t>(p));
    if (it == s.live.end()) {
      print_notice("dumpguard-protect: secret_free of a pointer secret_alloc did not return; aborting");
      std::abort();
    }
    pages = it->second;
    s.live.erase(it);
    --s.status.live_buffers;
    s.status.live_bytes -= pages.data_len;
    if (!pages.locked) s.status.unlocked_bytes -= pages.data_len;
    if (!pages.wipe_on_fork) s.status.no_wipe_on_fork_bytes -= pages.data_len;
    observer = s.observer;
    observer_context = s.observer_context;
  }
  wipe(pages.data, pages.data_len);
  if (observer != nullptr) observer(pages.data, pages.data_len, observer_context);
  unmap_secret_pages(pages);
}

bool is_protected(const void* p, std::size_t n) noexcept {
  State& s = state();
  Guard g(s.lock);
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  auto it = find_entry(s, start);
  if (it == s.live.end()) return false;
  const auto end = reinterpret_cast<std::uintptr_t>(it->second.data) + it->second.data_len;
  return n <= end - start;
}

ProtectStatus protect_status() {
  State& s = state();
  Guard g(s.lock);
  ProtectStatus out = s.status;
  if (s.openssl_heap != nullptr) {
    out.openssl_heap_reserved_bytes = s.openssl_heap->reserved.load(std::memory_order_relaxed);
    out.openssl_heap_committed_bytes = s.openssl_heap->committed.load(std::memory_order_relaxed);
    out.openssl_heap_live_bytes = s.openssl_heap->live.load(std::memory_order_relaxed);
    out.openssl_heap_refused = s.openssl_heap->refused.load(std::memory_order_relaxed);
  }
  return out;
}

void set_protect_notice(ProtectNoticeFn fn, void* context) {
  State& s = state();
  Guard g(s.lock);
  s.notice = fn;
  s.notice_context = context;
}

SecretBuffer::SecretBuffer(std::size_t size) : size_(size) {
  data_ = static_cast<std::uint8_t*>(secret_alloc(size));
  if (data_ == nullptr) throw std::bad_alloc();
}

}  // namespace dumpguard

// The C API: the same functions under C names.
extern "C" {

void* dg_secret_alloc(size_t size) { return dumpguard::secret_alloc(size); }
void dg_secret_free(void* p) { dumpguard::secret_free(p); }
int dg_secret_is_protected(const void* p, size_t n) { return dumpguard::is_protected(p, n) ? 1 : 0; }
int dg_protect_status(dg_protect_status_t* out) {
  if (out == nullptr) return -1;
  *out = dumpguard::protect_status();
  return 0;
}
void dg_protect_set_notice(dg_protect_notice_fn fn, void* context) { dumpguard::set_protect_notice(fn, context); }

}  // extern "C"
