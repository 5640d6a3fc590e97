#include "detect/private_key_finding.hpp"

#include <fmt/format.h>

#include "detect/byte_statistics.hpp"

namespace dumpguard {

const char* private_key_kind(KeyType type) {
  switch (type) {
    case KeyType::rsa: return "rsa-private-key";
    case KeyType::ec: return "ec-private-key";
    case KeyType::ed25519: return "ed25519-private-key";
    case KeyType::x25519: return "x25519-private-key";
  }
  return "private-key";
}

void report_checked_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, KeyType type, KeyCheck check, std::string_view detector,
                        std::string_view encoding, FindingSink& sink) {
  Finding f = finding_at(context, area, offset, length, detector, private_key_kind(type), encoding);
  f.verified = check.verified;
  f.proof = std::move(check.proof);
  f.severity = check.verified ? Severity::critical : Severity::high;
  if (check.public_key) {
    f.key = check.public_key->fingerprint;
    PublicKey pub = std::move(*check.public_key);
    pub.derived = true;
    pub.origin = fmt::format("derived from the private key at file offset {:#x}", f.file_offset);
    sink.public_key(std::move(pub));
  }
  sink.finding(std::move(f));
}

bool report_private_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, const ParsedPrivateKey& key, std::string_view detector,
                        std::string_view encoding, FindingSink& sink) {
  if (key.type != KeyType::rsa &&
      (distinct_bytes(key.scalar.data(), key.scalar.size()) < key.scalar.size() / 2 ||
       has_pointer_word(key.scalar.data(), key.scalar.size()))) {
    return false;
  }
  KeyCheck check;
  switch (key.type) {
    case KeyType::rsa: check = check_rsa(key.rsa); break;
    case KeyType::ec: check = check_ec(key.curve_nid, key.scalar, key.public_point); break;
    case KeyType::ed25519:
    case KeyType::x25519: check = check_edwards(key.type, key.scalar, key.public_point); break;
  }
  report_checked_key(context, area, offset, length, key.type, std::move(check), detector, encoding, sink);
  return true;
}

}  // namespace dumpguard
