// The protection library's units: what the kernel records for secret pages (smaps VmFlags),
// guard pages that fault, zeroing on release, fail-closed allocation, lock-limit degradation,
// wipe-on-fork, the allocator and the C API. Whatever could disturb this process (a fault, a
// lowered limit, OpenSSL's one-time secure heap) happens in a forked child.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "protect/smaps.hpp"
#include "dumpguard/protect.h"
#include "dumpguard/protect.hpp"
#include "protect/secret_pages.hpp"

namespace dumpguard {
namespace {

std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

std::string vm_flags(const void* address) { return protect_detail::vm_flags_of(address); }

bool has(const std::string& flags, const char* flag) { return protect_detail::has_vm_flag(flags, flag); }

std::byte* page_of(const void* p) {
  return reinterpret_cast<std::byte*>(reinterpret_cast<std::uintptr_t>(p) / page() * page());
}

TEST(Protect, SecretPagesAreExcludedLockedAndGuarded) {
  SecretBuffer key(100);
  ASSERT_NE(key.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(key.data()) % 16, 0u);
  EXPECT_TRUE(std::all_of(key.data(), key.data() + key.size(), [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(is_protected(key.data(), key.size()));
  EXPECT_FALSE(is_protected(&key, sizeof key));
  const std::string data = vm_flags(key.data());
  EXPECT_TRUE(has(data, "dd")) << data;  // VM_DONTDUMP
  EXPECT_TRUE(has(data, "wf")) << data;  // VM_WIPEONFORK
  EXPECT_TRUE(has(data, "lo")) << data;  // VM_LOCKED (as root, or within RLIMIT_MEMLOCK)
  // The guard pages are excluded too (gcore writes PROT_NONE ranges) and inaccessible.
  std::byte* first = page_of(key.data());
  const std::string before = vm_flags(first - 1);
  const std::string after = vm_flags(first + page());
  EXPECT_TRUE(has(before, "dd") && !has(before, "rd")) << before;
  EXPECT_TRUE(has(after, "dd") && !has(after, "rd")) << after;
  // The secret ends close to the trailing guard page, so an overrun faults.
  EXPECT_LE(first + page() - reinterpret_cast<std::byte*>(key.data() + key.size()), 16);
  const ProtectStatus status = protect_status();
  EXPECT_GE(status.live_buffers, 1u);
  EXPECT_GE(status.live_bytes, page());
}

// In a child: a SIGSEGV handler that exits 42 only when the faulting address is `expected`.
const volatile std::byte* g_expected_fault = nullptr;
void on_segv(int, siginfo_t* info, void*) { _exit(info->si_addr == g_expected_fault ? 42 : 43); }
void touch_expecting_fault(volatile std::byte* p) {
  g_expected_fault = p;
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, nullptr);
  *p = std::byte{1};
  _exit(0);
}

TEST(ProtectDeathTest, GuardPagesFault) {
  SecretBuffer key(32);
  auto* end = reinterpret_cast<volatile std::byte*>(page_of(key.data()) + page());
  auto* before = reinterpret_cast<volatile std::byte*>(page_of(key.data())) - 1;
  EXPECT_EXIT(touch_expecting_fault(end), ::testing::ExitedWithCode(42), "");
  EXPECT_EXIT(touch_expecting_fault(before), ::testing::ExitedWithCode(42), "");
}

struct Released {
  std::size_t calls = 0;
  std::size_t len = 0;
  bool all_zero = false;
};
void observe(const std::byte* data, std::size_t len, void* context) {
  auto* r = static_cast<Released*>(context);
  ++r->calls;
  r->len = len;
  r->all_zero = std::all_of(data, data + len, [](std::byte b) { return b == std::byte{0}; });
}

TEST(Protect, ReleaseZeroesEveryDataPageBeforeUnmapping) {
  Released seen;
  protect_detail::set_release_observer(observe, &seen);
  {
    SecretBuffer key(5000);
    std::memset(key.data(), 0xA5, key.size());
  }
  protect_detail::set_release_observer(nullptr, nullptr);
  EXPECT_EQ(seen.calls, 1u);
  EXPECT_EQ(seen.len, 2 * page());
  EXPECT_TRUE(seen.all_zero);
}

TEST(Protect, ExclusionFailureFailsClosed) {
  const auto refused = protect_status().refused;
  protect_detail::fail_next_exclusion_for_testing();
  EXPECT_EQ(secret_alloc(32), nullptr);
  protect_detail::fail_next_exclusion_for_testing();
  EXPECT_THROW(SecretBuffer(32), std::bad_alloc);
  protect_detail::fail_next_exclusion_for_testing();
  EXPECT_EQ(dg_secret_alloc(32), nullptr);
  EXPECT_EQ(protect_status().refused, refused + 3);
  SecretBuffer ok(32);  // the injected failure was one-shot each time
  EXPECT_TRUE(is_protected(ok.data(), 32));
}

// Drops CAP_IPC_LOCK (root ignores RLIMIT_MEMLOCK with it) and locks nothing more.
bool drop_ipc_lock_and_limit() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
  data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
  if (syscall(SYS_capset, &header, data) != 0) return false;
  const struct rlimit none {0, 0};
  return setrlimit(RLIMIT_MEMLOCK, &none) == 0;
}

int g_notices = 0;
bool g_notice_names_limit = false;
void count_notice(const char* message, void*) {
  ++g_notices;
  g_notice_names_limit = std::strstr(message, "RLIMIT_MEMLOCK") != nullptr;
}

void allocate_under_a_zero_lock_limit() {
  if (!drop_ipc_lock_and_limit()) _exit(10);
  set_protect_notice(count_notice, nullptr);
  const auto failures = protect_status().lock_failures;
  SecretBuffer a(32);
  SecretBuffer b(32);
  const ProtectStatus s = protect_status();
  if (a.data() == nullptr || !is_protected(b.data(), 32)) _exit(11);
  if (s.lock_failures != failures + 2 || s.unlocked_bytes < 2 * page()) _exit(12);
  if (s.last_lock_error != ENOMEM && s.last_lock_error != EPERM && s.last_lock_error != EAGAIN) _exit(13);
  if (g_notices != 1 || !g_notice_names_limit) _exit(14);  // reported once, naming the limit
  if (!has(vm_flags(a.data()), "dd") || has(vm_flags(a.data()), "lo")) _exit(15);  // still excluded
  _exit(0);
}

TEST(ProtectDeathTest, LockLimitDegradesWithAReportNotAFailure) {
  EXPECT_EXIT(allocate_under_a_zero_lock_limit(), ::testing::ExitedWithCode(0), "");
}

TEST(Protect, ForkedChildrenSeeZeros) {
  SecretBuffer key(32);
  std::memset(key.data(), 0x5A, key.size());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    _exit(std::all_of(key.data(), key.data() + 32, [](std::uint8_t b) { return b == 0; }) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(key.data()[0], 0x5A);  // the parent keeps its secret
}

TEST(Protect, SecureContainersKeepTheirBuffersInSecretPages) {
  secure_vector<std::uint8_t> v;
  for (int i = 0; i < 5000; ++i) {
    v.push_back(static_cast<std::uint8_t>(i));  // grows: every buffer is secret pages
    ASSERT_TRUE(is_protected(v.data(), v.size()));
  }
  secure_string s = make_secure_string();
  s.append("short");  // would sit in the object itself (SSO) without the reserve
  EXPECT_TRUE(is_protected(s.data(), s.size()));
  secure_string careless("short");  // the documented trap: SSO, no allocator involved
  EXPECT_FALSE(is_protected(careless.data(), careless.size()));
}

TEST(Protect, MoveTransfersOwnership) {
  SecretBuffer a(32);
  std::uint8_t* p = a.data();
  SecretBuffer b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT: moved-from state is specified
  EXPECT_EQ(a.size(), 0u);
  SecretBuffer c(8);
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_TRUE(is_protected(p, 32));
}

TEST(Protect, CApi) {
  dg_protect_status_t before{};
  ASSERT_EQ(dg_protect_status(&before), 0);
  void* p = dg_secret_alloc(48);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(dg_secret_is_protected(p, 48), 1);
  dg_protect_status_t during{};
  dg_protect_status(&during);
  EXPECT_EQ(during.live_buffers, before.live_buffers + 1);
  dg_secret_free(p);
  dg_secret_free(nullptr);
  dg_protect_status_t after{};
  dg_protect_status(&after);
  EXPECT_EQ(after.live_buffers, before.live_buffers);
  EXPECT_EQ(dg_protect_status(nullptr), -1);
}

void init_openssl_secure_heap_and_check() {
  std::string why;
  if (!openssl_secure_heap_init(1 << 16, 32, &why)) {
    std::fprintf(stderr, "%s\n", why.c_str());
    _exit(10);
  }
  void* p = CRYPTO_secure_malloc(64, __FILE__, __LINE__);
  if (p == nullptr || CRYPTO_secure_allocated(p) == 0) _exit(11);
  const std::string flags = vm_flags(p);
  if (!has(flags, "dd") || !has(flags, "wf")) _exit(12);
  if (protect_status().openssl_arena_bytes != (1u << 16)) _exit(13);
  if (openssl_secure_heap_init(1 << 16, 32, &why)) _exit(14);  // only once
  CRYPTO_secure_free(p, __FILE__, __LINE__);
  _exit(0);
}

TEST(ProtectDeathTest, OpenSslSecureHeapArenaIsExcluded) {
  EXPECT_EXIT(init_openssl_secure_heap_and_check(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace dumpguard
