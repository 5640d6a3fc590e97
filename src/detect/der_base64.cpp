#include "detect/der_base64.hpp"

#include <string_view>
#include <vector>

#include "crypto/base64.hpp"
#include "crypto/private_key.hpp"
#include "crypto/wiped_bytes.hpp"
#include "detect/private_key_finding.hpp"

namespace dumpguard {

namespace {

// The most base64 text one key takes: a 16384-bit RSA key in PKCS#8 is about 12 KiB of DER,
// 16 KiB of base64, and a line break every 64 characters.
constexpr std::size_t kMaxText = 24 * 1024;

// The base64 of the first bytes of every private-key DER form parse_private_key_der reads
// (any character where the encoded length bytes fall):
//   PKCS#1 RSA       30 82 LL LL 02 01 00 02 82          MII???IBAAK
//   PKCS#8 RSA       30 82 LL LL 02 01 00 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01 05 00 04
//                                                        MII???IBADANBgkqhkiG9w0BAQEFAAS
//   PKCS#8 EC        30 81 LL 02 01 00 30 13 06 07 2a 86 48 ce 3d 02 01
//                                                        MIG??gEAMBMGByqGSM49AgEG
//   SEC1 P-256/384/521  30 77 02 01 01 04 20 / 30 81 a4 02 01 01 04 30 / 30 81 dc 02 01 01 04 42
//                                                        MHcCAQEEI  MIGkAgEBBDA  MIHcAgEBBEI
//   PKCS#8 Ed25519 / X25519  30 2e 02 01 00 30 05 06 03 2b 65 70|6e 04 22 04 20
//                                                        MC4CAQAwBQYDK2VwBCIEI  MC4CAQAwBQYDK2VuBCIEI
std::vector<AnchorPattern> base64_anchors() {
  std::vector<AnchorPattern> a;
  a.push_back(AnchorPattern::literal("MII").then_any(3).then("IBAAK"));
  a.push_back(AnchorPattern::literal("MII").then_any(3).then("IBADANBgkqhkiG9w0BAQEFAAS"));
  a.push_back(AnchorPattern::literal("MIG").then_any(2).then("gEAMBMGByqGSM49AgEG"));
  for (std::string_view sec1 : {"MHcCAQEEI", "MIGkAgEBBDA", "MIHcAgEBBEI"}) a.push_back(AnchorPattern::literal(sec1));
  for (std::string_view edwards : {"MC4CAQAwBQYDK2VwBCIEI", "MC4CAQAwBQYDK2VuBCIEI"}) {
    a.push_back(AnchorPattern::literal(edwards));
  }
  return a;
}

// How many characters of `text` encode its first `der_length` bytes: the base64 digits
// (line breaks between them counted, not needed ones after), then the padding.
std::size_t text_length(std::string_view text, std::size_t der_length) {
  std::size_t digits = (der_length * 4 + 2) / 3, i = 0;
  for (; i < text.size() && digits > 0; ++i) {
    if (base64_digit(text[i], false) >= 0) --digits;
  }
  for (std::size_t pad = (3 - der_length % 3) % 3; pad > 0 && i < text.size() && text[i] == '='; --pad) ++i;
  return i;
}

class DerBase64Detector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "der-base64"; }
  Reach reach() const override { return {0, kMaxText}; }
  std::vector<AnchorPattern> anchors() const override { return base64_anchors(); }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    std::size_t next = 0;  // the end of the last key: anchors inside it are its own bytes
    for (std::size_t at : merged(hits)) {
      if (at < next || after_pem_begin_line(text, at)) continue;
      WipedBytes der;  // the decoded candidate, wiped when it has been checked
      base64_append(text.substr(at, kMaxText), false, "\r\n", der.bytes);
      const auto parsed = parse_private_key_der(der.bytes);
      if (!parsed) continue;
      const std::size_t length = text_length(text.substr(at, kMaxText), parsed->length);
      if (report_private_key(context, area, at, length, *parsed, name(), "base64-der-" + parsed->form, sink)) {
        next = at + length;
      }
    }
  }

 private:
  // A body right after a BEGIN line is the pem detector's: it reports the whole block.
  static bool after_pem_begin_line(std::string_view text, std::size_t at) {
    std::size_t i = at;
    while (i > 0 && (text[i - 1] == '\n' || text[i - 1] == '\r') && at - i < 2) --i;
    return i < at && i >= 5 && text.substr(i - 5, 5) == "-----";
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_der_base64_detector() { return std::make_unique<DerBase64Detector>(); }

}  // namespace dumpguard
