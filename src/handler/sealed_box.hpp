// A file only the holder of a private key can read: how the core handler keeps a core it could
// not clean (quarantine). The handler holds only the recipient's X25519 public key, so nobody on
// the host, the handler included, can read a quarantined core back.
//
// Layout (all of it after the header is authenticated):
//   "DGQ1"                   4 bytes
//   ephemeral public key     32 bytes (X25519)
//   nonce                    16 bytes (random)
//   ciphertext               AES-256-CTR of the core, counter block = nonce
//   tag                      32 bytes: HMAC-SHA256 over everything before it
// Keys: HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral public key || recipient
// public key, info = "dumpguard sealed core v1"), 64 bytes: the AES key, then the HMAC key.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

class SealedBoxWriter {
 public:
  // `recipient_pem`: the path of an X25519 public key in PEM (`openssl pkey -pubout`).
  // `sink` gets the sealed bytes in order.
  using Sink = std::function<Status(std::span<const std::byte>)>;
  static Result<SealedBoxWriter> open(const std::string& recipient_pem, Sink sink);
  SealedBoxWriter(SealedBoxWriter&&) noexcept;
  ~SealedBoxWriter();

  Status write(std::span<const std::byte> plain);
  Status finish();  // the tag; call once, last

 private:
  struct State;
  explicit SealedBoxWriter(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dumpguard
