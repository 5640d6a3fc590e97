#include "handler/core_spool.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

#include "crypto/digest.hpp"
#include "dumpguard/protect.hpp"
#include "io/temp_file.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kPiece = 1u << 20;

// A buffer that holds plaintext of the core for a moment: wiped when it goes.
struct PlainBuffer {
  std::vector<std::byte> bytes = std::vector<std::byte>(kPiece);
  ~PlainBuffer() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Status write_all(int fd, const std::byte* p, std::size_t n, std::uint64_t at, const char* what) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return os_error(fmt::format("cannot write the {}", what));
    p += w;
    n -= static_cast<std::size_t>(w);
    at += static_cast<std::uint64_t>(w);
  }
  return ok_status();
}

Status read_all(int fd, std::byte* p, std::size_t n, std::uint64_t at, const char* what) {
  while (n > 0) {
    const ssize_t r = pread(fd, p, n, static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return os_error(fmt::format("cannot read the {}", what));
    p += r;
    n -= static_cast<std::size_t>(r);
    at += static_cast<std::uint64_t>(r);
  }
  return ok_status();
}

}  // namespace

const char* to_string(SpoolEnd end) {
  switch (end) {
    case SpoolEnd::complete: return "complete";
    case SpoolEnd::limit: return "limit";
    case SpoolEnd::deadline: return "deadline";
  }
  return "?";
}

struct CoreSpool::State {
  UniqueFd memory;  // the first memory_cap bytes, in RAM
  UniqueFd spill;   // the rest, encrypted
  std::uint64_t kept = 0;
  std::uint64_t spilled = 0;
  SpoolEnd end = SpoolEnd::complete;
  std::string sha256;
  // The spill's key and the first half of its counter block. SecretBuffer pages are excluded
  // from dumps (MADV_DONTDUMP), locked where the limit allows, and zeroed when freed.
  SecretBuffer key{48};

  // AES-256-CTR at any `offset` of the spill: the counter block is 8 random bytes and the block
  // number, so any piece can be processed on its own (a read from a pipe may end anywhere); the
  // keystream of the bytes before `offset` in its block is made and thrown away. The context
  // holds the key schedule only for this call; EVP_CIPHER_CTX_free wipes it.
  Status crypt(std::byte* p, std::size_t n, std::uint64_t offset) const {
    std::uint8_t iv[16];
    std::memcpy(iv, key.data() + 32, 8);
    const std::uint64_t block = offset / 16;
    for (int i = 0; i < 8; ++i) iv[8 + i] = static_cast<std::uint8_t>(block >> (56 - 8 * i));
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::uint8_t skip[16] = {};
    int len = 0;
    bool ok = ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key.data(), iv) == 1;
    if (ok && offset % 16 != 0) ok = EVP_EncryptUpdate(ctx, skip, &len, skip, static_cast<int>(offset % 16)) == 1;
    for (std::size_t done = 0; ok && done < n;) {
      const int step = static_cast<int>(std::min<std::size_t>(n - done, kPiece));
      auto* q = reinterpret_cast<unsigned char*>(p + done);
      ok = EVP_EncryptUpdate(ctx, q, &len, q, step) == 1;
      done += static_cast<std::size_t>(step);
    }
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(iv, sizeof iv);
    OPENSSL_cleanse(skip, sizeof skip);
    if (!ok) return Error{Errc::io, 0, "the spill cipher failed (OpenSSL)"};
    return ok_status();
  }
};

CoreSpool::CoreSpool(std::unique_ptr<State> state) : s_(std::move(state)) {}
CoreSpool::CoreSpool(CoreSpool&&) noexcept = default;
CoreSpool& CoreSpool::operator=(CoreSpool&&) noexcept = default;
CoreSpool::~CoreSpool() = default;

std::uint64_t CoreSpool::size() const { return s_->kept + s_->spilled; }
SpoolEnd CoreSpool::end() const { return s_->end; }
const std::string& CoreSpool::sha256() const { return s_->sha256; }
std::uint64_t CoreSpool::spilled() const { return s_->spilled; }
int CoreSpool::spill_fd() const { return s_->spill.get(); }

Result<CoreSpool> CoreSpool::receive(int fd, const SpoolLimits& limits) {
  std::unique_ptr<State> s;
  try {
    s = std::make_unique<State>();
  } catch (const std::bad_alloc&) {
    return Error{Errc::io, 0, "cannot allocate a page excluded from dumps for the spill key"};
  }
  if (RAND_bytes(s->key.data(), static_cast<int>(s->key.size())) != 1) {
    return Error{Errc::io, 0, "no random bytes for the spill key (OpenSSL)"};
  }
  s->memory = UniqueFd(memfd_create("dumpguard-core", MFD_CLOEXEC));
  if (s->memory.get() < 0) return os_error("cannot create a memfd for the core");
  // Reads never block past the deadline: the descriptor is polled, then read without waiting.
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);

  Sha256Stream hash;
  PlainBuffer buffer;
  std::uint64_t total = 0;
  for (;;) {
    const bool at_limit = limits.max_bytes != 0 && total >= limits.max_bytes;
    const auto now = std::chrono::steady_clock::now();
    if (now >= limits.deadline) {
      s->end = SpoolEnd::deadline;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limits.deadline - now).count();
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 60'000)));
    if (ready < 0 && errno != EINTR) return os_error("cannot wait for the core on standard input");
    if (ready <= 0) continue;
    if (at_limit) {
      // At the limit: one more byte means the core was larger; end of input means it was not.
      std::byte probe{};
      const ssize_t more = read(fd, &probe, 1);
      if (more < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (more != 0) s->end = SpoolEnd::limit;
      break;
    }
    std::size_t want = kPiece;
    if (limits.max_bytes != 0) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limits.max_bytes - total));
    // Memory first, up to the cap exactly.
    if (total < limits.memory_cap) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limits.memory_cap - total));
    const ssize_t got = read(fd, buffer.bytes.data(), want);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return os_error("cannot read the core from standard input");
    if (got == 0) break;
    const auto n = static_cast<std::size_t>(got);
    hash.update(std::span<const std::byte>(buffer.bytes.data(), n));
    if (total < limits.memory_cap) {
      DG_CHECK(write_all(s->memory.get(), buffer.bytes.data(), n, total, "core into memory"));
      s->kept += n;
    } else {
      if (s->spill.get() < 0) {
        DG_TRY(s->spill, make_unnamed_temp(limits.tmpdir.empty() ? default_tmpdir() : limits.tmpdir));
      }
      DG_CHECK(s->crypt(buffer.bytes.data(), n, s->spilled));
      DG_CHECK(write_all(s->spill.get(), buffer.bytes.data(), n, s->spilled, "encrypted spill file"));
      s->spilled += n;
    }
    total += n;
  }
  s->sha256 = hash.finish();
  return CoreSpool(std::move(s));
}

Status CoreSpool::for_each_piece(const std::function<Status(std::span<const std::byte>)>& sink) const {
  PlainBuffer buffer;
  for (std::uint64_t at = 0; at < s_->kept;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, s_->kept - at));
    DG_CHECK(read_all(s_->memory.get(), buffer.bytes.data(), n, at, "core in memory"));
    DG_CHECK(sink(std::span<const std::byte>(buffer.bytes.data(), n)));
    at += n;
  }
  for (std::uint64_t at = 0; at < s_->spilled;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, s_->spilled - at));
    DG_CHECK(read_all(s_->spill.get(), buffer.bytes.data(), n, at, "encrypted spill file"));
    DG_CHECK(s_->crypt(buffer.bytes.data(), n, at));
    DG_CHECK(sink(std::span<const std::byte>(buffer.bytes.data(), n)));
    at += n;
  }
  return ok_status();
}

Result<UniqueFd> CoreSpool::into_memory() {
  PlainBuffer buffer;
  for (std::uint64_t at = 0; at < s_->spilled;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, s_->spilled - at));
    DG_CHECK(read_all(s_->spill.get(), buffer.bytes.data(), n, at, "encrypted spill file"));
    DG_CHECK(s_->crypt(buffer.bytes.data(), n, at));
    DG_CHECK(write_all(s_->memory.get(), buffer.bytes.data(), n, s_->kept + at, "core into memory"));
    at += n;
  }
  s_->kept += s_->spilled;
  s_->spilled = 0;
  s_->spill.reset();
  const int dup_fd = fcntl(s_->memory.get(), F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return os_error("cannot duplicate the core's memfd");
  return UniqueFd(dup_fd);
}

}  // namespace dumpguard
