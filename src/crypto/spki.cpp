#include "crypto/spki.hpp"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include "crypto/digest.hpp"

namespace dumpguard {

namespace {
using Bytes = std::vector<std::uint8_t>;

Bytes tlv(std::uint8_t tag, const Bytes& content) {
  Bytes out{tag};
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v != 0; v >>= 8) len.insert(len.begin(), static_cast<std::uint8_t>(v & 0xFF));
    out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
    out.insert(out.end(), len.begin(), len.end());
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A positive INTEGER: strip leading zeros, then add one back if the top bit is set.
Bytes integer(const Bytes& be) {
  std::size_t i = 0;
  while (i + 1 < be.size() && be[i] == 0) ++i;
  Bytes v;
  v.reserve(be.size() - i + 1);
  if (i < be.size() && (be[i] & 0x80)) v.push_back(0);
  for (std::size_t k = i; k < be.size(); ++k) v.push_back(be[k]);
  if (v.empty()) v.push_back(0);
  return tlv(0x02, v);
}

Bytes oid(int nid) {
  const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
  const std::size_t len = obj ? OBJ_length(obj) : 0;
  const unsigned char* data = obj ? OBJ_get0_data(obj) : nullptr;
  return tlv(0x06, data ? Bytes(data, data + len) : Bytes{});
}

Bytes bit_string(const Bytes& content) { return tlv(0x03, cat({Bytes{0x00}, content})); }
}  // namespace

std::vector<std::uint8_t> spki_der(const PublicKey& key) {
  switch (key.type) {
    case KeyType::rsa:
      return tlv(0x30, cat({tlv(0x30, cat({oid(NID_rsaEncryption), Bytes{0x05, 0x00}})),
                            bit_string(tlv(0x30, cat({integer(key.n), integer(key.e)})))}));
    case KeyType::ec:
      return tlv(0x30, cat({tlv(0x30, cat({oid(NID_X9_62_id_ecPublicKey), oid(key.curve_nid)})), bit_string(key.point)}));
    case KeyType::ed25519:
      return tlv(0x30, cat({tlv(0x30, oid(NID_ED25519)), bit_string(key.point)}));
    case KeyType::x25519:
      return tlv(0x30, cat({tlv(0x30, oid(NID_X25519)), bit_string(key.point)}));
  }
  return {};
}

void fingerprint(PublicKey& key) {
  const Bytes der = spki_der(key);
  key.fingerprint = "sha256:" + hex(sha256(der));
  if (key.type == KeyType::rsa) {
    std::size_t i = 0;
    while (i < key.n.size() && key.n[i] == 0) ++i;
    unsigned bits = 0;
    if (i < key.n.size()) {
      bits = static_cast<unsigned>((key.n.size() - i - 1) * 8);
      for (unsigned top = key.n[i]; top != 0; top >>= 1) ++bits;
    }
    key.bits = bits;
  } else if (key.type == KeyType::ec) {
    key.bits = static_cast<unsigned>(key.point.size() > 1 ? (key.point.size() - 1) / 2 * 8 : 0);
  } else {
    key.bits = 256;
  }
}

}  // namespace dumpguard
