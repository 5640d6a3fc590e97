// scan_dump: run every detector over every region and unaccounted range of a dump, and
// return the findings grouped by key. The caller prints; this never does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/finding.hpp"
#include "dumpguard/observer.hpp"
#include "dumpguard/text_rules.hpp"

namespace dumpguard {

// One form of a registered secret (raw, hex, base64, their UTF-16LE, ...): its length, a
// blinded keyed prefilter value, its salt, and its keyed HMAC. Nothing here is useful without
// the fingerprint key (crypto/secret_fingerprint.hpp).
struct SecretForm {
  std::string encoding;
  std::size_t length = 0;
  std::string salt;              // hex, random per form
  std::uint64_t prefilter = 0;   // rolling hash of the first bytes, XOR the salt's keyed mask
  std::string hmac;
};

// A secret the user registered, known only by its fingerprints.
struct RegisteredSecret {
  std::string name;  // the name it was registered under (its file's base name)
  std::string id;    // keyed fingerprint of the raw secret: how reports name it
  std::vector<SecretForm> forms;
};

// A public key the user supplied (--pubkey, --keyring): "is OUR key in this dump?"
struct SuppliedKey {
  std::string source;                 // the file it came from
  std::vector<std::uint8_t> spki_der; // SubjectPublicKeyInfo
  std::string kid;                    // JWK key id, if any
};

struct ScanOptions {
  unsigned aes_tolerance = 0;                 // bit errors allowed in an AES schedule
  // Test every window for RSA factors, with no structure prior and no prefilter
  // (docs/commands/scan.md, "--exhaustive"): for auditors; costs about a division per byte of the dump and modulus.
  bool exhaustive = false;
  // --time-budget: seconds the hunts may take in all (0: no budget). A hunt cut short reports
  // a limit, and no key it covers is then reported absent: "absent" needs a finished search.
  double time_budget = 0;
  std::vector<std::uint8_t> fingerprint_key;  // 32 bytes, for keyed fingerprints
  // Public keys whose private halves are never in a dump (the system trust store): not
  // hunted. Keys from CA certificates (basicConstraints CA:TRUE) are skipped as well.
  std::set<std::string> trusted_public_keys;
  // Keys to answer for: each is hunted even if it is a CA's, and reported present or absent.
  std::vector<SuppliedKey> supplied_keys;
  // Registered secrets (`dumpguard fingerprint`, read from --fingerprints files) to find.
  std::vector<RegisteredSecret> registered_secrets;
  // Key fingerprints accepted by a baseline (--baseline): their findings are suppressed, and
  // counted in ScanReport::suppressed.
  std::set<std::string> baseline;
  // HMAC-signed JWTs (--token) whose keys must be found if present.
  std::vector<std::string> tokens;
  // The text rules, compiled once per run (--rules, --rules-only); unset: the built-in set.
  std::optional<TextRules> text_rules;
  // Run only these detectors (their names, as ScanReport::detectors lists them); empty: all.
  // Hunts still hunt supplied keys without the structure detectors that harvest the rest.
  std::vector<std::string> detectors;
  // Threads (--threads): 0 uses every core the process may run on. The report does not depend
  // on it.
  unsigned threads = 0;
  // Bytes per chunk (0: the default, 4 MiB). Tests make it small so that a small dump has
  // many chunk boundaries; the report does not depend on it either, but for DER structures
  // longer than 256 KiB that cross a boundary (docs/design.md, "Chunks, threads and one report").
  std::uint64_t chunk_size = 0;
};

// What a scan says about a key, token or secret the user asked about. "absent" needs a finished
// search: a hunt that stopped short makes it "incomplete", and a key no hunt can look for is
// "not searched".
enum class Presence { present, absent, incomplete, not_searched };
// As reports spell it: "present", "absent", "incomplete", "not searched".
std::string_view to_string(Presence presence);

// The answer for one supplied key: what an auditor signs off on.
struct SuppliedKeyStatus {
  std::string fingerprint;
  std::string kid;
  std::string source;
  std::string type;                 // "rsa-2048", "ec-p256", ...
  Presence status = Presence::not_searched;
  std::vector<std::size_t> findings;  // indices into findings, when present
  std::string statement;            // the sentence: the proof, or exactly what was searched
};

// A public key harvested from the dump: not a finding, but what the hunts looked for.
struct HarvestedKey {
  std::string fingerprint;
  std::string type;  // "rsa-2048", "ec-p256", "ed25519", ...
  std::string origin;
  bool ca = false;
  bool derived = false;  // computed from a private key found in the dump
};

// The answer for one supplied token (--token): was the key that signed it in the dump?
struct SuppliedTokenStatus {
  std::string alg;                    // "HS256", ...
  Presence status = Presence::not_searched;  // not searched: not an HMAC JWT
  std::vector<std::size_t> findings;  // copies of its key, when present
  std::string statement;
};

// A hunt that stopped short of its whole search (a candidate budget reached): which detector,
// and what it left out, in words. A supplied key that hunt covers is then "incomplete".
struct HuntLimit {
  std::string detector;
  std::string what;
};

struct ScanReport {
  std::vector<Finding> findings;  // sorted by file offset; one span each
  std::vector<KeyGroup> keys;     // every finding belongs to exactly one key
  std::vector<HarvestedKey> public_keys;
  std::vector<SuppliedKeyStatus> supplied;
  std::vector<SuppliedTokenStatus> supplied_tokens;  // in the order of ScanOptions::tokens
  // One per registered secret: fingerprint = its id, source = its name, type "secret".
  std::vector<SuppliedKeyStatus> registered;
  std::vector<std::string> detectors;  // names, in the order they ran
  std::uint64_t bytes_searched = 0;    // regions and unaccounted ranges (overlaps once each)
  bool exhaustive = false;             // the RSA hunt ran with --exhaustive
  std::vector<HuntLimit> limits;       // hunts that did not search everything they would
  std::size_t suppressed_findings = 0;  // findings of keys the baseline accepts, left out
  std::vector<std::string> suppressed_keys;
};

// `observer`, when given, is told how far the scan is (stage `progress_stage`: "scan", or
// "verify" for redact's rescan; the structure detectors share the first pass, each hunt has
// one of its own) and, if it asks, what each detector cost. It changes nothing found.
ScanReport scan_dump(const Dump& dump, const ScanOptions& options, Observer* observer = nullptr,
                     std::string_view progress_stage = "scan");

// Every detector's name, in the order a scan runs them (for ScanOptions::detectors).
std::vector<std::string> detector_names();

}  // namespace dumpguard
