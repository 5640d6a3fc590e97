// A general-purpose allocator whose every byte lies in one range excluded from core dumps
// (Linux). openssl_heap_linux.cpp routes all of OpenSSL's own allocations into one, so that
// the copies OpenSSL makes of a key outside its secure heap (decoder buffers it frees
// without wiping, Montgomery contexts that cache p and q) never reach a dump.
//
// The range is reserved once, PROT_NONE, and excluded (MADV_DONTDUMP, checked in smaps)
// before any page of it becomes writable; pages are committed on demand from the bottom, in
// steps of at least 1 MiB, and never given back. Blocks come in size classes (16-byte steps
// up to 128 bytes, then four classes per power of two, so at most 25% slack), each with a
// 16-byte header and its own free list. Blocks are never split or merged: a class keeps the
// blocks it has used, and a request that finds neither a free block (of its class or any
// larger one) nor room to carve one fails (nullptr), counted in `refused`. It never falls
// back to another heap, so no caller's data ever leaves the excluded range.
// Every block is zeroed when freed (and when it shrinks), so the arena holds only live data.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "protect/secret_pages.hpp"

namespace dumpguard::protect_detail {

class DontDumpArena {
 public:
  static constexpr std::size_t kHeader = 16;   // also the alignment of every block
  static constexpr std::size_t kClasses = 8 + 4 * (64 - 7);

  DontDumpArena() = default;
  ~DontDumpArena();  // unmaps the range (the arena given to OpenSSL is never destroyed)
  DontDumpArena(const DontDumpArena&) = delete;
  DontDumpArena& operator=(const DontDumpArena&) = delete;

  // Reserves max_bytes (rounded up to whole pages, at least 1 MiB) and excludes them from
  // dumps. False, with the reason (no secret) in *why, when the range cannot be mapped or
  // excluded; the arena then hands out nothing.
  bool reserve(std::size_t max_bytes, std::string* why);

  // `n` zeroed bytes aligned to 16, or nullptr when n is 0 or the arena is full.
  void* allocate(std::size_t n) noexcept;
  // realloc's contract (nullptr p: allocate; n 0: release and nullptr). A move copies into
  // a new block and zeroes the old one; on failure p is left as it was.
  void* reallocate(void* p, std::size_t n) noexcept;
  // Zeroes the block and keeps it for reuse. nullptr is ignored; a pointer that is not a
  // live block of this arena (foreign, freed twice, header overwritten) aborts the process.
  void release(void* p) noexcept;

  bool owns(const void* p) const noexcept;  // p lies in this arena's reserved range
  std::size_t usable_size(const void* p) const noexcept;  // the class size of a live block
  const ArenaCounters& counters() const noexcept { return counters_; }
  // Called (outside every lock) each time a request is refused.
  void set_on_refuse(void (*fn)()) noexcept { on_refuse_ = fn; }

  // Around fork(): take every lock, then release them in parent and child, so that a child
  // forked while another thread allocates does not inherit a lock held forever.
  void lock_all() noexcept;
  void unlock_all() noexcept;

  // The size-class geometry (exposed for the unit tests).
  static std::size_t class_of(std::size_t n) noexcept;  // n >= 1
  static std::size_t class_size(std::size_t cls) noexcept;

 private:
  struct Header {
    std::uint32_t state;      // kLive or kFree
    std::uint32_t cls;        // size class
    std::uint64_t requested;  // bytes the caller asked for (zeroed on release)
  };
  struct FreeList {
    std::mutex lock;
    Header* head = nullptr;  // the link to the next free block is the payload's first 8 bytes
  };

  Header* header_of(const void* p) const noexcept;  // aborts unless p is a live block
  Header* pop(std::size_t cls) noexcept;
  Header* carve(std::size_t cls) noexcept;
  void refuse() noexcept;

  std::byte* base_ = nullptr;
  std::size_t reserved_ = 0;
  std::mutex grow_lock_;
  std::atomic<std::size_t> used_{0};  // bytes carved from the bottom (written under grow_lock_)
  std::size_t committed_ = 0;         // under grow_lock_
  std::array<FreeList, kClasses> free_{};
  ArenaCounters counters_;
  void (*on_refuse_)() = nullptr;
};

}  // namespace dumpguard::protect_detail
