// The trust store's fingerprints (src/crypto/trust_store.cpp) against OpenSSL's own reading of
// the same bundle: every certificate decoded with OpenSSL, its key's fingerprint taken from the
// key's numbers (public_key_of), must be in the set, and the set must hold nothing else but
// the runtimes' compiled-in roots. The scan takes most keys from the certificates' encoding
// without OpenSSL's decoders, so this is what holds that shortcut to the same answer.
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <set>
#include <string>

#include "crypto/public_key_der.hpp"
#include "crypto/trust_store.hpp"

namespace dumpguard {
namespace {

TEST(TrustStore, EveryBundleKeyHasOpenSslsFingerprint) {
  FILE* f = std::fopen(X509_get_default_cert_file(), "r");
  if (f == nullptr) GTEST_SKIP() << "no CA bundle at " << X509_get_default_cert_file();
  std::set<std::string> expected;
  std::set<int> types;
  while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    if (EVP_PKEY* pkey = X509_get0_pubkey(cert)) {
      types.insert(EVP_PKEY_get_base_id(pkey));
      if (auto key = public_key_of(pkey)) expected.insert(key->fingerprint);
    }
    X509_free(cert);
  }
  std::fclose(f);
  ASSERT_GT(expected.size(), 10u) << "the bundle holds almost no certificate: this proves nothing";
  EXPECT_TRUE(types.count(EVP_PKEY_RSA) && types.count(EVP_PKEY_EC)) << "both RSA and EC roots are expected in a CA bundle";
  std::set<std::string> got = trust_store_fingerprints();
  for (const std::string& fingerprint : expected) EXPECT_TRUE(got.count(fingerprint)) << fingerprint;
  for (std::string_view root : runtime_root_fingerprints()) got.erase(std::string(root));
  for (const std::string& fingerprint : got) EXPECT_TRUE(expected.count(fingerprint)) << "not a bundle key: " << fingerprint;
}

}  // namespace
}  // namespace dumpguard
