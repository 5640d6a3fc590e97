// What a scan reports: findings (one contiguous span each) and the keys they belong to.
// No field here can hold a secret's bytes: spans are offsets, keys are fingerprints
// (SHA-256 of a public key, or a keyed hash of a symmetric key), proofs are words about
// public facts ("factor of the 2048-bit modulus of key sha256:...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dumpguard {

// Severities: critical = a verified private key or secret; high = a structured key that
// fails or lacks its check; medium = generic rules past their entropy threshold;
// low = informational (an encrypted PEM block).
enum class Severity { low, medium, high, critical };

const char* to_string(Severity severity);

struct Finding {
  std::string detector;  // the detector that found it: "pem", "der", "rsa-factor", ...
  std::string kind;      // "rsa-private-key", "rsa-prime", "ec-private-key", "aes-key-schedule", ...
  std::string encoding;  // how the bytes are laid out: "pem", "der", "be", "le64-limbs", ...
  std::uint64_t file_offset = 0;
  std::uint64_t length = 0;
  std::optional<std::uint64_t> vaddr;
  std::optional<std::size_t> region;  // index into the dump's regions, or null (unaccounted)
  bool verified = false;
  std::string proof;  // the check that holds (or failed), in words
  std::string key;    // fingerprint of the key this belongs to, e.g. "sha256:3f2a..."
  Severity severity = Severity::high;
};

// One private key or secret, with every finding that holds a part of it.
struct KeyGroup {
  std::string fingerprint;
  std::string kind;      // "rsa-2048", "ec-p256", "ed25519", "aes-256", ...
  std::vector<std::size_t> findings;  // indices into the findings list
  bool verified = false;
  std::string proof;
  Severity severity = Severity::high;
};

}  // namespace dumpguard
