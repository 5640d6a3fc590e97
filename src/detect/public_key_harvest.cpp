#include "detect/public_key_harvest.hpp"

#include <cstring>
#include <fmt/format.h>

#include "crypto/der.hpp"
#include "crypto/public_key_der.hpp"

namespace dumpguard {

namespace {

// The content of the DER element at p (nullptr if not well-formed), and its header size.
std::optional<der::Tlv> element(const std::uint8_t* p, std::size_t avail) { return der::read({p, avail}); }

class PublicKeyHarvest final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "public-keys"; }
  Reach reach() const override { return {0, kMaxStructure}; }  // as der: certificates carry their length

  // A SEQUENCE of at least 16 bytes (short form, or 1 to 4 length bytes in DER's shortest
  // form) whose content starts with a SEQUENCE (certificate, SubjectPublicKeyInfo) or an
  // INTEGER (PKCS#1 RSAPublicKey).
  // In the short form, try_at's own tests are spelled out: DER's shortest form makes the inner
  // SEQUENCE short too, with at least 4 bytes starting with [0], an INTEGER or an OID; an
  // INTEGER first needs 70 bytes. Without this, "0", any character, "0" matched digits in
  // text: 3.6 million anchors on the 1 GiB benchmark core, 9 with it (docs/design.md).
  std::vector<AnchorPattern> anchors() const override {
    std::vector<AnchorPattern> a;
    a.push_back(AnchorPattern::literal("\x30")
                    .then_range(0x10, 0x7f)
                    .then("\x30")
                    .then_range(0x04, 0x7f)
                    .then_one_of({0xA0, der::kInteger, der::kOid}));
    a.push_back(AnchorPattern::literal("\x30").then_range(70, 0x7f).then_one_of({der::kInteger}));
    a.push_back(AnchorPattern::literal("\x30\x81").then_range(0x80, 0xff).then_one_of({0x02, 0x30}));
    for (std::uint8_t count = 2; count <= 4; ++count) {
      a.push_back(AnchorPattern::literal("\x30")
                      .then_one_of({static_cast<std::uint8_t>(0x80 | count)})
                      .then_range(0x01, 0xff)
                      .then_any(count - 1u)
                      .then_one_of({0x02, 0x30}));
    }
    return a;
  }

  void scan_anchored(const ScanContext& /*context*/, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    std::size_t next = 0;  // the end of the last structure harvested
    for (std::size_t i : merged(hits)) {
      if (i < next || i + 16 >= size) continue;
      if (const std::size_t consumed = try_at(area, data + i, size - i, i, sink); consumed > 0) next = i + consumed;
    }
  }

 private:
  static std::size_t try_at(const ScanArea& area, const std::uint8_t* p, std::size_t avail, std::size_t at,
                            FindingSink& sink) {
    auto outer = element(p, avail);
    if (!outer || outer->value.size() < 16) return 0;
    const std::uint8_t* v = outer->value.data();
    std::optional<ParsedPublic> parsed;
    const char* what = "";
    if (v[0] == der::kSequence) {
      auto inner = der::read(outer->value);
      if (!inner || inner->value.size() < 4) return 0;
      const std::uint8_t first = inner->value[0];
      if (first == 0xA0 || first == der::kInteger) {  // tbsCertificate: [0] version, or a v1 serial
        parsed = parse_certificate_der({p, avail});
        what = "certificate";
      } else if (first == der::kOid) {  // AlgorithmIdentifier: a SubjectPublicKeyInfo
        parsed = parse_spki_der({p, avail});
        what = "public key";
      }
    } else if (v[0] == der::kInteger && outer->value.size() >= 70) {
      parsed = parse_rsa_public_der({p, avail});
      what = "RSA public key";
    }
    if (!parsed) return 0;
    parsed->key.origin = fmt::format("DER {} at file offset {:#x}", what, area.file_offset + at);
    sink.public_key(std::move(parsed->key));
    return parsed->length;
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_public_key_harvest_detector() { return std::make_unique<PublicKeyHarvest>(); }

}  // namespace dumpguard
