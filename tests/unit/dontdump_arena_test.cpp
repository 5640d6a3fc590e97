// The dump-excluded arena behind openssl_heap_init: its size classes, the order of exclusion
// and commitment (smaps VmFlags), zeroing on free and shrink, realloc, failing closed when
// full, aborting on bad frees, and many threads at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protect/smaps.hpp"
#include "protect/dontdump_arena.hpp"

namespace dumpguard::protect_detail {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string vm_flags(const void* address) { return protect_detail::vm_flags_of(address); }
bool has(const std::string& flags, const char* flag) { return protect_detail::has_vm_flag(flags, flag); }

bool all_zero(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
}

TEST(DontDumpArena, SizeClassesFitWithAtMostAQuarterSlack) {
  std::size_t previous = 0;
  for (std::size_t n = 1; n <= (std::size_t{1} << 22); n = n < 4096 ? n + 1 : n + n / 7 + 1) {
    const std::size_t cls = DontDumpArena::class_of(n);
    const std::size_t size = DontDumpArena::class_size(cls);
    ASSERT_LT(cls, DontDumpArena::kClasses);
    ASSERT_GE(size, n);
    ASSERT_EQ(size % 16, 0u);
    ASSERT_LE(size, std::max<std::size_t>(128, n + n / 4 + 16)) << n;
    ASSERT_GE(cls, previous);  // monotone
    previous = cls;
  }
  for (std::size_t cls = 0; cls < 100; ++cls) {
    ASSERT_EQ(DontDumpArena::class_of(DontDumpArena::class_size(cls)), cls);
    ASSERT_EQ(DontDumpArena::class_of(DontDumpArena::class_size(cls) + 1), cls + 1);
  }
}

TEST(DontDumpArena, RangeIsExcludedBeforeAnyPageIsWritable) {
  DontDumpArena arena;
  std::string why;
  ASSERT_TRUE(arena.reserve(8 * kMiB, &why)) << why;
  EXPECT_EQ(arena.counters().reserved.load(), 8 * kMiB);
  EXPECT_EQ(arena.counters().committed.load(), 0u);
  void* p = arena.allocate(100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(arena.owns(p));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
  EXPECT_TRUE(all_zero(p, 100));
  EXPECT_EQ(arena.usable_size(p), 112u);
  const std::string committed = vm_flags(p);
  EXPECT_TRUE(has(committed, "dd") && has(committed, "wr")) << committed;
  // The part not yet committed is excluded too, and not accessible.
  const std::string reserved = vm_flags(static_cast<std::byte*>(p) + 4 * kMiB);
  EXPECT_TRUE(has(reserved, "dd") && !has(reserved, "rd")) << reserved;
  EXPECT_EQ(arena.counters().committed.load(), kMiB);
  EXPECT_EQ(arena.counters().live.load(), 112u);
  int local = 0;
  EXPECT_FALSE(arena.owns(&local));
  arena.release(p);
  EXPECT_EQ(arena.counters().live.load(), 0u);
}

TEST(DontDumpArena, FreedBlocksAreZeroedAndReused) {
  DontDumpArena arena;
  ASSERT_TRUE(arena.reserve(kMiB, nullptr));
  auto* p = static_cast<unsigned char*>(arena.allocate(64));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0xA5, 64);
  arena.release(p);
  // The first 8 bytes now link the free list; everything else the caller wrote is gone.
  EXPECT_TRUE(all_zero(p + 8, 56));
  auto* q = static_cast<unsigned char*>(arena.allocate(60));  // same class: the same block
  EXPECT_EQ(q, p);
  EXPECT_TRUE(all_zero(q, 64));
  arena.release(q);
}

TEST(DontDumpArena, ReallocMovesAndZeroesWhatItLeaves) {
  DontDumpArena arena;
  ASSERT_TRUE(arena.reserve(4 * kMiB, nullptr));
  EXPECT_EQ(arena.allocate(0), nullptr);
  auto* p = static_cast<unsigned char*>(arena.reallocate(nullptr, 40));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5A, 40);
  // Shrinking in place zeroes the bytes given up.
  ASSERT_EQ(arena.reallocate(p, 20), p);
  EXPECT_TRUE(all_zero(p + 20, 28));
  EXPECT_TRUE(std::all_of(p, p + 20, [](unsigned char c) { return c == 0x5A; }));
  // Growing within the class stays in place; beyond it moves, and the old block is zeroed.
  ASSERT_EQ(arena.reallocate(p, 48), p);
  auto* q = static_cast<unsigned char*>(arena.reallocate(p, 5000));
  ASSERT_NE(q, nullptr);
  ASSERT_NE(q, p);
  EXPECT_TRUE(std::all_of(q, q + 20, [](unsigned char c) { return c == 0x5A; }));
  EXPECT_TRUE(all_zero(q + 20, 5000 - 20));
  EXPECT_TRUE(all_zero(p + 8, 40));
  EXPECT_EQ(arena.reallocate(q, 0), nullptr);  // realloc to 0 frees
  EXPECT_EQ(arena.counters().live.load(), 0u);
}

int g_refusals = 0;
void count_refusal() { ++g_refusals; }

TEST(DontDumpArena, FullArenaFailsClosedAndSaysSo) {
  DontDumpArena arena;
  ASSERT_TRUE(arena.reserve(kMiB, nullptr));
  arena.set_on_refuse(count_refusal);
  g_refusals = 0;
  EXPECT_EQ(arena.allocate(2 * kMiB), nullptr);
  EXPECT_EQ(arena.counters().refused.load(), 1u);
  const std::size_t big = DontDumpArena::class_size(DontDumpArena::class_of(60000));
  EXPECT_EQ(big, 65536u);
  std::vector<void*> blocks;
  for (void* p = arena.allocate(60000); p != nullptr; p = arena.allocate(60000)) blocks.push_back(p);
  EXPECT_EQ(blocks.size(), kMiB / (DontDumpArena::kHeader + big));
  EXPECT_EQ(arena.counters().refused.load(), 2u);
  EXPECT_EQ(g_refusals, 2);
  EXPECT_LE(arena.counters().committed.load(), kMiB);
  // A freed block of a larger class serves a smaller request once the arena is full.
  while (arena.allocate(4000) != nullptr) {
  }
  arena.release(blocks.back());
  void* small = arena.allocate(4000);
  EXPECT_EQ(small, blocks.back());
  EXPECT_EQ(arena.usable_size(small), big);
}

TEST(DontDumpArenaDeathTest, BadFreesAbort) {
  DontDumpArena arena;
  ASSERT_TRUE(arena.reserve(kMiB, nullptr));
  void* p = arena.allocate(32);
  int local = 0;
  EXPECT_DEATH(arena.release(&local), "never allocated there");
  EXPECT_DEATH(arena.release(static_cast<std::byte*>(p) + 16), "never allocated there|overwritten");
  EXPECT_DEATH(
      {
        arena.release(p);
        arena.release(p);
      },
      "freed twice");
  EXPECT_DEATH(
      {
        std::memset(static_cast<std::byte*>(p) - 16, 0x41, 16);  // an overrun of the block before
        arena.release(p);
      },
      "overwritten");
  EXPECT_DEATH(
      {
        arena.release(p);
        std::memset(p, 0x41, 8);  // a write after free, into the free-list link
        arena.allocate(32);
      },
      "overwritten");
  arena.release(p);
}

TEST(DontDumpArena, ManyThreadsAllocateReallocateAndFree) {
  DontDumpArena arena;
  ASSERT_TRUE(arena.reserve(256 * kMiB, nullptr));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&arena, &failures, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::vector<std::pair<unsigned char*, std::size_t>> held;
      for (int i = 0; i < 20000; ++i) {
        const auto action = rng() % 3;
        if (action == 0 || held.empty()) {
          const std::size_t n = 1 + rng() % (rng() % 8 == 0 ? 70000 : 600);
          auto* p = static_cast<unsigned char*>(arena.allocate(n));
          if (p == nullptr || !all_zero(p, n)) ++failures[t];
          if (p != nullptr) std::memset(p, t + 1, n);
          held.emplace_back(p, n);
        } else {
          const std::size_t k = rng() % held.size();
          auto [p, n] = held[k];
          if (!std::all_of(p, p + n, [t](unsigned char c) { return c == t + 1; })) ++failures[t];
          if (action == 1) {
            const std::size_t m = 1 + rng() % 3000;
            p = static_cast<unsigned char*>(arena.reallocate(p, m));
            if (p == nullptr) ++failures[t];
            if (m > n) std::memset(p + n, t + 1, m - n);
            held[k] = {p, m};
          } else {
            arena.release(p);
            held[k] = held.back();
            held.pop_back();
          }
        }
      }
      for (auto [p, n] : held) arena.release(p);
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(arena.counters().live.load(), 0u);
  EXPECT_EQ(arena.counters().refused.load(), 0u);
  arena.lock_all();  // as around fork: every lock is free again afterwards
  arena.unlock_all();
  void* p = arena.allocate(10);
  EXPECT_NE(p, nullptr);
  arena.release(p);
}

}  // namespace
}  // namespace dumpguard::protect_detail
