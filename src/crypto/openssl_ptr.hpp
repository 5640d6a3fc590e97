// RAII owners for the OpenSSL objects dumpguard uses. Secret numbers use BN_clear_free
// so their limbs are wiped when released.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>

namespace dumpguard {

struct BnFree { void operator()(BIGNUM* b) const { BN_clear_free(b); } };
struct BnCtxFree { void operator()(BN_CTX* c) const { BN_CTX_free(c); } };
struct EcGroupFree { void operator()(EC_GROUP* g) const { EC_GROUP_free(g); } };
struct EcPointFree { void operator()(EC_POINT* p) const { EC_POINT_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };

using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline BnPtr bn_new() { return BnPtr(BN_new()); }
inline BnPtr bn_from_be(const unsigned char* p, std::size_t n) {
  return BnPtr(BN_bin2bn(p, static_cast<int>(n), nullptr));
}

}  // namespace dumpguard
