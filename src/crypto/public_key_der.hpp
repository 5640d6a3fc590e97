// Public keys from their DER forms: X.509 certificates (RFC 5280), SubjectPublicKeyInfo,
// and PKCS#1 RSAPublicKey (RFC 8017 A.1.1). OpenSSL parses; we keep only the numbers.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include <openssl/evp.h>

#include "crypto/public_key.hpp"

namespace dumpguard {

struct ParsedPublic {
  PublicKey key;           // fingerprint filled in
  std::size_t length = 0;  // DER bytes the structure spans
};

std::optional<ParsedPublic> parse_certificate_der(std::span<const std::uint8_t> in);
std::optional<ParsedPublic> parse_spki_der(std::span<const std::uint8_t> in);
std::optional<ParsedPublic> parse_rsa_public_der(std::span<const std::uint8_t> in);

// The numbers of an OpenSSL public key, with its fingerprint; nullopt for other key types.
std::optional<PublicKey> public_key_of(const EVP_PKEY* pkey);

}  // namespace dumpguard
