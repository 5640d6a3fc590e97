// The OpenSSH detector. Every structure it knows starts at a fixed string: the container's
// "openssh-key-v1\0" magic, or a key type ("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp")
// preceded by its own 4-byte big-endian length, which is what makes the prefilter cheap.
#include "detect/openssh.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "crypto/digest.hpp"
#include "detect/private_key_finding.hpp"

namespace dumpguard {

void report_openssh_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, const OpensshKey& key, ByteSpan blob, std::string_view detector,
                        std::string_view encoding, FindingSink& sink) {
  if (key.public_key) {
    PublicKey pub = *key.public_key;
    pub.origin = fmt::format("public section of an OpenSSH key at file offset {:#x}", area.file_offset + offset);
    sink.public_key(std::move(pub));
  }
  if (key.private_key) {
    report_private_key(context, area, offset, length, *key.private_key, detector, encoding, sink);
    return;
  }
  Finding f = finding_at(context, area, offset, length, detector, "", encoding);
  f.verified = false;
  // The public half is stored in the clear (PROTOCOL.key), so even an encrypted key is
  // named by its public key's fingerprint.
  f.key = key.public_key ? key.public_key->fingerprint : keyed_fingerprint(context.fingerprint_key, blob);
  if (key.encrypted) {
    f.kind = "encrypted-private-key";
    f.severity = Severity::low;
    f.proof = fmt::format("OpenSSH key encrypted with {} (KDF {}): unreadable without its passphrase",
                          key.cipher, key.kdf);
  } else {
    f.kind = "private-key-block";
    f.severity = Severity::high;
    f.proof = "unencrypted OpenSSH key whose private section is cut off or does not parse";
  }
  sink.finding(std::move(f));
}

namespace {

constexpr std::string_view kTypePrefixes[] = {"ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp"};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

class OpensshDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "openssh"; }
  // A key type is preceded by its 4-byte length; a container holds at most a 64 KiB private
  // section, a 4 KiB public blob and 1 KiB of KDF options (crypto/openssh_key.cpp).
  Reach reach() const override { return {4, 96 * 1024}; }

  // The container's magic, then each key type (anchors 1..3, in kTypePrefixes' order).
  std::vector<AnchorPattern> anchors() const override {
    std::vector<AnchorPattern> a{AnchorPattern::literal(kOpensshMagic)};
    for (std::string_view prefix : kTypePrefixes) a.push_back(AnchorPattern::literal(prefix));
    return a;
  }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(area.bytes.data()), area.bytes.size());
    // Containers first; their inner key fields are then skipped by the wire-format pass.
    std::vector<std::pair<std::size_t, std::size_t>> taken;
    std::size_t next = 0;  // the end of the last container
    for (std::size_t pos : hits[0]) {
      if (pos < next) continue;
      auto key = parse_openssh_key(bytes.subspan(pos));
      if (!key) continue;
      report_openssh_key(context, area, pos, key->length, *key, bytes.subspan(pos, key->length), "openssh",
                         "openssh", sink);
      taken.emplace_back(pos, pos + key->length);
      next = pos + key->length;
    }
    for (std::size_t k = 0; k < std::size(kTypePrefixes); ++k) {
      const std::string_view prefix = kTypePrefixes[k];
      for (std::size_t pos : hits[k + 1]) {
        if (pos < 4) continue;
        const std::size_t start = pos - 4;
        const std::uint32_t len = be32(bytes.data() + start);
        if (len < prefix.size() || len > 19 || len > bytes.size() - pos) continue;  // 19 = "ecdsa-sha2-nistp521"
        if (inside(taken, start)) continue;
        const ByteSpan at = bytes.subspan(start);
        if (auto priv = parse_ssh_private_fields(at)) {
          report_private_key(context, area, start, priv->length, *priv, "openssh", "ssh-private-fields", sink);
          taken.emplace_back(start, start + priv->length);
          continue;
        }
        if (auto pub = parse_ssh_public_blob(at)) {
          pub->key.origin = fmt::format("SSH public key blob at file offset {:#x}", area.file_offset + start);
          sink.public_key(std::move(pub->key));
        }
      }
    }
  }

 private:
  static bool inside(const std::vector<std::pair<std::size_t, std::size_t>>& taken, std::size_t at) {
    for (const auto& [begin, end] : taken) {
      if (at >= begin && at < end) return true;
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_openssh_detector() { return std::make_unique<OpensshDetector>(); }

}  // namespace dumpguard
