// SubjectPublicKeyInfo (RFC 5280 4.1, RFC 3279, RFC 5480, RFC 8410) encoded from a
// public key's numbers, so that every key gets the same fingerprint whatever form it was
// found in: "sha256:" + hex(SHA-256(SPKI DER)), as `openssl pkey -pubout -outform DER | sha256sum`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/public_key.hpp"

namespace dumpguard {
std::vector<std::uint8_t> spki_der(const PublicKey& key);
// Fills key.fingerprint (and key.bits) from the key's numbers.
void fingerprint(PublicKey& key);
}  // namespace dumpguard
