// The platform layer of the protection library: map, exclude, lock, wipe and unmap one set of
// secret pages. secret_pages_linux.cpp and secret_pages_windows.cpp implement it;
// registry.cpp (shared) keeps the live allocations and the status on top of it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dumpguard::protect_detail {

// One allocation: [guard][data pages][guard], all inside [base, base + total).
struct Pages {
  std::byte* base = nullptr;
  std::size_t total = 0;
  std::byte* data = nullptr;  // first data page
  std::size_t data_len = 0;   // a whole number of pages
  bool locked = false;        // mlock / VirtualLock held
  bool wipe_on_fork = false;  // Linux MADV_WIPEONFORK in force (Windows: no fork, true)
  int lock_error = 0;         // errno / GetLastError when not locked
};

std::size_t page_size() noexcept;

// Maps data_len bytes (a multiple of page_size()) of data pages between two guard pages, and
// brings them under exclusion BEFORE they become writable. False (errno set, nothing left
// mapped) when mapping or exclusion fails; a lock failure is not a failure (Pages::locked).
bool map_secret_pages(std::size_t data_len, Pages& out) noexcept;

// Unlocks and unmaps (the caller has zeroed the data pages first).
void unmap_secret_pages(Pages& pages) noexcept;

// Zeroes memory in a way the compiler cannot remove (explicit_bzero / SecureZeroMemory).
void wipe(void* p, std::size_t n) noexcept;

// Prints one line on stderr (the default notice).
void print_notice(const char* message) noexcept;

// Test seams (tests/unit/protect_test.cpp), not part of the public API:
// - called with the data pages after they are zeroed and before they are unmapped, so a test
//   can check the zeroing without reading freed memory;
using ReleaseObserver = void (*)(const std::byte* data, std::size_t len, void* context);
void set_release_observer(ReleaseObserver fn, void* context) noexcept;
// - makes the next exclusion step fail as the OS would, to test that allocation fails closed.
void fail_next_exclusion_for_testing() noexcept;
bool take_injected_exclusion_failure() noexcept;  // for the platform files

// For the Windows minidump callback, which may run in a crash handler while another thread
// holds the registry lock: these give up ("busy") instead of waiting without end.
enum class Lookup { found, none, busy };
// The index-th live allocation's data pages, in address order; none past the last one.
Lookup live_block(std::size_t index, std::uintptr_t& start, std::size_t& len) noexcept;
// found when [start, start + len) overlaps a live allocation's data pages, none when not.
Lookup overlaps_live_block(std::uintptr_t start, std::size_t len) noexcept;

// Called by the OpenSSL helpers to count their arenas in the status: the secure heap's size,
// and the counters of the arena that holds OpenSSL's ordinary allocations (read on each
// protect_status(); the arena outlives every caller).
void note_openssl_arena(std::size_t bytes) noexcept;
struct ArenaCounters {
  std::atomic<std::size_t> reserved{0};   // address space excluded from dumps
  std::atomic<std::size_t> committed{0};  // of it, readable and writable so far
  std::atomic<std::size_t> live{0};       // in blocks handed out and not yet freed (class sizes)
  std::atomic<std::uint64_t> refused{0};  // requests that got nullptr because the arena was full
};
void note_openssl_heap(const ArenaCounters* counters) noexcept;
// One notice per kind (a lock failure, no wipe-on-fork), through the current notice function.
void notify_once(int kind, const char* message) noexcept;
enum NoticeKind { kNoticeLock = 0, kNoticeWipeOnFork = 1, kNoticeOpenSsl = 2, kNoticeOpenSslHeapFull = 3, kNoticeKinds = 4 };

}  // namespace dumpguard::protect_detail
