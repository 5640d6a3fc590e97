#include "detect/pem.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/public_key_der.hpp"
#include "crypto/wiped_bytes.hpp"
#include "detect/openssh.hpp"
#include "detect/private_key_finding.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
// The largest block we decode: a 16384-bit RSA key in PEM is about 12 KiB.
constexpr std::size_t kMaxBody = 64 * 1024;
// The smallest body worth a look: an Ed25519 PKCS#8 key is 64 base64 characters.
constexpr std::size_t kMinBase64 = 64;

// Decodes base64, skipping whitespace; stops at the first other character (padding included).
void decode_base64(std::string_view text, std::vector<std::uint8_t>& out) { base64_append(text, false, "\r\n \t", out); }

class PemDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "pem"; }
  // A block: BEGIN line (at most 80 bytes with its label), then the body window and END line.
  Reach reach() const override { return {0, kMaxBody + 256}; }

  std::vector<AnchorPattern> anchors() const override { return {AnchorPattern::literal(kBegin)}; }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    std::size_t pos = 0;  // where the search goes on: a block's end, or past a BEGIN that was none
    for (std::size_t begin : hits[0]) {
      if (begin >= pos) pos = block_at(context, area, text, begin, sink);
    }
  }

 private:
  // Handles the block whose BEGIN line starts at `begin`; returns where to search next.
  static std::size_t block_at(const ScanContext& context, const ScanArea& area, std::string_view text,
                              std::size_t begin, FindingSink& sink) {
    const std::size_t label_start = begin + kBegin.size();
    const std::size_t label_end = text.find("-----", label_start);
    if (label_end == std::string_view::npos || label_end - label_start > 64) return label_start;
    const std::string_view label = text.substr(label_start, label_end - label_start);
    if (!std::all_of(label.begin(), label.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' '; })) {
      return label_start;
    }
    const std::size_t body_start = label_end + 5;
    const std::string_view window = text.substr(body_start, std::min(kMaxBody, text.size() - body_start));
    const std::string end_line = fmt::format("{}{}-----", kEnd, label);
    const std::size_t end_at = window.find(end_line);
    const bool complete = end_at != std::string_view::npos;
    std::string_view body = complete ? window.substr(0, end_at) : window;

    // RFC 1421 headers (Proc-Type, DEK-Info) end at a blank line.
    bool legacy_encrypted = false;
    if (body.find("Proc-Type:") != std::string_view::npos && body.find("ENCRYPTED") != std::string_view::npos) {
      legacy_encrypted = true;
      const std::size_t blank = body.find("\n\n");
      const std::size_t blank_crlf = body.find("\r\n\r\n");
      const std::size_t skip = std::min(blank == std::string_view::npos ? body.size() : blank + 2,
                                        blank_crlf == std::string_view::npos ? body.size() : blank_crlf + 4);
      body = body.substr(std::min(skip, body.size()));
    }
    // A key block's body is base64 and nothing else. Source code, regular expressions and
    // error strings quote BEGIN lines too: they have no body, so they are not blocks.
    std::size_t run = 0, base64_chars = 0;
    while (run < body.size()) {
      const auto c = static_cast<std::uint8_t>(body[run]);
      if (base64_digit(static_cast<char>(c), false) >= 0) {
        ++base64_chars;
      } else if (c != '=' && c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        break;
      }
      ++run;
    }
    if (base64_chars < kMinBase64 || (complete && run != body.size())) return label_start;
    // Where the block ends: the END line, or the last base64 character of a cut-off block.
    const std::size_t body_offset = static_cast<std::size_t>(body.data() - text.data());
    const std::size_t span_end = complete ? body_start + end_at + end_line.size() : body_offset + run;
    const std::uint64_t offset = begin;
    const std::uint64_t length = span_end - begin;

    const bool is_private = label.size() >= 11 && label.substr(label.size() - 11) == "PRIVATE KEY" &&
                            label.find("PGP") == std::string_view::npos;
    WipedBytes der;  // the decoded body, wiped when the block has been checked
    decode_base64(body, der.bytes);

    if (is_private) {
      // OpenSSH's own container (PROTOCOL.key) is no DER: its parser reports it, encrypted
      // (cipher not "none") or checked, even when the END line was cut off.
      if (label == "OPENSSH PRIVATE KEY") {
        if (auto ssh = parse_openssh_key(der.bytes)) {
          report_openssh_key(context, area, offset, length, *ssh, der.bytes, "pem", "pem-openssh", sink);
          return span_end > begin ? span_end : label_start;
        }
      }
      if (label == "ENCRYPTED PRIVATE KEY" || legacy_encrypted) {
        report_opaque(context, area, offset, length, "encrypted-private-key", Severity::low,
                      "encrypted PEM block: the key inside cannot be read without its passphrase", der.bytes, sink);
      } else if (auto parsed = complete ? parse_private_key_der(der.bytes) : std::nullopt;
                 parsed && report_private_key(context, area, offset, length, *parsed, "pem", "pem-" + parsed->form, sink)) {
      } else {
        report_opaque(context, area, offset, length, "private-key-block", Severity::high,
                      complete ? fmt::format("PEM \"{}\" block whose body this version does not check", label)
                               : fmt::format("PEM \"{}\" block cut off before its END line; cannot be checked", label),
                      der.bytes, sink);
      }
      return span_end > begin ? span_end : label_start;
    }
    if (complete) harvest(label, der.bytes, fmt::format("PEM {} at file offset {:#x}", label, area.file_offset + offset), sink);
    return span_end > begin ? span_end : label_start;
  }

  static void harvest(std::string_view label, const std::vector<std::uint8_t>& der, std::string origin,
                      FindingSink& sink) {
    std::optional<ParsedPublic> parsed;
    if (label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE") {
      parsed = parse_certificate_der(der);
    } else if (label == "PUBLIC KEY") {
      parsed = parse_spki_der(der);
    } else if (label == "RSA PUBLIC KEY") {
      parsed = parse_rsa_public_der(der);
    }
    if (parsed) {
      parsed->key.origin = std::move(origin);
      sink.public_key(std::move(parsed->key));
    }
  }

  // A block that cannot be checked: grouped by a keyed fingerprint of its decoded body.
  static void report_opaque(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                            std::uint64_t length, const char* kind, Severity severity, std::string proof,
                            const std::vector<std::uint8_t>& body, FindingSink& sink) {
    Finding f = finding_at(context, area, offset, length, "pem", kind, "pem");
    f.verified = false;
    f.proof = std::move(proof);
    f.key = keyed_fingerprint(context.fingerprint_key, body);
    f.severity = severity;
    sink.finding(std::move(f));
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_pem_detector() { return std::make_unique<PemDetector>(); }

}  // namespace dumpguard
