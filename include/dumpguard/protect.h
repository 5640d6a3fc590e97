/* dumpguard/protect.h: the protection library's C API, for programs in other languages.
 * Memory from dg_secret_alloc sits on its own pages between guard pages, is excluded from
 * core dumps (and, on Linux, emptied in forked children) BEFORE the pointer is returned, is
 * locked in RAM where the limit allows, and is zeroed when freed.
 * docs/protect.md says what it guarantees and what it cannot protect. */
#ifndef DUMPGUARD_PROTECT_H
#define DUMPGUARD_PROTECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the library holds now and how well: every field is a count, never a secret. */
typedef struct dg_protect_status_s {
  size_t live_buffers;           /* allocations not yet freed */
  size_t live_bytes;             /* their data pages, in bytes */
  size_t unlocked_bytes;         /* of those, not locked in RAM (the lock limit was reached) */
  size_t no_wipe_on_fork_bytes;  /* of those, not emptied in forked children (old kernel) */
  uint64_t lock_failures;        /* allocations whose lock failed, since start */
  int last_lock_error;           /* errno (Windows: GetLastError) of the last lock failure */
  uint64_t refused;              /* allocations refused because exclusion failed (fail closed) */
  size_t openssl_arena_bytes;    /* OpenSSL's secure heap, when dg_openssl_secure_heap_init ran */
  /* OpenSSL's ordinary allocations, when dg_openssl_heap_init ran: */
  size_t openssl_heap_reserved_bytes;   /* the arena's bound (address space, excluded from dumps) */
  size_t openssl_heap_committed_bytes;  /* of it, made usable so far (never given back) */
  size_t openssl_heap_live_bytes;       /* in blocks OpenSSL holds now */
  uint64_t openssl_heap_refused;        /* allocations refused because the arena was full */
} dg_protect_status_t;

/* Allocates `size` bytes (at least 1) of zeroed secret memory, aligned to 16 bytes and ending
 * close to the trailing guard page. NULL (errno set) when memory cannot be mapped or cannot be
 * excluded from dumps: the library never hands out unprotected memory. */
void* dg_secret_alloc(size_t size);
/* Zeroes and unmaps memory from dg_secret_alloc. NULL is ignored; any other pointer that
 * dg_secret_alloc did not return aborts the program (as a double free would). */
void dg_secret_free(void* p);
/* 1 when [p, p + n) lies inside one live secret allocation's pages, else 0. */
int dg_secret_is_protected(const void* p, size_t n);
/* Fills *out; returns 0. */
int dg_protect_status(dg_protect_status_t* out);

/* Degradations (a lock limit reached, no wipe-on-fork) are reported once each through this
 * function; NULL restores the default, one line on stderr. The message holds no secret. */
typedef void (*dg_protect_notice_fn)(const char* message, void* context);
void dg_protect_set_notice(dg_protect_notice_fn fn, void* context);

/* Linux: routes every allocation OpenSSL makes (CRYPTO_malloc, CRYPTO_realloc, CRYPTO_free:
 * libcrypto's and libssl's own objects, decoder buffers, BIGNUMs outside the secure heap,
 * Montgomery contexts, TLS state) into one arena of at most max_bytes that is excluded from
 * core dumps (MADV_DONTDUMP) before any page of it is written; freed blocks are zeroed.
 * Call it first in main, before anything uses OpenSSL (OpenSSL accepts it only before its
 * first allocation), and before dg_openssl_secure_heap_init. Returns 1 when OpenSSL now
 * allocates from the arena, 0 (nothing changed; do not load keys) when it could not.
 * When the arena is full, OpenSSL's allocations fail (fail closed: nothing falls back to the
 * ordinary heap), counted in openssl_heap_refused and reported once through the notice. */
int dg_openssl_heap_init(size_t max_bytes);

/* Linux: initialises OpenSSL's secure heap (CRYPTO_secure_malloc_init(size, min_size)) and
 * brings its arena under the same exclusion as dg_secret_alloc, before any key is loaded.
 * Returns 1 when the arena is excluded from dumps, 0 (nothing loaded into it yet; OpenSSL's
 * heap may be initialised but is then unusable for keys: do not load keys) on failure.
 * Call it once, at start-up, before OpenSSL allocates a private key. */
int dg_openssl_secure_heap_init(size_t size, size_t min_size);

#if defined(_WIN32)
#include <windows.h>
#include <dbghelp.h>
/* Windows: a MINIDUMP_CALLBACK_ROUTINE for an in-process MiniDumpWriteDump (a crash handler
 * dumping its own process) that keeps every live secret allocation out of the minidump:
 *  - RemoveMemoryCallback removes each block from the memory lists;
 *  - IncludeVmRegionCallback drops every VM region that overlaps a block, for full-memory
 *    dumps (MiniDumpWithFullMemory ignores RemoveMemoryCallback);
 *  - if the library's registry is held by another (crashed) thread, the callback cannot list
 *    the blocks, so it drops every VM region and cancels the dump (CancelCallback) rather
 *    than write secrets.
 * CallbackParam must point to a dg_minidump_filter zeroed before each MiniDumpWriteDump call. */
typedef struct dg_minidump_filter {
  size_t next_block; /* RemoveMemoryCallback's position */
  int busy;          /* set when the registry could not be read: the dump is cancelled */
} dg_minidump_filter;
BOOL CALLBACK dg_minidump_callback(PVOID param, PMINIDUMP_CALLBACK_INPUT input, PMINIDUMP_CALLBACK_OUTPUT output);
#endif

#ifdef __cplusplus
}
#endif

#endif /* DUMPGUARD_PROTECT_H */
