// openssl_heap_init: OpenSSL's own allocations land in dump-excluded pages, it refuses (and
// changes nothing) once OpenSSL has allocated, and a full arena fails closed with one notice.
// OpenSSL accepts allocation functions only before its first allocation, so each test runs in
// a fresh process: the "threadsafe" death-test style re-executes this binary for the child.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "protect/smaps.hpp"
#include "dumpguard/protect.h"
#include "dumpguard/protect.hpp"

namespace dumpguard {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string vm_flags(const void* address) { return protect_detail::vm_flags_of(address); }
bool excluded(const void* p) { return vm_flags(p).find(" dd ") != std::string::npos; }

void route_openssl_then_use_it() {
  std::string why;
  if (!openssl_heap_init(16 * kMiB, &why)) {
    std::fprintf(stderr, "%s\n", why.c_str());
    _exit(10);
  }
  if (protect_status().openssl_heap_reserved_bytes != 16 * kMiB) _exit(11);
  BIGNUM* bn = BN_new();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (bn == nullptr || md == nullptr || !excluded(bn) || !excluded(md)) _exit(12);
  // A real workload: OpenSSL makes an RSA key, signs with it, and exports a factor.
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  if (key == nullptr) _exit(13);
  unsigned char sig[256];
  size_t sig_len = sizeof sig;
  const unsigned char msg[] = "message";
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md, sig, &sig_len, msg, sizeof msg) != 1) {
    _exit(14);
  }
  BIGNUM* p = nullptr;
  if (EVP_PKEY_get_bn_param(key, "rsa-factor1", &p) != 1 || !excluded(p)) _exit(15);
  const ProtectStatus s = protect_status();
  if (s.openssl_heap_live_bytes == 0 || s.openssl_heap_committed_bytes == 0 || s.openssl_heap_refused != 0) _exit(16);
  // The secure heap helper comes after it; neither runs twice.
  if (!openssl_secure_heap_init(1 << 16, 32, &why)) _exit(17);
  if (openssl_heap_init(16 * kMiB, &why) || dg_openssl_heap_init(16 * kMiB) != 0) _exit(18);
  BN_clear_free(p);
  EVP_PKEY_free(key);
  EVP_MD_CTX_free(md);
  BN_free(bn);
  _exit(0);
}

TEST(OpenSslHeapDeathTest, OpenSslAllocatesFromTheExcludedArena) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(route_openssl_then_use_it(), ::testing::ExitedWithCode(0), "");
}

void too_late() {
  void* early = OPENSSL_malloc(16);
  std::string why;
  if (early == nullptr || openssl_heap_init(16 * kMiB, &why)) _exit(10);
  if (why.find("already allocated") == std::string::npos) _exit(11);
  if (protect_status().openssl_heap_reserved_bytes != 0) _exit(12);
  void* later = OPENSSL_malloc(16);
  if (later == nullptr || excluded(later)) _exit(13);  // nothing changed: glibc's heap
  OPENSSL_free(later);
  OPENSSL_free(early);
  _exit(0);
}

TEST(OpenSslHeapDeathTest, RefusedOnceOpenSslHasAllocated) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(too_late(), ::testing::ExitedWithCode(0), "");
}

int g_notices = 0;
bool g_says_full = false;
void count_notice(const char* message, void*) {
  ++g_notices;
  g_says_full = std::strstr(message, "full") != nullptr;
}

void fill_the_arena() {
  set_protect_notice(count_notice, nullptr);
  if (dg_openssl_heap_init(kMiB) != 1) _exit(10);
  if (OPENSSL_malloc(2 * kMiB) != nullptr) _exit(11);
  int got = 0;
  while (got < 100 && OPENSSL_malloc(100000) != nullptr) ++got;  // the blocks are kept: a leak in a child
  if (got == 0 || got == 100) _exit(12);
  dg_protect_status_t s{};
  dg_protect_status(&s);
  if (s.openssl_heap_refused != 2) _exit(13);
  if (s.openssl_heap_committed_bytes > kMiB) _exit(15);
  if (g_notices != 1 || !g_says_full) _exit(14);  // once, saying why
  _exit(0);
}

TEST(OpenSslHeapDeathTest, FullArenaFailsClosedWithOneNotice) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(fill_the_arena(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace dumpguard
