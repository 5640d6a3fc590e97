// SHA-256 and hex for public-key fingerprints; HMAC-SHA256 under the installation's
// fingerprint key for symmetric secrets, so a report names an AES key without revealing it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dumpguard {
std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data);
std::string hex(std::span<const std::uint8_t> data);
// "hmac-sha256:" + hex(HMAC-SHA256(fingerprint_key, secret)): stable on one installation,
// useless for testing guesses of the secret without the key.
std::string keyed_fingerprint(std::span<const std::uint8_t> fingerprint_key, std::span<const std::uint8_t> secret);

// A streaming SHA-256, for bytes that arrive in pieces: a dump may be far larger than memory.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  void update(std::span<const std::byte> data);
  std::string finish();  // hex; call once

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};
}  // namespace dumpguard
