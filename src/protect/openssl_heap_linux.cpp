// Every allocation OpenSSL makes, in a dump-excluded arena (Linux).
//
// OpenSSL's secure heap holds only what OpenSSL chooses to put there (BN_secure_new). With an
// RSA key, OpenSSL 3.0 also leaves copies of the key in its ordinary allocations, which a core
// dump includes (measured with gdb watchpoints on examples/tls_server, docs/protect.md):
//  - the DER of the private key, twice: the buffer pem2der decodes the PEM into, and the one
//    der2key reads it into (ossl_read_der, asn1_d2i_read_bio); both are freed with
//    OPENSSL_free, not wiped, so p, q, d, dp, dq and qinv stay in freed heap chunks;
//  - p and q again, little-endian, in the Montgomery contexts that the first private-key
//    operation caches in the RSA object (RSA_FLAG_CACHE_PRIVATE: BN_MONT_CTX_set copies the
//    modulus into an ordinary BIGNUM), for as long as the key lives.
// Fixing those one by one (other load paths, flags, caches) depends on OpenSSL's internals
// and version. CRYPTO_set_mem_functions instead sends all of OpenSSL's allocations, libssl's
// too, into one DontDumpArena: the copies above, and any not yet found, land in excluded
// pages, and every freed block is zeroed. OpenSSL accepts the functions only before its first
// allocation, so this must run first; it fails (and changes nothing) otherwise.
#include <openssl/crypto.h>
#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <new>

#include "dumpguard/protect.hpp"
#include "protect/dontdump_arena.hpp"
#include "protect/secret_pages.hpp"

namespace dumpguard {
namespace {

using protect_detail::DontDumpArena;

// Set once, before CRYPTO_set_mem_functions lets OpenSSL call the functions below; never
// destroyed, because OpenSSL frees into it until the very end (its atexit cleanup).
DontDumpArena* g_arena = nullptr;
std::atomic<bool> g_started{false};

void* arena_malloc(std::size_t n, const char*, int) { return g_arena->allocate(n); }
void* arena_realloc(void* p, std::size_t n, const char*, int) { return g_arena->reallocate(p, n); }
void arena_free(void* p, const char*, int) { g_arena->release(p); }

void lock_for_fork() { g_arena->lock_all(); }
void unlock_after_fork() { g_arena->unlock_all(); }

void notice_full() {
  char message[320];
  std::snprintf(message, sizeof message,
                "dumpguard-protect: OpenSSL's dump-excluded heap is full (%zu bytes); OpenSSL's allocations now "
                "fail rather than fall back to the ordinary heap. Give openssl_heap_init a larger bound",
                g_arena->counters().reserved.load(std::memory_order_relaxed));
  protect_detail::notify_once(protect_detail::kNoticeOpenSslHeapFull, message);
}

bool fail(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return false;
}

}  // namespace

bool openssl_heap_init(std::size_t max_bytes, std::string* why) {
  if (g_started.exchange(true)) return fail(why, "openssl_heap_init was already called");
  auto* arena = new (std::nothrow) DontDumpArena();
  if (arena == nullptr) return fail(why, "out of memory");
  if (!arena->reserve(max_bytes, why)) {
    delete arena;
    return false;
  }
  arena->set_on_refuse(notice_full);
  g_arena = arena;
  if (CRYPTO_set_mem_functions(arena_malloc, arena_realloc, arena_free) == 0) {
    g_arena = nullptr;
    delete arena;
    return fail(why, "OpenSSL has already allocated memory, so it refuses new allocation functions: call "
                     "openssl_heap_init first in main, before anything uses OpenSSL (the secure heap helper too)");
  }
  if (pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork) != 0) {
    // OpenSSL already allocates from the arena; without the handlers only a fork during an
    // allocation in another thread could leave the child a held lock. Say so, do not fail.
    protect_detail::print_notice("dumpguard-protect: pthread_atfork failed; fork while another thread allocates "
                                 "through OpenSSL may deadlock the child");
  }
  protect_detail::note_openssl_heap(&arena->counters());
  return true;
}

}  // namespace dumpguard

extern "C" int dg_openssl_heap_init(size_t max_bytes) { return dumpguard::openssl_heap_init(max_bytes) ? 1 : 0; }
