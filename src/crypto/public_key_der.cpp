#include "crypto/public_key_der.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <vector>

#include "crypto/der.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/private_key.hpp"
#include "crypto/spki.hpp"

namespace dumpguard {

namespace {
std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}
}  // namespace

std::optional<PublicKey> public_key_of(const EVP_PKEY* pkey) {
  PublicKey key;
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      BN_free(n);
      BN_free(e);
      return std::nullopt;
    }
    key.type = KeyType::rsa;
    key.n = bn_bytes(n);
    key.e = bn_bytes(e);
    BN_free(n);
    BN_free(e);
  } else if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    std::size_t curve_len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &curve_len) != 1) {
      return std::nullopt;
    }
    key.type = KeyType::ec;
    key.curve_nid = OBJ_txt2nid(curve);
    if (key.curve_nid == NID_undef) key.curve_nid = EC_curve_nist2nid(curve);
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &len);
    key.point.resize(len);
    if (len == 0 || EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, key.point.data(),
                                                    key.point.size(), &len) != 1) {
      return std::nullopt;
    }
    // Keys may be stored compressed; fingerprints use the uncompressed point, as SPKI does.
    EcGroupPtr group(EC_GROUP_new_by_curve_name(key.curve_nid));
    EcPointPtr point(group ? EC_POINT_new(group.get()) : nullptr);
    if (!point || EC_POINT_oct2point(group.get(), point.get(), key.point.data(), key.point.size(), nullptr) != 1) {
      return std::nullopt;
    }
    key.point.resize(EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, nullptr));
    EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, key.point.data(), key.point.size(),
                       nullptr);
  } else if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_X25519) {
    key.type = id == EVP_PKEY_ED25519 ? KeyType::ed25519 : KeyType::x25519;
    key.point.resize(32);
    std::size_t len = key.point.size();
    if (EVP_PKEY_get_raw_public_key(pkey, key.point.data(), &len) != 1 || len != 32) return std::nullopt;
  } else {
    return std::nullopt;
  }
  fingerprint(key);
  if (key.type == KeyType::ec) key.bits = static_cast<unsigned>(EVP_PKEY_get_bits(pkey));
  return key;
}

std::optional<ParsedPublic> parse_certificate_der(std::span<const std::uint8_t> in) {
  auto outer = der::read(in);
  if (!outer || outer->tag != der::kSequence) return std::nullopt;
  const unsigned char* p = in.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(outer->size()));
  if (cert == nullptr) return std::nullopt;
  std::optional<ParsedPublic> result;
  if (EVP_PKEY* pkey = X509_get0_pubkey(cert)) {
    if (auto key = public_key_of(pkey)) {
      result = ParsedPublic{*key, outer->size()};
      // X509_check_ca: nonzero for a CA (basicConstraints CA:TRUE, or a v1 self-signed root).
      result->key.ca = X509_check_ca(cert) != 0;
    }
  }
  X509_free(cert);
  return result;
}

std::optional<ParsedPublic> parse_spki_der(std::span<const std::uint8_t> in) {
  auto outer = der::read(in);
  if (!outer || outer->tag != der::kSequence) return std::nullopt;
  const unsigned char* p = in.data();
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(outer->size())));
  if (!pkey) return std::nullopt;
  auto key = public_key_of(pkey.get());
  if (!key) return std::nullopt;
  return ParsedPublic{*key, outer->size()};
}

std::optional<ParsedPublic> parse_rsa_public_der(std::span<const std::uint8_t> in) {
  auto outer = der::read(in);
  if (!outer || outer->tag != der::kSequence) return std::nullopt;
  der::Cursor c(outer->value);
  auto n = c.next(der::kInteger);
  auto e = c.next(der::kInteger);
  if (!n || !e || !c.empty()) return std::nullopt;
  auto nv = der::unsigned_integer(*n);
  auto ev = der::unsigned_integer(*e);
  if (!nv || !ev || nv->size() < 64 || ev->empty() || ev->size() > 8) return std::nullopt;
  ParsedPublic out;
  out.key.type = KeyType::rsa;
  out.key.n.assign(nv->begin(), nv->end());
  out.key.e.assign(ev->begin(), ev->end());
  fingerprint(out.key);
  out.length = outer->size();
  return out;
}

}  // namespace dumpguard
