#include "detect/public_key_harvest.hpp"

#include <cstring>
#include <fmt/format.h>

#include "crypto/der.hpp"
#include "crypto/public_key_der.hpp"

namespace dumpguard {

namespace {

// The content of the DER element at p (nullptr if not well-formed), and its header size.
std::optional<der::Tlv> element(const std::uint8_t* p, std::size_t avail) { return der::read({p, avail}); }

class PublicKeyHarvest final : public Detector {
 public:
  std::string_view name() const override { return "public-keys"; }
  Phase phase() const override { return Phase::structure; }
  Reach reach() const override { return {0, kMaxStructure}; }  // as der: certificates carry their length

  void scan(const ScanContext& /*context*/, const ScanArea& area, FindingSink& sink) override {
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    std::size_t i = 0;
    while (i + 16 < size) {
      const void* hit = std::memchr(data + i, 0x30, size - i - 16);
      if (hit == nullptr) break;
      i = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - data);
      const std::size_t consumed = try_at(area, data + i, size - i, i, sink);
      i += consumed > 0 ? consumed : 1;
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

std::unique_ptr<Detector> make_public_key_harvest_detector() { return std::make_unique<PublicKeyHarvest>(); }

}  // namespace dumpguard
