// CNG blobs, after Microsoft's "BCRYPT_RSAKEY_BLOB structure (bcrypt.h)" and
// "BCRYPT_ECCKEY_BLOB structure (bcrypt.h)" pages: a little-endian header whose first
// ULONG is a magic that reads as ASCII in memory ("RSA2", "ECS2"), then big-endian numbers
// whose sizes the header gives. Sizes must agree with each other before anything is read.
#include "detect/cng_blob.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "crypto/openssl_ptr.hpp"
#include "crypto/private_key.hpp"
#include "crypto/spki.hpp"
#include "detect/private_key_finding.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard {

namespace {

// bcrypt.h: BCRYPT_RSAPUBLIC_MAGIC 0x31415352 ("RSA1"), BCRYPT_RSAPRIVATE_MAGIC 0x32415352
// ("RSA2"), BCRYPT_RSAFULLPRIVATE_MAGIC 0x33415352 ("RSA3").
constexpr std::uint32_t kRsaPublic = 0x31415352;
constexpr std::uint32_t kRsaPrivate = 0x32415352;
constexpr std::uint32_t kRsaFullPrivate = 0x33415352;
constexpr std::size_t kRsaHeader = 24;  // six ULONGs
constexpr std::size_t kEccHeader = 8;   // dwMagic, cbKey

// bcrypt.h: BCRYPT_ECDH_{PUBLIC,PRIVATE}_P256_MAGIC 0x314B4345/0x324B4345 ("ECK1"/"ECK2"),
// P384 "ECK3"/"ECK4", P521 "ECK5"/"ECK6"; BCRYPT_ECDSA_* the same with 'S' ("ECS1".."ECS6").
struct EccMagic {
  int nid = 0;
  std::size_t field = 0;  // cbKey: bytes per coordinate
  bool is_private = false;
  const char* encoding = "";
};

std::optional<EccMagic> ecc_magic(std::uint32_t magic) {
  if ((magic & 0xFFFF) != 0x4345) return std::nullopt;  // "EC"
  const auto family = static_cast<char>((magic >> 16) & 0xFF);
  const auto digit = static_cast<char>(magic >> 24);
  if ((family != 'S' && family != 'K') || digit < '1' || digit > '6') return std::nullopt;
  const bool ecdsa = family == 'S';
  const int which = (digit - '1') / 2;  // 0: P-256, 1: P-384, 2: P-521
  const bool is_private = (digit - '1') % 2 == 1;
  static constexpr int kNids[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
  static constexpr std::size_t kFields[] = {32, 48, 66};
  static constexpr const char* kEncodings[2][3] = {{"cng-ecdh-p256", "cng-ecdh-p384", "cng-ecdh-p521"},
                                                   {"cng-ecdsa-p256", "cng-ecdsa-p384", "cng-ecdsa-p521"}};
  return EccMagic{kNids[which], kFields[which], is_private, kEncodings[ecdsa ? 1 : 0][which]};
}


class CngBlobDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "cng"; }
  // The largest blob: a BCRYPT_RSAFULLPRIVATE_BLOB of a 16384-bit key, about 9.3 KiB.
  Reach reach() const override { return {0, 16 * 1024}; }

  // The magics read as ASCII: "RSA1".."RSA3", "ECK1".."ECS6".
  std::vector<AnchorPattern> anchors() const override {
    return {AnchorPattern::literal("RSA"), AnchorPattern::literal("EC")};
  }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const ByteReader reader(area.bytes);
    std::size_t next = 0;  // the end of the last blob: magics inside it are its numbers
    for (std::size_t pos : hits[0]) {
      if (pos < next) continue;
      if (const std::size_t used = rsa_at(context, area, reader, pos, sink); used > 0) next = pos + used;
    }
    next = 0;
    for (std::size_t pos : hits[1]) {
      if (pos < next) continue;
      if (const std::size_t used = ecc_at(context, area, reader, pos, sink); used > 0) next = pos + used;
    }
  }

 private:
  // Returns the bytes the blob spans, or 0.
  static std::size_t rsa_at(const ScanContext& context, const ScanArea& area, const ByteReader& r, std::size_t at,
                            FindingSink& sink) {
    auto magic = r.u32le(at);
    if (!magic || (*magic != kRsaPublic && *magic != kRsaPrivate && *magic != kRsaFullPrivate)) return 0;
    std::uint32_t h[5];
    for (std::size_t i = 0; i < 5; ++i) {
      auto v = r.u32le(at + 4 + 4 * i);
      if (!v) return 0;
      h[i] = *v;
    }
    const std::uint32_t bits = h[0], cb_exp = h[1], cb_mod = h[2], cb_p1 = h[3], cb_p2 = h[4];
    // Plausible headers only: sizes agree with BitLength, and every number fits (so the
    // sums below cannot overflow: each term is at most 2 KiB).
    if (bits < 512 || bits > 16384 || cb_mod != (bits + 7) / 8 || cb_exp == 0 || cb_exp > 8) return 0;
    const bool is_private = *magic != kRsaPublic;
    if (is_private && (cb_p1 == 0 || cb_p2 == 0 || cb_p1 > cb_mod || cb_p2 > cb_mod || cb_p1 + cb_p2 + 2 < cb_mod ||
                       cb_p1 + cb_p2 > cb_mod + 2)) {
      return 0;
    }
    const bool full = *magic == kRsaFullPrivate;
    std::size_t length = kRsaHeader + cb_exp + cb_mod;
    if (is_private) length += cb_p1 + cb_p2;
    if (full) length += cb_p1 + cb_p2 + cb_p1 + cb_mod;  // Exponent1, Exponent2, Coefficient, PrivateExponent
    auto blob = r.bytes(at, length);
    if (!blob) return 0;
    const ByteSpan b = u8_span(*blob);
    std::size_t cursor = kRsaHeader;
    const auto take = [&](std::size_t n) {
      ByteSpan s = b.subspan(cursor, n);
      cursor += n;
      return s;
    };
    RsaParts parts;
    parts.e = take(cb_exp);
    parts.n = take(cb_mod);
    // A modulus of exactly BitLength bits is odd; anything else is a lookalike.
    if (parts.n.front() == 0 || (parts.n.back() & 1) == 0 || (parts.e.back() & 1) == 0) return 0;
    if (!is_private) {
      PublicKey pub;
      pub.type = KeyType::rsa;
      pub.n.assign(parts.n.begin(), parts.n.end());
      std::size_t z = 0;
      while (z + 1 < parts.e.size() && parts.e[z] == 0) ++z;
      pub.e.assign(parts.e.begin() + static_cast<std::ptrdiff_t>(z), parts.e.end());
      fingerprint(pub);
      pub.origin = fmt::format("CNG BCRYPT_RSAPUBLIC_BLOB at file offset {:#x}", area.file_offset + at);
      sink.public_key(std::move(pub));
      return length;
    }
    parts.p = take(cb_p1);
    parts.q = take(cb_p2);
    if (full) {
      parts.dp = take(cb_p1);
      parts.dq = take(cb_p2);
      parts.qinv = take(cb_p1);
      parts.d = take(cb_mod);
      ParsedPrivateKey key;
      key.form = "cng";
      key.type = KeyType::rsa;
      key.length = length;
      key.rsa = parts;
      report_private_key(context, area, at, length, key, "cng", "cng-rsafull", sink);
      return length;
    }
    report_checked_key(context, area, at, length, KeyType::rsa, check_rsa_factors(parts.n, parts.e, parts.p, parts.q),
                       "cng", "cng-rsaprivate", sink, &parts);
    return length;
  }

  static std::size_t ecc_at(const ScanContext& context, const ScanArea& area, const ByteReader& r, std::size_t at,
                            FindingSink& sink) {
    auto magic = r.u32le(at);
    if (!magic) return 0;
    auto kind = ecc_magic(*magic);
    auto cb_key = r.u32le(at + 4);
    if (!kind || !cb_key || *cb_key != kind->field) return 0;
    const std::size_t length = kEccHeader + kind->field * (kind->is_private ? 3 : 2);
    auto blob = r.bytes(at, length);
    if (!blob) return 0;
    const ByteSpan b = u8_span(*blob);
    // The point in SEC1 uncompressed form, 04‖X‖Y: public, so no wiping needed.
    std::vector<std::uint8_t> point{0x04};
    point.insert(point.end(), b.begin() + kEccHeader, b.begin() + static_cast<std::ptrdiff_t>(kEccHeader + 2 * kind->field));
    EcGroupPtr group(EC_GROUP_new_by_curve_name(kind->nid));
    EcPointPtr p(group ? EC_POINT_new(group.get()) : nullptr);
    const bool on_curve = p && EC_POINT_oct2point(group.get(), p.get(), point.data(), point.size(), nullptr) == 1;
    if (!kind->is_private) {
      if (!on_curve) return 0;
      PublicKey pub;
      pub.type = KeyType::ec;
      pub.curve_nid = kind->nid;
      pub.point = std::move(point);
      fingerprint(pub);
      pub.origin = fmt::format("CNG BCRYPT_ECCPUBLIC_BLOB at file offset {:#x}", area.file_offset + at);
      sink.public_key(std::move(pub));
      return length;
    }
    // A private blob whose point is not on the curve is still reported (unverified): the
    // magic, size and layout all matched, and the scalar may be intact.
    ParsedPrivateKey key;
    key.form = "cng";
    key.type = KeyType::ec;
    key.length = length;
    key.curve_nid = kind->nid;
    key.scalar = b.subspan(kEccHeader + 2 * kind->field, kind->field);
    key.public_point = point;
    std::size_t zeros = 0;
    while (zeros < key.scalar.size() && key.scalar[zeros] == 0) ++zeros;
    if (zeros == key.scalar.size() || (!on_curve && zeros > 8)) return 0;  // a zero or near-zero scalar is no key
    report_private_key(context, area, at, length, key, "cng", kind->encoding, sink);
    return length;
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_cng_blob_detector() { return std::make_unique<CngBlobDetector>(); }

}  // namespace dumpguard
