#include "detect/private_key_finding.hpp"

#include <fmt/format.h>

#include <algorithm>

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

namespace {

// The private parts of the key behind `f`, each a secret for the closure: a part copied out of
// its wrapper (a bare prime, a scalar in another runtime's layout) is the same key.
void report_parts(const Finding& f, const RsaParts* rsa, ByteSpan scalar, KeyType type, FindingSink& sink) {
  const auto part = [&](ByteSpan value, std::size_t width, const char* name, const char* kind,
                        KnownSecret::Shape shape = KnownSecret::Shape::number) {
    if (value.empty()) return;
    KnownSecret s = secret_of(f, shape, value, width, kind);
    s.proof = fmt::format("{} of the private key at file offset {:#x}: {}", name, f.file_offset, f.proof);
    sink.secret(std::move(s));
  };
  if (rsa != nullptr) {
    const std::size_t half = std::max({rsa->p.size(), rsa->q.size(), (rsa->n.size() + 1) / 2});
    const std::size_t whole = std::max(rsa->n.size(), rsa->d.size());
    part(rsa->p, half, "p", "rsa-prime");
    part(rsa->q, half, "q", "rsa-prime");
    part(rsa->d, whole, "d", "rsa-private-exponent");
    part(rsa->dp, half, "dp", "rsa-crt-exponent");
    part(rsa->dq, half, "dq", "rsa-crt-exponent");
    part(rsa->qinv, half, "qinv", "rsa-crt-coefficient");
  }
  if (type == KeyType::ec) part(scalar, scalar.size(), "the scalar", "ec-private-scalar");
  if (type == KeyType::ed25519 || type == KeyType::x25519) {
    part(scalar, scalar.size(), "the seed", private_key_kind(type), KnownSecret::Shape::bytes);
  }
}

}  // namespace

void report_checked_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, KeyType type, KeyCheck check, std::string_view detector,
                        std::string_view encoding, FindingSink& sink, const RsaParts* parts, ByteSpan scalar) {
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
  report_parts(f, parts, scalar, type, sink);
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
  report_checked_key(context, area, offset, length, key.type, std::move(check), detector, encoding, sink,
                     key.type == KeyType::rsa ? &key.rsa : nullptr, key.scalar);
  return true;
}

}  // namespace dumpguard
