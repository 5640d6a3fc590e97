// The gate's policy ([gate] in the config file, docs/commands/gate.md): what a scan's findings
// make of a dump before any redaction. A dump is quarantined when a finding's kind says so
// ([gate.actions]), or when a key listed with action "quarantine" ([[gate.key]], by public key
// file or fingerprint) is present, redacted or not; the largest size and the formats allowed
// are checked before the scan.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"
#include "user_files/config_file.hpp"

namespace dumpguard {

// gate.max-size when the config sets none: larger dumps are quarantined as too-large. A dump
// is mapped, scanned, copied and rescanned, and a compressed one decompressed to this size; a
// gate that took any size could be made to fill its disk or spend hours on one upload.
inline constexpr std::uint64_t kDefaultGateMaxSize = 16ull << 30;

struct GatePolicy {
  std::map<std::string, std::string> actions;  // finding kind -> "redact" | "quarantine"
  std::string default_action = "redact";
  // Key fingerprint -> the rule that names it: action and where it came from (a file, or "fingerprint").
  struct KeyRule {
    std::string action;
    std::string source;
  };
  std::map<std::string, KeyRule> keys;
  std::vector<std::string> pubkey_files;  // to be supplied to the scan, so the hunts look for them
  std::uint64_t max_size = kDefaultGateMaxSize;  // 0: no limit
  std::optional<std::set<std::string>> formats;  // null: every format dumpguard reads
  std::vector<std::string> drop;
};

// Reads the [[gate.key]] public key files and computes their fingerprints.
Result<GatePolicy> make_gate_policy(const GateConfig& config);

struct PolicyVerdict {
  bool quarantine = false;
  std::string message;                 // why, in words (kinds and fingerprints, never bytes)
  std::vector<std::string> kinds;      // finding kinds whose action is quarantine
  std::vector<std::string> keys;       // fingerprints of listed keys that are present
};

// Before the scan: size and format.
std::optional<std::string> refuse_by_size(const GatePolicy& policy, std::uint64_t size);
std::optional<std::string> refuse_by_format(const GatePolicy& policy, const Dump& dump);
// After the scan.
PolicyVerdict apply_policy(const GatePolicy& policy, const ScanReport& report);

}  // namespace dumpguard
