#include "scan/supplied_keys.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include "crypto/jwt.hpp"
#include "crypto/public_key_der.hpp"
#include "scan/key_groups.hpp"

namespace dumpguard {

std::vector<PublicKey> supplied_public_keys(const std::vector<SuppliedKey>& supplied) {
  std::vector<PublicKey> out;
  for (const SuppliedKey& s : supplied) {
    if (auto parsed = parse_spki_der(s.spki_der)) {
      parsed->key.origin = "supplied in " + s.source;
      out.push_back(std::move(parsed->key));
    }
  }
  return out;
}

namespace {
// What the hunts for a key type searched, in words (docs/detectors.md has the details).
std::string searched_for(KeyType type, bool exhaustive) {
  switch (type) {
    case KeyType::rsa:
      if (exhaustive) {
        return "factors of its modulus of the primes' byte length at every byte offset as big-endian numbers and "
               "at every 4-byte-aligned address as little-endian limbs, every region included, with no structure "
               "prior and no prefilter beyond oddness (--exhaustive); every PEM, DER, OpenSSH, CNG, CAPI and JWK "
               "private-key structure at every byte offset";
      }
      return "factors of its modulus as little-endian limbs at glibc malloc chunks and OpenSSL BIGNUMs sized for "
             "the primes, and as big-endian numbers after DER INTEGER and SSH mpint headers (structure priors "
             "and the odd/bit-length/byte-diversity prefilters on); every PEM, DER, OpenSSH, CNG, CAPI and JWK "
             "private-key structure at every byte offset";
    case KeyType::ec:
      return "its scalar as little-endian limbs at OpenSSL BIGNUMs and as big- and little-endian bytes at glibc "
             "malloc chunks sized for it (prefilters on: half the bytes distinct, no pointer-shaped word), then as "
             "big- and little-endian bytes at every 8-byte-aligned island of random bytes (a window next to a "
             "structured word, in a random run that ends within 256 bytes; prefilters on: half the bytes distinct, "
             "an eighth with the top bit set, no structured word), skipping code and read-only file mappings; "
             "every PEM, DER, OpenSSH, CNG and JWK private-key structure at every byte offset";
    case KeyType::ed25519:
    case KeyType::x25519:
      return "its seed in the 32 bytes before every copy of the public key (seed‖public key, as libsodium, "
             "Go and OpenSSH keep it), then at every 8-byte-aligned island of 32 random bytes (a window next to a "
             "structured word, in a random run that ends within 256 bytes; prefilters on: half the bytes distinct, "
             "an eighth with the top bit set, no structured word), skipping code and read-only file mappings; "
             "every PEM, DER, OpenSSH and JWK private-key structure at every byte offset";
  }
  return "";
}

// The limit a hunt reported, if any: then "absent" would claim too much.
const HuntLimit* hunt_limit(const ScanReport& report, std::string_view detector) {
  for (const HuntLimit& l : report.limits) {
    if (l.detector == detector) return &l;
  }
  return nullptr;
}

const HuntLimit* limit_for(const ScanReport& report, KeyType type) {
  return hunt_limit(report,
                    type == KeyType::ec ? "ec-scalar" : (type == KeyType::rsa ? "rsa-factor" : "edwards-seed"));
}
}  // namespace

std::vector<SuppliedKeyStatus> supplied_status(const std::vector<SuppliedKey>& supplied,
                                               const std::vector<PublicKey>& keys, const ScanReport& report,
                                               const Dump& dump, bool exhaustive) {
  std::vector<SuppliedKeyStatus> out;
  std::size_t k = 0;
  for (const SuppliedKey& s : supplied) {
    SuppliedKeyStatus st;
    st.source = s.source;
    st.kid = s.kid;
    if (k >= keys.size() || keys[k].origin != "supplied in " + s.source) {
      st.status = Presence::not_searched;
      st.statement = "the supplied public key could not be parsed";
      out.push_back(std::move(st));
      continue;
    }
    const PublicKey& key = keys[k++];
    st.fingerprint = key.fingerprint;
    st.type = key_type_name(key);
    bool verified = false;
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      if (report.findings[i].key != key.fingerprint) continue;
      st.findings.push_back(i);
      verified = verified || report.findings[i].verified;
    }
    const std::string what = searched_for(key.type, exhaustive);
    if (!st.findings.empty()) {
      st.status = Presence::present;
      st.statement = fmt::format("present: {} finding{} of its private key{}", st.findings.size(),
                                 st.findings.size() == 1 ? "" : "s", verified ? ", verified" : ", none verified");
    } else if (what.empty()) {
      st.status = Presence::not_searched;
      st.statement = fmt::format("not searched: this version has no hunt for {} private keys beyond structured "
                                 "formats, so it cannot say the key is absent", st.type);
    } else if (const HuntLimit* limit = limit_for(report, key.type)) {
      st.status = Presence::incomplete;
      st.statement = fmt::format("incomplete: not found, but the {} hunt stopped short ({}); searched {} bytes for {}",
                                 limit->detector, limit->what, report.bytes_searched, what);
    } else {
      st.status = Presence::absent;
      st.statement = fmt::format("absent: searched {} bytes ({} regions, {} unaccounted ranges{}) for {}",
                                 report.bytes_searched, dump.model.regions.size(), dump.model.unaccounted.size(),
                                 dump.model.complete ? "" : "; the dump was only partly parsed", what);
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace dumpguard

namespace dumpguard {

std::vector<SuppliedTokenStatus> supplied_token_status(const std::vector<std::string>& tokens,
                                                       const ScanReport& report, const Dump& dump) {
  std::vector<SuppliedTokenStatus> out;
  const auto bytes = dump.bytes();
  for (const std::string& text : tokens) {
    SuppliedTokenStatus st;
    std::size_t length = 0;
    auto token = parse_hmac_jwt(text, length);
    if (!token) {
      st.status = Presence::not_searched;
      st.statement = "not an HS256, HS384 or HS512 JWT";
      out.push_back(std::move(st));
      continue;
    }
    st.alg = token->alg;
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      const Finding& f = report.findings[i];
      if (f.kind != "hmac-key" || f.file_offset >= bytes.size() || f.length > bytes.size() - f.file_offset) continue;
      std::vector<std::uint8_t> key;
      const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data()) + f.file_offset;
      const std::size_t step = f.encoding == "utf16le" ? 2 : 1;
      for (std::size_t k = 0; k < f.length; k += step) key.push_back(p[k]);
      if (verifies(*token, key)) st.findings.push_back(i);
      OPENSSL_cleanse(key.data(), key.size());
    }
    if (!st.findings.empty()) {
      st.status = Presence::present;
      st.statement = fmt::format("present: its {} signature verifies under the key at {} location{}", st.alg,
                                 st.findings.size(), st.findings.size() == 1 ? "" : "s");
    } else if (const HuntLimit* limit = hunt_limit(report, "hmac-key")) {
      st.status = Presence::incomplete;
      st.statement = fmt::format("incomplete: its key was not found, but the hmac-key hunt stopped short ({})",
                                 limit->what);
    } else {
      st.status = Presence::absent;
      st.statement = fmt::format(
          "absent: searched {} bytes{} for its key as every whole printable run of 8 to 128 characters in ASCII "
          "and UTF-16LE, and as binary windows of 16, 20, 24, 32, 48 and 64 bytes at malloc chunks of that size "
          "(prefilters on: half the bytes distinct, no pointer-shaped word), and of 32 and 64 bytes at 8-byte-aligned "
          "islands bounded by structured words (random-looking bytes only); code and read-only file mappings were not searched",
          report.bytes_searched, dump.model.complete ? "" : " (the dump was only partly parsed)");
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<SuppliedKeyStatus> registered_status(const std::vector<RegisteredSecret>& secrets,
                                                 const ScanReport& report, const Dump& dump) {
  std::vector<SuppliedKeyStatus> out;
  for (const RegisteredSecret& secret : secrets) {
    SuppliedKeyStatus st;
    st.fingerprint = secret.id;
    st.source = secret.name;
    st.type = "secret";
    // By key, whatever the kind: the id is the keyed fingerprint of the secret's bytes, as is the
    // key of an hmac-key finding, and a span found by both keeps only one finding (key_groups.cpp).
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      if (report.findings[i].key == secret.id) st.findings.push_back(i);
    }
    std::string encodings;
    for (const SecretForm& f : secret.forms) encodings += (encodings.empty() ? "" : ", ") + f.encoding;
    if (!st.findings.empty()) {
      st.status = Presence::present;
      st.statement = fmt::format("present: {} location{}, {} confirmed by its keyed HMAC", st.findings.size(),
                                 st.findings.size() == 1 ? "" : "s", st.findings.size() == 1 ? "" : "each");
    } else {
      st.status = Presence::absent;
      st.statement = fmt::format(
          "absent: no exact copy at any byte offset of the {} bytes searched{} (every region and every "
          "unaccounted range, each on its own), in {} forms: {}; the prefilter is exact, so it drops no copy",
          report.bytes_searched, dump.model.complete ? "" : " (the dump was only partly parsed)", secret.forms.size(),
          encodings);
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace dumpguard
