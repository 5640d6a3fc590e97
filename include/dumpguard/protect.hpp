// dumpguard/protect.hpp: keep secrets out of crash dumps at the source.
//
// Memory for secrets sits on its own pages with inaccessible guard pages around them. Before
// the library hands out a pointer, the pages are already excluded from core dumps
// (MADV_DONTDUMP; Windows: WerRegisterExcludedMemoryBlock) and, on Linux, marked to be empty
// in forked children (MADV_WIPEONFORK). That order is the guarantee: no secret byte can be
// written into memory a dump would include, so no dump taken at any moment holds it (the race
// that beats "write the key, then exclude its pages"). The pages are locked in RAM where the
// limit allows (a failure is reported, never silent) and zeroed when released. If the
// exclusion fails, allocation fails: unprotected memory is never returned.
//
// What it cannot protect (copies made by libraries, registers, gcore -a, root):
// docs/protect.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "dumpguard/protect.h"

namespace dumpguard {

// Counts only (the C struct): see protect.h.
using ProtectStatus = dg_protect_status_t;
ProtectStatus protect_status();

// Degradations are reported once each through `fn` (nullptr: one line on stderr).
using ProtectNoticeFn = dg_protect_notice_fn;
void set_protect_notice(ProtectNoticeFn fn, void* context);

// Secret pages for `size` bytes (at least 1), zeroed, aligned to `align` (a power of two, at
// most the page size), ending as close to the trailing guard page as the alignment allows.
// nullptr (errno set) when the pages cannot be mapped or cannot be excluded from dumps.
void* secret_alloc(std::size_t size, std::size_t align = 16) noexcept;
// Zeroes and unmaps; nullptr is ignored, a pointer secret_alloc did not return aborts.
void secret_free(void* p) noexcept;
// True when [p, p + n) lies inside one live secret allocation's pages.
bool is_protected(const void* p, std::size_t n) noexcept;

// Every allocation OpenSSL makes, in one arena of at most max_bytes excluded from dumps
// (Linux; see protect.h for the order of calls and what happens when it is full). Call first
// in main. False on failure, with the reason in *why when given (no secret in it).
bool openssl_heap_init(std::size_t max_bytes, std::string* why = nullptr);

// OpenSSL's secure heap under the same exclusion (Linux; see protect.h). False on failure,
// with the reason in *why when given (no secret in it). After openssl_heap_init.
bool openssl_secure_heap_init(std::size_t size, std::size_t min_size, std::string* why = nullptr);

// A fixed-size buffer of secret memory. Move-only: a copy would be a second secret to track.
class SecretBuffer {
 public:
  // Throws std::bad_alloc when the memory cannot be mapped or excluded (fail closed).
  explicit SecretBuffer(std::size_t size);
  ~SecretBuffer() { secret_free(data_); }
  SecretBuffer(SecretBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  SecretBuffer& operator=(SecretBuffer&& other) noexcept {
    if (this != &other) {
      secret_free(data_);
      data_ = other.data_;
      size_ = other.size_;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<std::uint8_t> bytes() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// An allocator for std containers: every allocation is its own set of secret pages, so a
// container that grows copies its secret from protected pages to protected pages, and the old
// pages are zeroed. Costs at least three pages (two guards) per allocation: for secrets, not bulk.
template <class T>
struct secure_allocator {
  using value_type = T;
  secure_allocator() noexcept = default;
  template <class U>
  secure_allocator(const secure_allocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* p = secret_alloc(n * sizeof(T), alignof(T) > 16 ? alignof(T) : 16);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { secret_free(p); }

  template <class U>
  bool operator==(const secure_allocator<U>&) const noexcept { return true; }
};

// Trap: libstdc++ keeps strings of up to 15 chars inside the string object itself (the
// small-string optimisation), where no allocator is involved. Reserve at least 16 before the
// first character goes in (make_secure_string does), and never shrink_to_fit.
using secure_string = std::basic_string<char, std::char_traits<char>, secure_allocator<char>>;
template <class T>
using secure_vector = std::vector<T, secure_allocator<T>>;

// An empty secure_string whose buffer is already in secret pages (capacity >= `capacity`, at
// least 16), so that no character ever lands in the string object.
inline secure_string make_secure_string(std::size_t capacity = 64) {
  secure_string s;
  s.reserve(capacity < 16 ? 16 : capacity);
  return s;
}

}  // namespace dumpguard
