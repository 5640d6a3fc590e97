// The dump-excluded arena (dontdump_arena.hpp) on Linux: one private anonymous mapping,
// reserved PROT_NONE, excluded with MADV_DONTDUMP before its first page is made writable
// (the protection library's order), then committed from the bottom with mprotect. mprotect
// splits the mapping into a committed and a reserved part; both keep VM_DONTDUMP, because the
// kernel copies a mapping's flags when it splits it.
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "protect/dontdump_arena.hpp"
#include "protect/smaps.hpp"
#include "protect/secret_pages.hpp"

namespace dumpguard::protect_detail {
namespace {

constexpr std::uint32_t kLive = 0x6467'4c56;  // "dgLV"
constexpr std::uint32_t kFree = 0x6467'4652;  // "dgFR"
constexpr std::size_t kCommitStep = std::size_t{1} << 20;
constexpr std::size_t kMinReserve = std::size_t{1} << 20;

[[noreturn]] void corrupt(const char* what) {
  print_notice(what);
  std::abort();
}

bool fail(std::string* why, const std::string& reason) {
  if (why != nullptr) *why = reason;
  return false;
}

// True when the smaps entry holding `address` shows VmFlags "dd" (VM_DONTDUMP).
bool smaps_shows_dontdump(const void* address) { return has_vm_flag(vm_flags_of(address), "dd"); }

}  // namespace

std::size_t DontDumpArena::class_of(std::size_t n) noexcept {
  if (n <= 128) return (n + 15) / 16 - 1;
  // 2^k < n <= 2^(k+1), k >= 7; four classes 2^k + j * 2^(k-2), j = 1..4.
  const auto k = static_cast<std::size_t>(std::bit_width(n - 1)) - 1;
  const std::size_t step = std::size_t{1} << (k - 2);
  const std::size_t j = (n - (std::size_t{1} << k) + step - 1) / step;
  return 8 + (k - 7) * 4 + (j - 1);
}

std::size_t DontDumpArena::class_size(std::size_t cls) noexcept {
  if (cls < 8) return 16 * (cls + 1);
  const std::size_t k = 7 + (cls - 8) / 4;
  const std::size_t j = (cls - 8) % 4 + 1;
  return (std::size_t{1} << k) + j * (std::size_t{1} << (k - 2));
}

DontDumpArena::~DontDumpArena() {
  if (base_ != nullptr) munmap(base_, reserved_);
}

bool DontDumpArena::reserve(std::size_t max_bytes, std::string* why) {
  if (base_ != nullptr) return fail(why, "the arena is already reserved");
  const std::size_t page = page_size();
  if (max_bytes < kMinReserve) max_bytes = kMinReserve;
  if (max_bytes > (std::size_t{1} << 46)) return fail(why, "the arena's size is larger than 64 TiB");
  const std::size_t total = (max_bytes + page - 1) / page * page;
  void* base = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return fail(why, std::string("cannot reserve the arena: mmap: ") + std::strerror(errno));
  if (madvise(base, total, MADV_DONTDUMP) != 0 || !smaps_shows_dontdump(base)) {
    const int err = errno;
    munmap(base, total);
    return fail(why, std::string("cannot exclude the arena from core dumps: madvise(MADV_DONTDUMP): ") +
                         std::strerror(err));
  }
  base_ = static_cast<std::byte*>(base);
  reserved_ = total;
  counters_.reserved.store(total, std::memory_order_relaxed);
  return true;
}

bool DontDumpArena::owns(const void* p) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto b = reinterpret_cast<std::uintptr_t>(base_);
  return base_ != nullptr && a >= b && a - b < reserved_;
}

DontDumpArena::Header* DontDumpArena::header_of(const void* p) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto b = reinterpret_cast<std::uintptr_t>(base_);
  if (!owns(p) || a - b < kHeader || a - b >= used_.load(std::memory_order_acquire) || (a - b) % kHeader != 0) {
    corrupt("dumpguard-protect: a pointer freed into the dump-excluded arena was never allocated there; aborting");
  }
  auto* h = reinterpret_cast<Header*>(static_cast<std::byte*>(const_cast<void*>(p)) - kHeader);
  if (h->state == kFree) corrupt("dumpguard-protect: a block of the dump-excluded arena was freed twice; aborting");
  if (h->state != kLive || h->cls >= kClasses || h->requested > class_size(h->cls)) {
    corrupt("dumpguard-protect: a block header of the dump-excluded arena was overwritten; aborting");
  }
  return h;
}

std::size_t DontDumpArena::usable_size(const void* p) const noexcept { return class_size(header_of(p)->cls); }

DontDumpArena::Header* DontDumpArena::pop(std::size_t cls) noexcept {
  FreeList& list = free_[cls];
  std::lock_guard<std::mutex> g(list.lock);
  Header* h = list.head;
  if (h == nullptr) return nullptr;
  // A write after free would show here first: the head must be a free block of this class,
  // and its link a block of this arena, before either is followed.
  if (h->state != kFree || h->cls != cls) {
    corrupt("dumpguard-protect: a free block of the dump-excluded arena was overwritten; aborting");
  }
  std::byte* payload = reinterpret_cast<std::byte*>(h) + kHeader;
  Header* next = nullptr;
  std::memcpy(&next, payload, sizeof next);
  const auto offset = reinterpret_cast<std::uintptr_t>(next) - reinterpret_cast<std::uintptr_t>(base_);
  if (next != nullptr && (!owns(next) || offset % kHeader != 0 || offset >= used_.load(std::memory_order_acquire))) {
    corrupt("dumpguard-protect: a free block of the dump-excluded arena was overwritten; aborting");
  }
  list.head = next;
  std::memset(payload, 0, sizeof next);  // the rest was zeroed when it was freed
  return h;
}

DontDumpArena::Header* DontDumpArena::carve(std::size_t cls) noexcept {
  const std::size_t need = kHeader + class_size(cls);
  std::lock_guard<std::mutex> g(grow_lock_);
  const std::size_t used = used_.load(std::memory_order_relaxed);
  if (need > reserved_ - used) return nullptr;
  if (used + need > committed_) {
    const std::size_t page = page_size();
    std::size_t grow = used + need - committed_;
    grow = grow < kCommitStep ? kCommitStep : (grow + page - 1) / page * page;
    if (grow > reserved_ - committed_) grow = reserved_ - committed_;
    if (mprotect(base_ + committed_, grow, PROT_READ | PROT_WRITE) != 0) return nullptr;
    committed_ += grow;
    counters_.committed.store(committed_, std::memory_order_relaxed);
  }
  used_.store(used + need, std::memory_order_release);
  return reinterpret_cast<Header*>(base_ + used);  // fresh pages: already zero
}

void DontDumpArena::refuse() noexcept {
  counters_.refused.fetch_add(1, std::memory_order_relaxed);
  if (on_refuse_ != nullptr) on_refuse_();
}

void* DontDumpArena::allocate(std::size_t n) noexcept {
  if (n == 0 || base_ == nullptr) return nullptr;
  if (n > reserved_) {
    refuse();
    return nullptr;
  }
  std::size_t cls = class_of(n);
  Header* h = pop(cls);
  if (h == nullptr) h = carve(cls);
  // Full: a free block of a larger class serves (and keeps its own class).
  for (std::size_t c = cls + 1; h == nullptr && c < kClasses; ++c) {
    h = pop(c);
    if (h != nullptr) cls = c;
  }
  if (h == nullptr) {
    refuse();
    return nullptr;
  }
  h->state = kLive;
  h->cls = static_cast<std::uint32_t>(cls);
  h->requested = n;
  counters_.live.fetch_add(class_size(cls), std::memory_order_relaxed);
  return reinterpret_cast<std::byte*>(h) + kHeader;
}

void DontDumpArena::release(void* p) noexcept {
  if (p == nullptr) return;
  Header* h = header_of(p);
  wipe(p, h->requested);
  h->state = kFree;
  h->requested = 0;
  counters_.live.fetch_sub(class_size(h->cls), std::memory_order_relaxed);
  FreeList& list = free_[h->cls];
  std::lock_guard<std::mutex> g(list.lock);
  std::memcpy(p, &list.head, sizeof list.head);
  list.head = h;
}

void* DontDumpArena::reallocate(void* p, std::size_t n) noexcept {
  if (p == nullptr) return allocate(n);
  if (n == 0) {
    release(p);
    return nullptr;
  }
  Header* h = header_of(p);
  if (n <= class_size(h->cls)) {  // in place; a shrink zeroes what it gives up
    if (n < h->requested) wipe(static_cast<std::byte*>(p) + n, h->requested - n);
    h->requested = n;
    return p;
  }
  void* q = allocate(n);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, h->requested);
  release(p);
  return q;
}

void DontDumpArena::lock_all() noexcept {
  grow_lock_.lock();
  for (FreeList& list : free_) list.lock.lock();
}

void DontDumpArena::unlock_all() noexcept {
  for (FreeList& list : free_) list.lock.unlock();
  grow_lock_.unlock();
}

}  // namespace dumpguard::protect_detail
