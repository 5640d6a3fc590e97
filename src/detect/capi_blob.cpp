// CryptoAPI blobs, after Microsoft's "PUBLICKEYSTRUC structure (wincrypt.h)", "RSAPUBKEY
// structure (wincrypt.h)" and "Base Provider Key BLOBs" pages: BLOBHEADER {bType, bVersion,
// reserved, aiKeyAlg}, RSAPUBKEY {magic, bitlen, pubexp}, then numbers LITTLE-endian:
// modulus[bitlen/8], prime1, prime2, exponent1, exponent2, coefficient [bitlen/16 each],
// privateExponent[bitlen/8]. The numbers are turned big-endian in wiped buffers to check.
#include "detect/capi_blob.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "crypto/private_key.hpp"
#include "crypto/spki.hpp"
#include "detect/private_key_finding.hpp"
#include "io/byte_reader.hpp"

namespace dumpguard {

namespace {

constexpr std::uint32_t kRsa1 = 0x31415352;  // "RSA1": RSAPUBKEY of a public key
constexpr std::uint32_t kRsa2 = 0x32415352;  // "RSA2": RSAPUBKEY of a private key
constexpr std::uint8_t kPublicKeyBlob = 0x06;
constexpr std::uint8_t kPrivateKeyBlob = 0x07;
constexpr std::uint8_t kCurBlobVersion = 0x02;
constexpr std::uint32_t kCalgRsaSign = 0x2400;
constexpr std::uint32_t kCalgRsaKeyx = 0xA400;
constexpr std::size_t kBlobHeader = 8;
constexpr std::size_t kRsaPubKey = 12;

// Big-endian copies of the little-endian numbers, wiped when the check is done.
class BigEndianCopies {
 public:
  explicit BigEndianCopies(std::size_t total) { bytes_.reserve(total); }
  BigEndianCopies(const BigEndianCopies&) = delete;
  BigEndianCopies& operator=(const BigEndianCopies&) = delete;
  ~BigEndianCopies() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  // Appends `le` reversed; the reserve above guarantees no reallocation, so spans stay valid.
  ByteSpan add(ByteSpan le) {
    const std::size_t start = bytes_.size();
    for (std::size_t i = le.size(); i > 0; --i) bytes_.push_back(le[i - 1]);
    return ByteSpan(bytes_).subspan(start, le.size());
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

std::vector<std::uint8_t> exponent_be(std::uint32_t e) {
  std::vector<std::uint8_t> out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto b = static_cast<std::uint8_t>((e >> shift) & 0xFF);
    if (!out.empty() || b != 0) out.push_back(b);
  }
  return out;
}

class CapiBlobDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "capi"; }
  // The BLOBHEADER sits 8 bytes before RSAPUBKEY; a 16384-bit PRIVATEKEYBLOB is about 9.2 KiB.
  Reach reach() const override { return {kBlobHeader, 16 * 1024}; }

  // RSAPUBKEY's magic reads as ASCII: "RSA1", "RSA2".
  std::vector<AnchorPattern> anchors() const override { return {AnchorPattern::literal("RSA")}; }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const ByteReader reader(area.bytes);
    std::size_t next = 0;  // the end of the last structure
    for (std::size_t pos : hits[0]) {
      if (pos < next) continue;
      if (const std::size_t end = rsa_at(context, area, reader, pos, sink); end > pos) next = end;
    }
  }

 private:
  // The RSAPUBKEY at `at`: returns the area offset where the structure ends, or 0.
  static std::size_t rsa_at(const ScanContext& context, const ScanArea& area, const ByteReader& r, std::size_t at,
                            FindingSink& sink) {
    auto magic = r.u32le(at);
    auto bitlen = r.u32le(at + 4);
    auto pubexp = r.u32le(at + 8);
    if (!magic || !bitlen || !pubexp || (*magic != kRsa1 && *magic != kRsa2)) return 0;
    const bool is_private = *magic == kRsa2;
    // Plausible keys only: the layout needs bitlen/16 exactly, and e is odd and > 1.
    if (*bitlen < 512 || *bitlen > 16384 || *bitlen % 16 != 0 || (*pubexp & 1) == 0 || *pubexp < 3) return 0;
    const std::size_t mod = *bitlen / 8, half = *bitlen / 16;
    const std::size_t numbers = is_private ? mod + 5 * half + mod : mod;

    // The BLOBHEADER, when the 8 bytes before say so, belongs to the structure.
    std::size_t start = at;
    bool with_header = false;
    if (at >= kBlobHeader) {
      auto type = r.u8(at - 8);
      auto version = r.u8(at - 7);
      auto reserved = r.u16le(at - 6);
      auto alg = r.u32le(at - 4);
      if (type && version && reserved && alg && *type == (is_private ? kPrivateKeyBlob : kPublicKeyBlob) &&
          *version == kCurBlobVersion && *reserved == 0 && (*alg == kCalgRsaKeyx || *alg == kCalgRsaSign)) {
        start = at - kBlobHeader;
        with_header = true;
      }
    }
    auto body = r.bytes(at + kRsaPubKey, numbers);
    if (!body) return 0;
    const ByteSpan b = u8_span(*body);
    const ByteSpan modulus_le = b.first(mod);
    // A modulus of exactly bitlen bits is odd and has its top byte set (little-endian: last).
    if ((modulus_le.front() & 1) == 0 || modulus_le.back() == 0) return 0;
    const std::size_t end = at + kRsaPubKey + numbers;
    const std::uint64_t file_offset = area.file_offset + start;
    const std::vector<std::uint8_t> e = exponent_be(*pubexp);

    if (!is_private) {
      PublicKey pub;
      pub.type = KeyType::rsa;
      pub.n.assign(modulus_le.rbegin(), modulus_le.rend());
      pub.e = e;
      fingerprint(pub);
      pub.origin = fmt::format("CryptoAPI {} at file offset {:#x}", with_header ? "PUBLICKEYBLOB" : "RSAPUBKEY (RSA1)",
                               file_offset);
      sink.public_key(std::move(pub));
      return end;
    }
    BigEndianCopies be(numbers);
    RsaParts parts;
    parts.e = e;
    std::size_t cursor = 0;
    const auto take = [&](std::size_t n) {
      ByteSpan s = be.add(b.subspan(cursor, n));
      cursor += n;
      return s;
    };
    parts.n = take(mod);
    parts.p = take(half);
    parts.q = take(half);
    parts.dp = take(half);
    parts.dq = take(half);
    parts.qinv = take(half);
    parts.d = take(mod);
    ParsedPrivateKey key;
    key.form = "capi";
    key.type = KeyType::rsa;
    key.length = end - start;
    key.rsa = parts;
    report_private_key(context, area, start, end - start, key, "capi",
                       with_header ? "capi-privatekeyblob" : "capi-rsa2", sink);
    return end;
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_capi_blob_detector() { return std::make_unique<CapiBlobDetector>(); }

}  // namespace dumpguard
