// JWK detection without a JSON parser over memory: each "kty" member name is an anchor;
// the detector looks back (at most 16 KiB) for an opening brace, and a small bounded
// scanner checks that a well-formed object of at most 16 KiB runs from there with that
// "kty" among its own members. Only those members' string values are decoded.
#include "detect/jwk.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "crypto/base64.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/private_key.hpp"
#include "crypto/spki.hpp"
#include "detect/private_key_finding.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMaxObject = 16 * 1024;
constexpr int kMaxDepth = 8;       // JWKs nest little ("oth" arrays, "x5c" strings)
constexpr int kMaxCandidates = 8;  // opening braces tried per anchor
constexpr std::string_view kAnchor = "\"kty\"";

struct Member {
  std::string_view name;
  std::string_view value;  // a string value's raw content; empty for other values
  std::size_t name_at = 0;  // offset of the name's opening quote
  bool is_string = false;
};

// A bounded JSON reader over one candidate object. Depth and size are capped, and every
// step advances, so hostile bytes cost at most kMaxObject steps per candidate.
class ObjectScanner {
 public:
  ObjectScanner(std::string_view text, std::size_t start)
      : s_(text.substr(start, std::min(kMaxObject, text.size() - start))), base_(start) {}

  // The top-level object's members, and its end (offset just past '}') in `end`.
  bool members(std::vector<Member>& out, std::size_t& end) {
    if (s_.empty() || s_[0] != '{') return false;
    pos_ = 1;
    skip_ws();
    if (peek() == '}') {
      end = base_ + pos_ + 1;
      return true;
    }
    while (true) {
      skip_ws();
      Member m;
      m.name_at = base_ + pos_;
      if (!string(m.name)) return false;
      skip_ws();
      if (peek() != ':') return false;
      ++pos_;
      skip_ws();
      if (peek() == '"') {
        if (!string(m.value)) return false;
        m.is_string = true;
      } else if (!value(1)) {
        return false;
      }
      out.push_back(m);
      skip_ws();
      const char c = peek();
      ++pos_;
      if (c == '}') {
        end = base_ + pos_;
        return true;
      }
      if (c != ',') return false;
    }
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  // A string's raw content (escapes left in place); control characters end it (RFC 8259 7).
  bool string(std::string_view& out) {
    if (peek() != '"') return false;
    const std::size_t start = ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        out = s_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      pos_ += c == '\\' ? 2 : 1;
    }
    return false;
  }
  bool value(int depth) {
    if (depth > kMaxDepth) return false;
    skip_ws();
    const char c = peek();
    if (c == '"') {
      std::string_view ignored;
      return string(ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      skip_ws();
      if (peek() == close) {
        ++pos_;
        return true;
      }
      while (true) {
        skip_ws();
        if (c == '{') {
          std::string_view ignored;
          if (!string(ignored)) return false;
          skip_ws();
          if (peek() != ':') return false;
          ++pos_;
        }
        if (!value(depth + 1)) return false;
        skip_ws();
        const char n = peek();
        ++pos_;
        if (n == close) return true;
        if (n != ',') return false;
      }
    }
    const std::size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
                                s_[pos_] == '+' || s_[pos_] == '.')) {
      ++pos_;
    }
    return pos_ > start;
  }

  std::string_view s_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
};

// Decoded base64url values (RFC 7515 2, no padding) live here, wiped when the key is done.
class WipedValues {
 public:
  WipedValues() { bytes_.reserve(kMaxObject); }  // no reallocation: spans handed out stay valid
  WipedValues(const WipedValues&) = delete;
  WipedValues& operator=(const WipedValues&) = delete;
  ~WipedValues() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  // The decoded bytes, or nullopt when the text is not base64url.
  std::optional<ByteSpan> decode(std::string_view text) {
    if (text.size() > kMaxObject || bytes_.size() + text.size() > bytes_.capacity()) return std::nullopt;
    const std::size_t start = bytes_.size();
    // Up to two '=' of padding are tolerated at the end (RFC 7515 2 omits them).
    std::string_view digits = text;
    for (int pad = 0; pad < 2 && !digits.empty() && digits.back() == '='; ++pad) digits.remove_suffix(1);
    if (base64_append(digits, true, {}, bytes_) != digits.size()) {
      OPENSSL_cleanse(bytes_.data() + start, bytes_.size() - start);
      bytes_.resize(start);
      return std::nullopt;
    }
    return ByteSpan(bytes_).subspan(start);
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

const Member* find(const std::vector<Member>& members, std::string_view name) {
  for (const Member& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

ByteSpan strip_zeros(ByteSpan s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == 0) ++i;
  return s.subspan(i);
}


int curve_of(std::string_view crv) {
  if (crv == "P-256") return NID_X9_62_prime256v1;
  if (crv == "P-384") return NID_secp384r1;
  if (crv == "P-521") return NID_secp521r1;
  if (crv == "secp256k1") return NID_secp256k1;  // RFC 8812 3.1
  return 0;
}

std::size_t field_bytes(int nid) {
  switch (nid) {
    case NID_secp384r1: return 48;
    case NID_secp521r1: return 66;
    default: return 32;
  }
}

class JwkDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "jwk"; }
  // An anchor's object starts at most kMaxObject before it and ends kMaxObject after its brace.
  Reach reach() const override { return {kMaxObject, kMaxObject + kAnchor.size()}; }

  std::vector<AnchorPattern> anchors() const override { return {AnchorPattern::literal(kAnchor)}; }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    std::size_t done = 0;  // end of the last object handled: anchors before it are inside it
    for (std::size_t pos : hits[0]) {
      if (pos < done) continue;
      std::size_t begin = 0, end = 0;
      std::vector<Member> members;
      if (!enclosing_object(text, pos, begin, end, members)) continue;
      key_at(context, area, begin, end, members, sink);
      done = end;
    }
  }

 private:
  // The nearest object around the anchor that has it as one of its own member names.
  static bool enclosing_object(std::string_view text, std::size_t anchor, std::size_t& begin, std::size_t& end,
                               std::vector<Member>& members) {
    const std::size_t floor = anchor > kMaxObject ? anchor - kMaxObject : 0;
    std::size_t at = anchor;
    for (int tries = 0; tries < kMaxCandidates && at > floor; ++tries) {
      const std::size_t brace = text.rfind('{', at - 1);
      if (brace == std::string_view::npos || brace < floor) return false;
      at = brace;
      members.clear();
      ObjectScanner scanner(text, brace);
      if (!scanner.members(members, end) || end <= anchor) continue;
      for (const Member& m : members) {
        if (m.name_at == anchor) {
          begin = brace;
          return true;
        }
      }
    }
    return false;
  }

  static void key_at(const ScanContext& context, const ScanArea& area, std::size_t begin, std::size_t end,
                     const std::vector<Member>& members, FindingSink& sink) {
    const Member* kty = find(members, "kty");
    if (kty == nullptr || !kty->is_string) return;
    WipedValues values;
    const auto field = [&](std::string_view name) -> std::optional<ByteSpan> {
      const Member* m = find(members, name);
      if (m == nullptr || !m->is_string || m->value.empty()) return std::nullopt;
      return values.decode(m->value);
    };
    const std::uint64_t length = end - begin;
    const std::string origin = fmt::format("JWK at file offset {:#x}", area.file_offset + begin);
    ParsedPrivateKey key;
    key.form = "jwk";
    key.length = length;

    if (kty->value == "RSA") {
      auto n = field("n");
      auto e = field("e");
      if (!n || !e) return;
      const ByteSpan nn = strip_zeros(*n), ee = strip_zeros(*e);
      if (nn.size() < 64 || ee.empty() || ee.size() > 8) return;
      auto d = field("d");
      if (!d) {
        harvest_rsa(nn, ee, origin, sink);
        return;
      }
      auto p = field("p");
      auto q = field("q");
      if (!p || !q) {
        RsaParts parts;
        parts.n = nn;
        parts.e = ee;
        parts.d = *d;
        report_checked_key(context, area, begin, length, KeyType::rsa, check_rsa_exponent(nn, ee, *d), "jwk", "jwk",
                           sink, &parts);
        return;
      }
      key.type = KeyType::rsa;
      key.rsa.n = nn;
      key.rsa.e = ee;
      key.rsa.d = *d;
      key.rsa.p = *p;
      key.rsa.q = *q;
      if (auto dp = field("dp")) key.rsa.dp = *dp;
      if (auto dq = field("dq")) key.rsa.dq = *dq;
      if (auto qi = field("qi")) key.rsa.qinv = *qi;
      report_private_key(context, area, begin, length, key, "jwk", "jwk", sink);
      return;
    }
    const Member* crv = find(members, "crv");
    if (crv == nullptr || !crv->is_string) return;
    if (kty->value == "EC") {
      const int nid = curve_of(crv->value);
      auto x = field("x");
      auto y = field("y");
      // RFC 7518 6.2.1.2: x and y are the full field size, left-padded.
      if (nid == 0 || !x || !y || x->size() != field_bytes(nid) || y->size() != field_bytes(nid)) return;
      std::vector<std::uint8_t> point{0x04};
      point.insert(point.end(), x->begin(), x->end());
      point.insert(point.end(), y->begin(), y->end());
      auto d = field("d");
      if (!d) {
        PublicKey pub;
        pub.type = KeyType::ec;
        pub.curve_nid = nid;
        pub.point = std::move(point);
        if (!on_curve(pub)) return;
        fingerprint(pub);
        pub.origin = origin;
        sink.public_key(std::move(pub));
        return;
      }
      if (d->empty() || d->size() > 66) return;
      key.type = KeyType::ec;
      key.curve_nid = nid;
      key.scalar = *d;
      key.public_point = point;
      report_private_key(context, area, begin, length, key, "jwk", "jwk", sink);
      return;
    }
    if (kty->value == "OKP") {
      KeyType type;
      if (crv->value == "Ed25519") type = KeyType::ed25519;
      else if (crv->value == "X25519") type = KeyType::x25519;
      else return;  // Ed448 and X448 are not modelled
      auto x = field("x");
      if (!x || x->size() != 32) return;
      auto d = field("d");
      if (!d) {
        PublicKey pub;
        pub.type = type;
        pub.point.assign(x->begin(), x->end());
        fingerprint(pub);
        pub.origin = origin;
        sink.public_key(std::move(pub));
        return;
      }
      if (d->size() != 32) return;
      key.type = type;
      key.scalar = *d;
      key.public_point = *x;
      report_private_key(context, area, begin, length, key, "jwk", "jwk", sink);
    }
  }

  static bool on_curve(const PublicKey& pub) {
    EcGroupPtr group(EC_GROUP_new_by_curve_name(pub.curve_nid));
    EcPointPtr p(group ? EC_POINT_new(group.get()) : nullptr);
    return p && EC_POINT_oct2point(group.get(), p.get(), pub.point.data(), pub.point.size(), nullptr) == 1;
  }

  static void harvest_rsa(ByteSpan n, ByteSpan e, const std::string& origin, FindingSink& sink) {
    PublicKey pub;
    pub.type = KeyType::rsa;
    pub.n.assign(n.begin(), n.end());
    pub.e.assign(e.begin(), e.end());
    fingerprint(pub);
    pub.origin = origin;
    sink.public_key(std::move(pub));
  }

};

}  // namespace

std::unique_ptr<StructureDetector> make_jwk_detector() { return std::make_unique<JwkDetector>(); }

}  // namespace dumpguard
