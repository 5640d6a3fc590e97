#include "crypto/public_key.hpp"

namespace dumpguard {

bool KeyRing::add(PublicKey key) {
  for (PublicKey& existing : keys_) {
    if (existing.fingerprint == key.fingerprint) {
      // A key seen as a public key outranks one only derived from a private key: only the
      // former is independent evidence that can verify an EC scalar or an Ed25519 seed.
      if (existing.derived && !key.derived) existing = std::move(key);
      return false;
    }
  }
  keys_.push_back(std::move(key));
  return true;
}

const PublicKey* KeyRing::find(const std::string& fingerprint) const {
  for (const PublicKey& k : keys_) {
    if (k.fingerprint == fingerprint) return &k;
  }
  return nullptr;
}

void KeyRing::mark_ca(const std::set<std::string>& fingerprints) {
  for (PublicKey& k : keys_) {
    if (fingerprints.count(k.fingerprint)) k.ca = true;
  }
}

void KeyRing::add_supplied(PublicKey key) {
  key.ca = false;
  key.derived = false;
  for (PublicKey& k : keys_) {
    if (k.fingerprint == key.fingerprint) {
      k.ca = false;
      k.derived = false;
      return;
    }
  }
  keys_.push_back(std::move(key));
}

}  // namespace dumpguard
