#include "crypto/trust_store.hpp"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <span>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/public_key_der.hpp"

namespace dumpguard {

namespace {

// The certificate's SubjectPublicKeyInfo as it is encoded there, when that is the encoding the
// fingerprint is taken over (spki.hpp): an RSA key with NULL parameters, or an EC key on a named
// curve with an uncompressed point; nullopt for anything else, which OpenSSL then decodes.
std::optional<std::span<const std::uint8_t>> canonical_spki(std::span<const std::uint8_t> certificate) {
  static constexpr std::array<std::uint8_t, 13> kRsa{0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48,
                                                     0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01};
  static constexpr std::array<std::uint8_t, 9> kEc{0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
  const auto cert = der::read(certificate);
  if (!cert || cert->tag != 0x30) return std::nullopt;
  der::Cursor outer(cert->value);
  const auto tbs = outer.next(0x30);
  if (!tbs) return std::nullopt;
  der::Cursor fields(tbs->value);
  if (auto first = fields.peek(); first && first->tag == 0xA0) fields.next();  // [0] version
  // serialNumber, signature, issuer, validity, subject
  if (!fields.next(der::kInteger)) return std::nullopt;
  for (int i = 0; i < 4; ++i) {
    if (!fields.next(0x30)) return std::nullopt;
  }
  const auto spki = fields.next(0x30);
  if (!spki) return std::nullopt;
  const std::span<const std::uint8_t> whole(spki->value.data() - spki->header, spki->size());
  der::Cursor parts(spki->value);
  const auto algorithm = parts.next(0x30);
  const auto key = parts.next(der::kBitString);
  if (!algorithm || !key || !parts.empty() || key->value.size() < 2) return std::nullopt;
  const std::span<const std::uint8_t> algorithm_bytes(algorithm->value.data() - algorithm->header, algorithm->size());
  if (algorithm_bytes.size() == kRsa.size() + 2 && std::equal(kRsa.begin(), kRsa.end(), algorithm_bytes.begin()) &&
      algorithm_bytes[kRsa.size()] == der::kNull && algorithm_bytes[kRsa.size() + 1] == 0) {
    return whole;
  }
  der::Cursor ec(algorithm->value);
  const auto oid = ec.next(0x06);
  const auto curve = ec.next(0x06);
  if (oid && curve && ec.empty() && oid->size() == kEc.size() &&
      std::equal(kEc.begin(), kEc.end(), oid->value.data() - oid->header) && key->value[0] == 0 && key->value[1] == 0x04) {
    return whole;
  }
  return std::nullopt;
}

}  // namespace

std::set<std::string> trust_store_fingerprints() {
  std::set<std::string> out;
  for (std::string_view root : runtime_root_fingerprints()) out.emplace(root);
  FILE* f = std::fopen(X509_get_default_cert_file(), "r");
  if (f == nullptr) return out;
  // A bundle is a few hundred certificates; the bound only guards against a looping file.
  // Each is read as PEM to its DER, and its key's fingerprint is taken over the key's encoding
  // there: decoding every certificate with OpenSSL cost each scan 25 ms of CPU, before its
  // threads start. OpenSSL decodes only the keys encoded another way.
  for (int i = 0; i < 100000; ++i) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read(f, &name, &header, &data, &length) != 1) break;
    if (std::string_view(name) == PEM_STRING_X509 || std::string_view(name) == PEM_STRING_X509_TRUSTED) {
      const std::span<const std::uint8_t> certificate(data, static_cast<std::size_t>(length));
      if (auto spki = canonical_spki(certificate)) {
        out.insert("sha256:" + hex(sha256(*spki)));
      } else {
        const unsigned char* p = data;
        if (X509* cert = d2i_X509(nullptr, &p, length)) {
          if (EVP_PKEY* pkey = X509_get0_pubkey(cert)) {
            if (auto key = public_key_of(pkey)) out.insert(key->fingerprint);
          }
          X509_free(cert);
        }
      }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  std::fclose(f);
  return out;
}

}  // namespace dumpguard
