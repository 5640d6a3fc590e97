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
  Finding f;
  f.detector = std::string(detector);
  f.kind = private_key_kind(key.type);
  f.encoding = std::string(encoding);
  f.file_offset = area.file_offset + offset;
  f.length = length;
  f.vaddr = vaddr_of(context.dump, area, offset);
  f.region = area.region;
  f.verified = check.verified;
  f.proof = check.proof;
  f.severity = check.verified ? Severity::critical : Severity::high;
  if (check.public_key) {
    f.key = check.public_key->fingerprint;
    PublicKey pub = *check.public_key;
    pub.derived = true;
    pub.origin = fmt::format("derived from the private key at file offset {:#x}", f.file_offset);
    sink.public_key(std::move(pub));
  }
  sink.finding(std::move(f));
  return true;
}

}  // namespace dumpguard
