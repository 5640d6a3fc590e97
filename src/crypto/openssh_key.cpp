// Parsers for OpenSSH's key formats over hostile bytes. SSH data is big-endian and
// length-prefixed (RFC 4251 5), so a small cursor over the span does every read, each
// length checked against the bytes that remain before it is used.
#include "crypto/openssh_key.hpp"

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "crypto/openssl_ptr.hpp"
#include "crypto/spki.hpp"

namespace dumpguard {

namespace {

// Bounds on what a real key holds, far above every real size: a 16384-bit modulus is
// 2049 bytes as an mpint; ssh-keygen's cipher and KDF names and bcrypt options are short.
constexpr std::size_t kMaxMpint = 2049;
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxKdfOptions = 1024;
constexpr std::size_t kMaxPublicBlob = 4096;
constexpr std::size_t kMaxPrivateSection = 64 * 1024;

std::string_view as_text(ByteSpan s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

class SshCursor {
 public:
  explicit SshCursor(ByteSpan in) : in_(in) {}

  std::optional<std::uint32_t> u32() {
    if (in_.size() - pos_ < 4) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{in_[pos_]} << 24) | (std::uint32_t{in_[pos_ + 1]} << 16) |
                            (std::uint32_t{in_[pos_ + 2]} << 8) | std::uint32_t{in_[pos_ + 3]};
    pos_ += 4;
    return v;
  }

  // A string (uint32 length, then bytes) no longer than `max`.
  std::optional<ByteSpan> string(std::size_t max) {
    const std::size_t start = pos_;
    auto len = u32();
    if (!len || *len > max || *len > in_.size() - pos_) {
      pos_ = start;
      return std::nullopt;
    }
    ByteSpan s = in_.subspan(pos_, *len);
    pos_ += *len;
    return s;
  }

  // A non-negative mpint (RFC 4251 5) as its magnitude without leading zeros. Negative
  // values (top bit set without a zero before it) are no key component.
  std::optional<ByteSpan> mpint() {
    auto s = string(kMaxMpint);
    if (!s || s->empty() || ((*s)[0] & 0x80) != 0) return std::nullopt;
    std::size_t i = 0;
    while (i < s->size() && (*s)[i] == 0) ++i;
    if (i == s->size()) return std::nullopt;  // zero is no key component either
    return s->subspan(i);
  }

  std::size_t consumed() const { return pos_; }

 private:
  ByteSpan in_;
  std::size_t pos_ = 0;
};

constexpr std::string_view kEcdsaPrefix = "ecdsa-sha2-";

// The OpenSSL curve of an ECDSA key type (RFC 5656 6.1, 10.1), or 0.
int curve_of_type(std::string_view type) {
  if (type == "ecdsa-sha2-nistp256") return NID_X9_62_prime256v1;
  if (type == "ecdsa-sha2-nistp384") return NID_secp384r1;
  if (type == "ecdsa-sha2-nistp521") return NID_secp521r1;
  return 0;
}

// An ECDSA key's curve identifier must name the curve of its key type (RFC 5656 3.1).
bool curve_matches(std::string_view type, std::string_view curve_id) {
  return curve_of_type(type) != 0 && type.substr(kEcdsaPrefix.size()) == curve_id;
}

bool point_on_curve(int nid, ByteSpan point) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
  if (!group) return false;
  EcPointPtr p(EC_POINT_new(group.get()));
  return p && point.size() > 1 && point[0] == 0x04 &&
         EC_POINT_oct2point(group.get(), p.get(), point.data(), point.size(), nullptr) == 1;
}

}  // namespace

std::optional<ParsedPrivateKey> parse_ssh_private_fields(ByteSpan in) {
  SshCursor c(in);
  auto type_bytes = c.string(kMaxName);
  if (!type_bytes) return std::nullopt;
  const std::string_view type = as_text(*type_bytes);
  ParsedPrivateKey key;
  key.form = "openssh";
  if (type == "ssh-rsa") {
    RsaParts p;
    ByteSpan* fields[] = {&p.n, &p.e, &p.d, &p.qinv, &p.p, &p.q};
    for (ByteSpan* f : fields) {
      auto v = c.mpint();
      if (!v) return std::nullopt;
      *f = *v;
    }
    // The modulus of any real key is at least 512 bits; e is small (OpenSSH caps it).
    if (p.n.size() < 64 || p.e.size() > 8) return std::nullopt;
    key.type = KeyType::rsa;
    key.rsa = p;
  } else if (type == "ssh-ed25519") {
    auto pk = c.string(32);
    auto sk = c.string(64);
    if (!pk || !sk || pk->size() != 32 || sk->size() != 64) return std::nullopt;
    key.type = KeyType::ed25519;
    key.scalar = sk->first(32);  // the seed; the second half repeats the public key
    key.public_point = *pk;
  } else if (const int nid = curve_of_type(type); nid != 0) {
    auto curve_id = c.string(kMaxName);
    auto q = c.string(2 * 66 + 1);
    auto d = c.mpint();
    if (!curve_id || !curve_matches(type, as_text(*curve_id)) || !q || !d || d->size() > 66) return std::nullopt;
    key.type = KeyType::ec;
    key.curve_nid = nid;
    key.scalar = *d;
    key.public_point = *q;
  } else {
    return std::nullopt;
  }
  key.length = c.consumed();
  return key;
}

std::optional<SshPublicBlob> parse_ssh_public_blob(ByteSpan in) {
  SshCursor c(in);
  auto type_bytes = c.string(kMaxName);
  if (!type_bytes) return std::nullopt;
  const std::string_view type = as_text(*type_bytes);
  SshPublicBlob out;
  if (type == "ssh-rsa") {
    auto e = c.mpint();
    auto n = c.mpint();
    // A real modulus is odd and at least 512 bits; a real exponent is odd and short.
    if (!e || !n || e->size() > 8 || n->size() < 64 || (n->back() & 1) == 0 || (e->back() & 1) == 0) {
      return std::nullopt;
    }
    out.key.type = KeyType::rsa;
    out.key.n.assign(n->begin(), n->end());
    out.key.e.assign(e->begin(), e->end());
  } else if (type == "ssh-ed25519") {
    auto pk = c.string(32);
    if (!pk || pk->size() != 32) return std::nullopt;
    out.key.type = KeyType::ed25519;
    out.key.point.assign(pk->begin(), pk->end());
  } else if (const int nid = curve_of_type(type); nid != 0) {
    auto curve_id = c.string(kMaxName);
    auto q = c.string(2 * 66 + 1);
    if (!curve_id || !curve_matches(type, as_text(*curve_id)) || !q || !point_on_curve(nid, *q)) return std::nullopt;
    out.key.type = KeyType::ec;
    out.key.curve_nid = nid;
    out.key.point.assign(q->begin(), q->end());
  } else {
    return std::nullopt;
  }
  out.length = c.consumed();
  fingerprint(out.key);
  return out;
}

std::optional<OpensshKey> parse_openssh_key(ByteSpan in) {
  if (in.size() < kOpensshMagic.size() || as_text(in.first(kOpensshMagic.size())) != kOpensshMagic) {
    return std::nullopt;
  }
  SshCursor c(in.subspan(kOpensshMagic.size()));
  auto cipher = c.string(kMaxName);
  auto kdf = c.string(kMaxName);
  auto kdf_options = c.string(kMaxKdfOptions);
  auto nkeys = c.u32();
  // OpenSSH writes and reads exactly one key per file (sshkey.c, sshkey_parse_private2).
  if (!cipher || !kdf || !kdf_options || !nkeys || *nkeys != 1 || cipher->empty() || kdf->empty()) {
    return std::nullopt;
  }
  OpensshKey key;
  key.cipher.assign(as_text(*cipher));
  key.kdf.assign(as_text(*kdf));
  key.encrypted = key.cipher != "none";
  const auto printable = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char ch) { return ch > 0x20 && ch < 0x7F; });
  };
  if (!printable(key.cipher) || !printable(key.kdf)) return std::nullopt;

  auto public_blob = c.string(kMaxPublicBlob);
  if (!public_blob) return std::nullopt;
  if (auto pub = parse_ssh_public_blob(*public_blob); pub && pub->length == public_blob->size()) {
    key.public_key = std::move(pub->key);
  }
  const std::size_t section_at = kOpensshMagic.size() + c.consumed();
  auto private_section = c.string(kMaxPrivateSection);
  if (!private_section) {
    // Cut off inside the private section (the area ended): the structure runs to the end of
    // the bytes there. Kept only when its public key made sense, so noise is not reported.
    SshCursor peek(in.subspan(section_at));
    auto declared = peek.u32();
    if (!key.public_key || !declared || *declared > kMaxPrivateSection) return std::nullopt;
    key.length = in.size();
    return key;
  }
  key.length = kOpensshMagic.size() + c.consumed();
  if (key.encrypted) return key;

  // PROTOCOL.key: two equal random checkints, the keys with their comments, then padding.
  // Unequal checkints with cipher "none" mean the bytes are not (or no longer) this key.
  SshCursor p(*private_section);
  auto check1 = p.u32();
  auto check2 = p.u32();
  if (!check1 || !check2 || *check1 != *check2) return key;
  const std::size_t fields_at = p.consumed();
  auto parsed = parse_ssh_private_fields(private_section->subspan(fields_at));
  if (parsed) {
    parsed->length = key.length;  // the finding spans the whole container
    key.private_key = *parsed;
  }
  return key;
}

}  // namespace dumpguard
