// Public keys the scan harvests from the dump (certificates, SPKI, PKCS#1, CNG, SSH, JWK)
// or that structured private keys imply. Public keys are not secrets: they are what the
// hunts look for the private halves of, and what fingerprints are computed from.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace dumpguard {

enum class KeyType { rsa, ec, ed25519, x25519 };

struct PublicKey {
  KeyType type = KeyType::rsa;
  std::vector<std::uint8_t> n;      // RSA modulus, big-endian, no leading zeros
  std::vector<std::uint8_t> e;      // RSA public exponent, big-endian
  int curve_nid = 0;                // EC: OpenSSL NID of the named curve
  std::vector<std::uint8_t> point;  // EC: uncompressed point; Ed25519/X25519: 32 bytes
  std::string fingerprint;          // "sha256:" + hex SHA-256 of the SubjectPublicKeyInfo DER
  std::string origin;               // where it came from, e.g. "certificate at 0x1a2b"
  bool ca = false;                  // from a CA certificate (basicConstraints CA:TRUE)
  bool derived = false;             // computed from a private key found here, not seen itself
  unsigned bits = 0;                // modulus or field size
};

// Harvested keys, unique by fingerprint (the first origin is kept). Keys stay where they are
// as others are added (a deque): hunts hold pointers to their targets while the RSA hunt adds
// the moduli it factored.
class KeyRing {
 public:
  // Returns false when a key with that fingerprint is already there.
  bool add(PublicKey key);
  const std::deque<PublicKey>& keys() const { return keys_; }
  const PublicKey* find(const std::string& fingerprint) const;
  // Marks the keys with these fingerprints as CA keys, which the hunts skip.
  void mark_ca(const std::set<std::string>& fingerprints);
  // Adds a key the user supplied, or marks the same key already harvested as supplied: it is
  // hunted even when it is a CA's, and counts as independent evidence (not derived).
  void add_supplied(PublicKey key);

 private:
  std::deque<PublicKey> keys_;
};

}  // namespace dumpguard
