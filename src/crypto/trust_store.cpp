#include "crypto/trust_store.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include "crypto/public_key_der.hpp"

namespace dumpguard {

std::set<std::string> trust_store_fingerprints() {
  std::set<std::string> out;
  for (std::string_view root : runtime_root_fingerprints()) out.emplace(root);
  FILE* f = std::fopen(X509_get_default_cert_file(), "r");
  if (f == nullptr) return out;
  // A bundle is a few hundred certificates; the bound only guards against a looping file.
  for (int i = 0; i < 100000; ++i) {
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    if (EVP_PKEY* pkey = X509_get0_pubkey(cert)) {
      if (auto key = public_key_of(pkey)) out.insert(key->fingerprint);
    }
    X509_free(cert);
  }
  std::fclose(f);
  return out;
}

}  // namespace dumpguard
