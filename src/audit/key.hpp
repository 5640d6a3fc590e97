// The key that signs (or verifies) the audit log: HMAC-SHA256 with a secret of 16 to 64 raw
// bytes, or Ed25519 (PEM: a PKCS#8 private key to sign, a SubjectPublicKeyInfo public key, or
// the private key, to verify). Each key has an id that names it in every record it signs, so a
// verifier can say which record switched to another algorithm or key without holding that key.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

enum class AuditAlg { hmac_sha256, ed25519 };

// "hmac-sha256" or "ed25519": the record's "alg" field.
std::string_view to_string(AuditAlg alg);

class AuditKey {
 public:
  // A key from a key file's bytes: PEM ("-----BEGIN PRIVATE KEY-----" or "-----BEGIN PUBLIC
  // KEY-----", Ed25519 only), else an HMAC secret of 16 to 64 bytes. `name` is for errors.
  static Result<AuditKey> from_bytes(std::span<const std::uint8_t> bytes, const std::string& name = "the audit key");
  // Makes a new random key.
  static Result<AuditKey> generate(AuditAlg alg);

  // Copies share the Ed25519 key object (reference-counted) and copy an HMAC secret, so that
  // an AuditLog stays copyable as it was.
  AuditKey(const AuditKey& other);
  AuditKey& operator=(const AuditKey& other);
  AuditKey(AuditKey&&) noexcept;
  AuditKey& operator=(AuditKey&&) noexcept;
  ~AuditKey();  // wipes an HMAC secret

  AuditAlg alg() const { return alg_; }
  // 32 hex digits. Ed25519: SHA-256 of the raw public key. HMAC: HMAC-SHA256 under the key of
  // a fixed label, so the id names the key without revealing anything that helps find it.
  const std::string& id() const { return id_; }
  // Whether it can sign (an HMAC secret, an Ed25519 private key) or only verify.
  bool can_sign() const;

  // The hex signature of `message` (64 digits for HMAC, 128 for Ed25519). Needs can_sign().
  Result<std::string> sign(std::string_view message) const;
  // Whether `sig_hex` is this key's signature of `message` (constant time for HMAC).
  bool verify(std::string_view message, std::string_view sig_hex) const;
  // Signature length in hex digits for this algorithm.
  std::size_t sig_hex_size() const { return alg_ == AuditAlg::hmac_sha256 ? 64 : 128; }

  // Key file contents. The private file is secret (write it mode 0600); the public one is empty
  // for HMAC, which has none.
  Result<std::string> private_file() const;
  Result<std::string> public_file() const;

 private:
  struct Pkey;
  friend class AuditLog;  // an AuditLog made by its default constructor holds an empty key
  AuditKey();
  AuditAlg alg_ = AuditAlg::hmac_sha256;
  std::vector<std::uint8_t> secret_;  // HMAC only
  std::unique_ptr<Pkey> pkey_;        // Ed25519 only
  bool has_private_ = false;
  std::string id_;
};

struct LoadedAuditKey {
  AuditKey key;
  bool loose_mode = false;  // a secret key file that group or others may read
};

// Reads a key file (at most 4 KiB; O_NOFOLLOW, regular files only). Errors never quote the
// file's bytes.
Result<LoadedAuditKey> load_audit_key(const std::string& path);

}  // namespace dumpguard
