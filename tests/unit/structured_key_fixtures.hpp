// Shared by the structured-key detector tests (OpenSSH, CNG, CAPI, JWK): keys generated
// with OpenSSL EVP at test time, random buffers to plant structures in, a one-region Dump
// to run a detector over, and the SPKI SHA-256 fingerprint computed by OpenSSL itself
// (i2d_PUBKEY), independent of dumpguard's own SPKI encoder.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "fixtures/detector_harness.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "detect/detector.hpp"

namespace dumpguard::test {

using Bytes = std::vector<std::uint8_t>;

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

inline Pkey rsa_key(unsigned bits) { return Pkey(EVP_RSA_gen(bits)); }
inline Pkey ec_key(const char* curve) { return Pkey(EVP_EC_gen(curve)); }
inline Pkey raw_key(const char* type) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, type)); }

// A BIGNUM parameter, big-endian, left-padded to `width` bytes when width > 0.
inline Bytes bn_param(const EVP_PKEY* key, const char* name, std::size_t width = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error(name);
  const std::size_t n = static_cast<std::size_t>(BN_num_bytes(bn));
  Bytes out(width > n ? width : n);
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_clear_free(bn);
  return out;
}

// The EC public point, uncompressed (04‖X‖Y).
inline Bytes ec_point(const EVP_PKEY* key) {
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len);
  Bytes out(len);
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(), &len);
  return out;
}

inline Bytes raw_private(const EVP_PKEY* key) {
  std::size_t len = 0;
  EVP_PKEY_get_raw_private_key(key, nullptr, &len);
  Bytes out(len);
  EVP_PKEY_get_raw_private_key(key, out.data(), &len);
  return out;
}

inline Bytes raw_public(const EVP_PKEY* key) {
  std::size_t len = 0;
  EVP_PKEY_get_raw_public_key(key, nullptr, &len);
  Bytes out(len);
  EVP_PKEY_get_raw_public_key(key, out.data(), &len);
  return out;
}

// "sha256:" + hex(SHA-256(i2d_PUBKEY(key))), as `openssl pkey -pubout -outform DER | sha256sum`.
inline std::string spki_sha256(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(len), md);
  OPENSSL_free(der);
  static const char* digits = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : md) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  RAND_bytes(out.data(), static_cast<int>(n));
  return out;
}

inline void plant(Bytes& buffer, std::size_t at, const Bytes& what) {
  if (at + what.size() > buffer.size()) throw std::runtime_error("plant past the end");
  std::copy(what.begin(), what.end(), buffer.begin() + static_cast<std::ptrdiff_t>(at));
}


// The buffer sits at file offset kFileOffset as one region mapped at kVaddr.
inline constexpr std::uint64_t kFileOffset = 0x2000;
inline constexpr std::uint64_t kVaddr = 0x7f1234560000;

inline CollectingSink run_detector(StructureDetector& detector, const Bytes& buffer) {
  DumpModel model;
  Region region;
  region.file_offset = kFileOffset;
  region.size = buffer.size();
  region.vaddr = kVaddr;
  region.kind = RegionKind::heap;
  model.regions.push_back(region);
  static const std::vector<std::uint8_t> fingerprint_key(32, 0x5a);
  return run_over(detector, buffer, fingerprint_key, kFileOffset, model, 0);
}

}  // namespace dumpguard::test
