// libFuzzer target for the audit log's readers: the input is one or more log files (split at a
// line holding only ASCII RS, 0x1e), verified in order under a fixed HMAC key and a fixed
// Ed25519 public key; every record read goes through `audit show`'s picking and one-line
// summary; the first line is parsed as an --since time and the first 4 KiB as a key file.
// Invariants beyond "no crash": a verdict is sound or names a broken record; a sound verdict
// counts every line; a summary line is printable ASCII; a parsed time is normal and re-parses
// to itself; an HMAC key has 16 to 64 bytes.
//
// The keys are fixed test values (bytes 0x5a), not secrets: the seed logs are signed with them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "audit/key.hpp"
#include "report/audit_history.hpp"

namespace {

constexpr char kEd25519PublicPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEADXVQdU4IAKXSN+71gmA1dmubPloVhoqUCrKJlYeI47A=\n"
    "-----END PUBLIC KEY-----\n";

const std::vector<dumpguard::AuditKey>& keys() {
  static const std::vector<dumpguard::AuditKey> k = [] {
    std::vector<dumpguard::AuditKey> out;
    const std::vector<std::uint8_t> secret(32, 0x5a);
    auto hmac = dumpguard::AuditKey::from_bytes(secret);
    const std::string pem = kEd25519PublicPem;
    auto ed25519 = dumpguard::AuditKey::from_bytes({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()});
    if (!hmac || !ed25519) __builtin_trap();
    out.push_back(std::move(*hmac));
    out.push_back(std::move(*ed25519));
    return out;
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<AuditFile> files;
  for (std::size_t at = 0; files.size() < 8;) {
    const std::size_t sep = text.find("\n\x1e\n", at);
    files.push_back(AuditFile{"f" + std::to_string(files.size()), text.substr(at, sep == std::string::npos ? sep : sep + 1 - at)});
    if (sep == std::string::npos) break;
    at = sep + 3;
  }
  const std::vector<const AuditKey*> key_ptrs = {&keys()[0], &keys()[1]};
  std::vector<AuditShown> shown;
  const AuditVerdict v = verify_audit_files(files, key_ptrs, {}, [&](const AuditEntry& e) {
    shown.push_back(AuditShown{*e.file, e.line, *e.record, std::string(e.key_id), e.sound});
  });
  if (v.ok == v.broken.has_value()) __builtin_trap();
  if (v.ok) {
    std::uint64_t lines = 0;
    for (const auto& f : files) {
      for (const char c : f.text) lines += c == '\n';
    }
    if (v.records != lines) __builtin_trap();
  }
  // Chain only, no keys: never more sound records than with them.
  const AuditVerdict unsigned_v = verify_audit_files(files, {}, {});
  if (unsigned_v.ok == unsigned_v.broken.has_value() || (v.ok && !unsigned_v.ok)) __builtin_trap();

  AuditFilter filter;
  filter.dump = "core.1";
  filter.key_fingerprint = "sha256:77777777";
  for (const AuditShown* s : pick_audit_records(shown, filter)) (void)s;
  filter = {};
  filter.dump = "aaaaaaaa";
  filter.since = "2026-11-27T00:00:00Z";
  for (const AuditShown* s : pick_audit_records(shown, filter)) (void)s;
  for (const AuditShown& s : shown) {
    for (const char c : audit_record_line(s)) {
      if (c < 0x20 || c >= 0x7f) __builtin_trap();
    }
  }

  const std::string first = text.substr(0, std::min<std::size_t>(text.find('\n'), 64));
  if (auto t = parse_iso8601_utc(first)) {
    if (t->size() != 20) __builtin_trap();
    auto again = parse_iso8601_utc(*t);
    if (!again || *again != *t) __builtin_trap();
  }
  auto key = AuditKey::from_bytes({data, std::min<std::size_t>(size, 4096)});
  if (key && key->alg() == AuditAlg::hmac_sha256 && (size < 16 || size > 64)) __builtin_trap();
  return 0;
}
