#include "crypto/private_key.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <fmt/format.h>

#include <vector>

#include "crypto/der.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/spki.hpp"

namespace dumpguard {

namespace {

bool equal(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::optional<RsaParts> parse_pkcs1(ByteSpan content) {
  der::Cursor c(content);
  auto version = c.next(der::kInteger);
  if (!version || der::small_integer(*version) != 0) return std::nullopt;  // two-prime keys only
  RsaParts p;
  ByteSpan* fields[] = {&p.n, &p.e, &p.d, &p.p, &p.q, &p.dp, &p.dq, &p.qinv};
  for (ByteSpan* f : fields) {
    auto t = c.next(der::kInteger);
    if (!t) return std::nullopt;
    auto v = der::unsigned_integer(*t);
    if (!v || v->empty()) return std::nullopt;
    *f = *v;
  }
  // The modulus of any real key is at least 512 bits; tiny lookalikes abound in memory.
  if (p.n.size() < 64 || !c.empty()) return std::nullopt;
  return p;
}

struct EcKey {
  ByteSpan scalar;
  int curve_nid = 0;
  ByteSpan point;
};

std::optional<EcKey> parse_sec1(ByteSpan content) {
  der::Cursor c(content);
  auto version = c.next(der::kInteger);
  if (!version || der::small_integer(*version) != 1) return std::nullopt;
  auto scalar = c.next(der::kOctetString);
  if (!scalar || scalar->value.empty() || scalar->value.size() > 66) return std::nullopt;
  EcKey k;
  k.scalar = scalar->value;
  while (!c.empty()) {
    auto t = c.next();
    if (!t) return std::nullopt;
    if (t->tag == 0xA0) {  // [0] ECParameters: a named curve
      auto o = der::read(t->value);
      if (!o || o->tag != der::kOid) return std::nullopt;
      k.curve_nid = nid_of_oid(o->value);
    } else if (t->tag == 0xA1) {  // [1] publicKey BIT STRING
      auto b = der::read(t->value);
      if (!b || b->tag != der::kBitString || b->value.size() < 2 || b->value[0] != 0) return std::nullopt;
      k.point = b->value.subspan(1);
    } else {
      return std::nullopt;
    }
  }
  return k;
}

}  // namespace

int nid_of_oid(ByteSpan oid_content) {
  if (oid_content.empty() || oid_content.size() > 32) return 0;
  std::vector<std::uint8_t> der_oid{der::kOid, static_cast<std::uint8_t>(oid_content.size())};
  der_oid.insert(der_oid.end(), oid_content.begin(), oid_content.end());
  const unsigned char* p = der_oid.data();
  ASN1_OBJECT* obj = d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(der_oid.size()));
  if (obj == nullptr) return 0;
  const int nid = OBJ_obj2nid(obj);
  ASN1_OBJECT_free(obj);
  return nid == NID_undef ? 0 : nid;
}

std::string curve_name(int nid) {
  switch (nid) {
    case NID_X9_62_prime256v1: return "p256";
    case NID_secp384r1: return "p384";
    case NID_secp521r1: return "p521";
    case NID_secp256k1: return "secp256k1";
    default: {
      const char* sn = OBJ_nid2sn(nid);
      return sn ? sn : "unknown-curve";
    }
  }
}

std::optional<ParsedPrivateKey> parse_private_key_der(ByteSpan in) {
  auto outer = der::read(in);
  if (!outer || outer->tag != der::kSequence) return std::nullopt;
  ParsedPrivateKey key;
  key.length = outer->size();

  if (auto rsa = parse_pkcs1(outer->value)) {
    key.form = "pkcs1";
    key.type = KeyType::rsa;
    key.rsa = *rsa;
    return key;
  }
  if (auto ec = parse_sec1(outer->value)) {
    if (ec->curve_nid == 0) return std::nullopt;  // SEC1 alone must name its curve to be checked
    key.form = "sec1";
    key.type = KeyType::ec;
    key.curve_nid = ec->curve_nid;
    key.scalar = ec->scalar;
    key.public_point = ec->point;
    return key;
  }

  // PKCS#8: version, AlgorithmIdentifier, OCTET STRING privateKey, [0] attributes, [1] publicKey.
  der::Cursor c(outer->value);
  auto version = c.next(der::kInteger);
  if (!version) return std::nullopt;
  const auto v = der::small_integer(*version);
  if (v != 0 && v != 1) return std::nullopt;
  auto algorithm = c.next(der::kSequence);
  auto private_key = c.next(der::kOctetString);
  if (!algorithm || !private_key) return std::nullopt;
  der::Cursor alg(algorithm->value);
  auto oid = alg.next(der::kOid);
  if (!oid) return std::nullopt;
  const int nid = nid_of_oid(oid->value);
  key.form = "pkcs8";
  ByteSpan stored_public;
  while (!c.empty()) {
    auto t = c.next();
    if (!t) return std::nullopt;
    if (t->tag == 0x81 && t->value.size() >= 2 && t->value[0] == 0) stored_public = t->value.subspan(1);
  }
  switch (nid) {
    case NID_rsaEncryption: {
      auto inner = der::read(private_key->value);
      if (!inner || inner->tag != der::kSequence) return std::nullopt;
      auto rsa = parse_pkcs1(inner->value);
      if (!rsa) return std::nullopt;
      key.type = KeyType::rsa;
      key.rsa = *rsa;
      return key;
    }
    case NID_X9_62_id_ecPublicKey: {
      auto inner = der::read(private_key->value);
      if (!inner || inner->tag != der::kSequence) return std::nullopt;
      auto ec = parse_sec1(inner->value);
      if (!ec) return std::nullopt;
      auto params = alg.next(der::kOid);
      key.type = KeyType::ec;
      key.curve_nid = ec->curve_nid != 0 ? ec->curve_nid : (params ? nid_of_oid(params->value) : 0);
      if (key.curve_nid == 0) return std::nullopt;
      key.scalar = ec->scalar;
      key.public_point = ec->point;
      return key;
    }
    case NID_ED25519:
    case NID_X25519: {
      auto seed = der::read(private_key->value);  // CurvePrivateKey ::= OCTET STRING
      if (!seed || seed->tag != der::kOctetString || seed->value.size() != 32) return std::nullopt;
      key.type = nid == NID_ED25519 ? KeyType::ed25519 : KeyType::x25519;
      key.scalar = seed->value;
      key.public_point = stored_public;
      return key;
    }
    default:
      return std::nullopt;
  }
}

PublicKey rsa_public_key(ByteSpan n_be, ByteSpan e_be) {
  PublicKey pub;
  pub.type = KeyType::rsa;
  pub.n.assign(n_be.begin(), n_be.end());
  pub.e.assign(e_be.begin(), e_be.end());
  fingerprint(pub);
  return pub;
}

// RSA2 (BCRYPT_RSAPRIVATE_BLOB) holds n, e, p and q but no private exponent: p·q = n is
// the whole check, and it is enough, since the primes give every other part of the key.
KeyCheck check_rsa_factors(ByteSpan n_be, ByteSpan e_be, ByteSpan p_be, ByteSpan q_be) {
  KeyCheck result;
  const PublicKey pub = rsa_public_key(n_be, e_be);
  result.public_key = pub;
  BnCtxPtr ctx(BN_CTX_secure_new());
  BnPtr n = bn_from_be(n_be.data(), n_be.size());
  BnPtr p = bn_from_be(p_be.data(), p_be.size());
  BnPtr q = bn_from_be(q_be.data(), q_be.size());
  BnPtr pq = bn_new();
  if (!ctx || !n || !p || !q || !pq || BN_mul(pq.get(), p.get(), q.get(), ctx.get()) != 1) {
    result.proof = "not checked: out of memory";
    return result;
  }
  if (BN_is_one(p.get()) || BN_is_one(q.get()) || BN_cmp(pq.get(), n.get()) != 0) {
    result.proof = fmt::format("p·q does not equal the {}-bit modulus", pub.bits);
    return result;
  }
  result.verified = true;
  result.proof = fmt::format("p·q = n ({}-bit); the blob (BCRYPT_RSAPRIVATE_BLOB) holds no private exponent to check",
                             pub.bits);
  return result;
}

// RFC 7518 6.3.2 lets an RSA JWK carry d without the primes. Then the check is that
// exponentiation by d·e is the identity: m^(d·e) ≡ m (mod n) for two bases.
KeyCheck check_rsa_exponent(ByteSpan n_be, ByteSpan e_be, ByteSpan d_be) {
  KeyCheck result;
  const PublicKey pub = rsa_public_key(n_be, e_be);
  result.public_key = pub;
  BnCtxPtr ctx(BN_CTX_secure_new());
  BnPtr n = bn_from_be(n_be.data(), n_be.size());
  BnPtr e = bn_from_be(e_be.data(), e_be.size());
  BnPtr d = bn_from_be(d_be.data(), d_be.size());
  BnPtr m = bn_new(), t = bn_new();
  if (!ctx || !n || !e || !d || !m || !t || BN_is_zero(n.get()) || !BN_is_odd(n.get())) {
    result.proof = "not checked: the modulus is not odd";
    return result;
  }
  BN_set_flags(d.get(), BN_FLG_CONSTTIME);
  for (const unsigned base : {2u, 3u}) {
    BN_set_word(m.get(), base);
    if (BN_mod_exp(t.get(), m.get(), d.get(), n.get(), ctx.get()) != 1 ||
        BN_mod_exp(t.get(), t.get(), e.get(), n.get(), ctx.get()) != 1 || BN_cmp(t.get(), m.get()) != 0) {
      result.proof = fmt::format("d does not invert e for the {}-bit modulus (the JWK holds no primes)", pub.bits);
      return result;
    }
  }
  result.verified = true;
  result.proof = fmt::format("m^(d·e) ≡ m (mod n) for m = 2, 3 ({}-bit; the JWK holds no primes)", pub.bits);
  return result;
}

KeyCheck check_rsa(const RsaParts& parts) {
  KeyCheck result;
  const PublicKey pub = rsa_public_key(parts.n, parts.e);
  result.public_key = pub;

  BnCtxPtr ctx(BN_CTX_secure_new());
  BnPtr n = bn_from_be(parts.n.data(), parts.n.size());
  BnPtr e = bn_from_be(parts.e.data(), parts.e.size());
  BnPtr p = bn_from_be(parts.p.data(), parts.p.size());
  BnPtr q = bn_from_be(parts.q.data(), parts.q.size());
  BnPtr d = bn_from_be(parts.d.data(), parts.d.size());
  BnPtr pq = bn_new(), p1 = bn_new(), q1 = bn_new(), g = bn_new(), lambda = bn_new(), de = bn_new();
  if (!ctx || !n || !e || !p || !q || !d || !pq || !p1 || !q1 || !g || !lambda || !de) {
    result.proof = "not checked: out of memory";
    return result;
  }
  BN_mul(pq.get(), p.get(), q.get(), ctx.get());
  if (BN_is_one(p.get()) || BN_is_one(q.get()) || BN_cmp(pq.get(), n.get()) != 0) {
    result.proof = fmt::format("p·q does not equal the {}-bit modulus", pub.bits);
    return result;
  }
  // λ(n) = lcm(p−1, q−1) = (p−1)(q−1) / gcd(p−1, q−1)
  BN_sub(p1.get(), p.get(), BN_value_one());
  BN_sub(q1.get(), q.get(), BN_value_one());
  BN_gcd(g.get(), p1.get(), q1.get(), ctx.get());
  BN_mul(lambda.get(), p1.get(), q1.get(), ctx.get());
  BN_div(lambda.get(), nullptr, lambda.get(), g.get(), ctx.get());
  BN_mod_mul(de.get(), d.get(), e.get(), lambda.get(), ctx.get());
  if (!BN_is_one(de.get())) {
    result.proof = fmt::format("p·q equals the {}-bit modulus, but d·e ≢ 1 (mod λ(n))", pub.bits);
    return result;
  }
  result.verified = true;
  result.proof = fmt::format("p·q = n ({}-bit) and d·e ≡ 1 (mod λ(n))", pub.bits);
  return result;
}

KeyCheck check_ec(int curve_nid, ByteSpan scalar, ByteSpan stored_point) {
  KeyCheck result;
  EcGroupPtr group(EC_GROUP_new_by_curve_name(curve_nid));
  BnCtxPtr ctx(BN_CTX_secure_new());
  BnPtr d = bn_from_be(scalar.data(), scalar.size());
  if (!group || !ctx || !d) {
    result.proof = "not checked: unsupported curve";
    return result;
  }
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), order) >= 0) {
    result.proof = fmt::format("the scalar is not in [1, n) for {}", curve_name(curve_nid));
    return result;
  }
  EcPointPtr q(EC_POINT_new(group.get()));
  EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, ctx.get());
  std::vector<std::uint8_t> derived(EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, ctx.get()));
  EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, derived.data(), derived.size(), ctx.get());
  PublicKey pub;
  pub.type = KeyType::ec;
  pub.curve_nid = curve_nid;
  pub.point = derived;
  fingerprint(pub);
  pub.bits = static_cast<unsigned>(EC_GROUP_get_degree(group.get()));
  result.public_key = pub;
  if (stored_point.empty()) {
    result.proof = fmt::format("{} scalar with no public point stored beside it", curve_name(curve_nid));
    return result;
  }
  EcPointPtr stored(EC_POINT_new(group.get()));
  const bool stored_valid =
      EC_POINT_oct2point(group.get(), stored.get(), stored_point.data(), stored_point.size(), ctx.get()) == 1;
  if (!stored_valid || EC_POINT_cmp(group.get(), stored.get(), q.get(), ctx.get()) != 0) {
    result.proof = fmt::format("d·G does not equal the {} public point stored with it", curve_name(curve_nid));
    if (stored_valid) {
      // The structure claims to be the key of its stored point: name it so, as a failed
      // RSA check keeps its stored modulus's fingerprint.
      pub.point.resize(EC_POINT_point2oct(group.get(), stored.get(), POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, ctx.get()));
      EC_POINT_point2oct(group.get(), stored.get(), POINT_CONVERSION_UNCOMPRESSED, pub.point.data(), pub.point.size(),
                         ctx.get());
      fingerprint(pub);
      pub.bits = static_cast<unsigned>(EC_GROUP_get_degree(group.get()));
      result.public_key = pub;
    }
    return result;
  }
  result.verified = true;
  result.proof = fmt::format("d·G equals the {} public point stored with it", curve_name(curve_nid));
  return result;
}

KeyCheck check_edwards(KeyType type, ByteSpan seed, ByteSpan stored_public) {
  KeyCheck result;
  const int id = type == KeyType::ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_X25519;
  const char* name = type == KeyType::ed25519 ? "Ed25519" : "X25519";
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(id, nullptr, seed.data(), seed.size()));
  std::vector<std::uint8_t> derived(32);
  std::size_t len = derived.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), derived.data(), &len) != 1 || len != 32) {
    result.proof = fmt::format("not checked: {} key rejected", name);
    return result;
  }
  PublicKey pub;
  pub.type = type;
  pub.point = derived;
  fingerprint(pub);
  result.public_key = pub;
  if (stored_public.empty()) {
    result.proof = fmt::format("{} seed with no public key stored beside it", name);
  } else if (!equal(stored_public, derived)) {
    result.proof = fmt::format("the {} seed does not give the public key stored with it", name);
  } else {
    result.verified = true;
    result.proof = fmt::format("the {} seed gives the public key stored with it", name);
  }
  return result;
}

}  // namespace dumpguard
