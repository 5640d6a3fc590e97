// Private keys in their DER forms: PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), PKCS#8
// PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958) for RSA, EC, Ed25519 and X25519
// (RFC 8410), and SEC1 ECPrivateKey (RFC 5915). Parsing yields spans into the input; the
// numbers are never copied except into short-lived, wiped BIGNUMs during checks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "crypto/public_key.hpp"

namespace dumpguard {

using ByteSpan = std::span<const std::uint8_t>;
// A dump's bytes as the unsigned bytes the key parsers read.
inline ByteSpan u8_span(std::span<const std::byte> s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

struct RsaParts {
  ByteSpan n, e, d, p, q, dp, dq, qinv;  // big-endian magnitudes
};

struct ParsedPrivateKey {
  std::string form;  // "pkcs1", "pkcs8", "sec1"
  KeyType type = KeyType::rsa;
  std::size_t length = 0;  // DER bytes the whole structure spans
  RsaParts rsa;
  int curve_nid = 0;
  ByteSpan scalar;  // EC private scalar, or the Ed25519/X25519 seed
  ByteSpan public_point;  // EC point or Ed25519/X25519 public key stored with it; may be empty
};

// The private key whose DER starts at in[0], or nullopt.
std::optional<ParsedPrivateKey> parse_private_key_der(ByteSpan in);

// OpenSSL NID of an OBJECT IDENTIFIER's content octets, or 0.
int nid_of_oid(ByteSpan oid_content);

// The result of checking a private key against its public half.
struct KeyCheck {
  bool verified = false;
  std::string proof;          // what holds, or what failed, in words
  std::optional<PublicKey> public_key;  // with fingerprint; derived when not stored
};

// RSA: p·q = n and d·e ≡ 1 (mod λ(n)) when d is present.
KeyCheck check_rsa(const RsaParts& parts);
// RSA without d (a CNG BCRYPT_RSAPRIVATE_BLOB): p·q = n, which the primes make enough.
KeyCheck check_rsa_factors(ByteSpan n, ByteSpan e, ByteSpan p, ByteSpan q);
// RSA with d but no primes (RFC 7518 6.3.2 allows it in a JWK): m^(d·e) ≡ m (mod n).
KeyCheck check_rsa_exponent(ByteSpan n, ByteSpan e, ByteSpan d);
// An RSA public key from its big-endian numbers, with its fingerprint.
PublicKey rsa_public_key(ByteSpan n, ByteSpan e);
// EC: d·G = Q when Q is stored; otherwise Q is derived and the key is unverified.
KeyCheck check_ec(int curve_nid, ByteSpan scalar, ByteSpan stored_point);
// Ed25519 / X25519: the seed gives the stored public key; otherwise derived, unverified.
KeyCheck check_edwards(KeyType type, ByteSpan seed, ByteSpan stored_public);

// Short curve names for reports: "p256", "p384", "p521", "secp256k1".
std::string curve_name(int nid);

}  // namespace dumpguard
