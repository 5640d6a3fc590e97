// Where a core piped by the kernel waits while the handler reads it: in memory (a memfd) up to
// a cap, and beyond the cap in an unnamed temporary file (O_TMPFILE) encrypted with AES-256-CTR
// under a key made for this core alone. The key lives in a page excluded from dumps and locked
// in RAM (the protection library's SecretBuffer) and dies with the handler, so no plaintext
// page of the core reaches a file system, and the spilled bytes are noise to anyone who reads
// the disk afterwards.
//
// Reading stops at the first of: end of input, the size limit (the process's RLIMIT_CORE, %c,
// or the configured largest size), the deadline. The caller closes the input right after, which
// releases the crashed process.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

struct SpoolLimits {
  std::uint64_t memory_cap = 256ull << 20;  // bytes kept in the memfd; the rest is spilled encrypted
  std::uint64_t max_bytes = 0;              // stop reading here (0: no limit)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string tmpdir;                       // where the encrypted spill file is made
};

enum class SpoolEnd {
  complete,  // the input ended
  limit,     // max_bytes were read and more was coming
  deadline,  // the deadline passed before the input ended
};
const char* to_string(SpoolEnd end);

class CoreSpool {
 public:
  // Reads `fd` (a pipe, or any readable descriptor) as the limits say. Errors are the handler's
  // own (no memory for a memfd, the spill directory cannot be written), never the input's.
  static Result<CoreSpool> receive(int fd, const SpoolLimits& limits);

  CoreSpool(CoreSpool&&) noexcept;
  CoreSpool& operator=(CoreSpool&&) noexcept;
  ~CoreSpool();

  std::uint64_t size() const;          // bytes received and kept
  SpoolEnd end() const;
  const std::string& sha256() const;   // of the bytes kept, hex
  std::uint64_t spilled() const;       // of them, bytes in the encrypted file
  int spill_fd() const;                // the encrypted file (-1 when nothing was spilled)

  // The bytes in order, in pieces of at most 1 MiB, decrypted on the way; a piece is valid only
  // during the call.
  Status for_each_piece(const std::function<Status(std::span<const std::byte>)>& sink) const;
  // The whole core in one memfd, for the readers (which map what they read): the spilled part is
  // decrypted into memory after the kept part, and the encrypted file closed. Call once.
  Result<UniqueFd> into_memory();

 private:
  struct State;
  explicit CoreSpool(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace dumpguard
