// A secret value the scan has learnt: a proven key part, a found symmetric key, a text
// credential. Detectors hand each one to their sink; after every detector and hunt, the
// closure (detect/secret_closure.hpp) finds every other copy of it in every form, and each copy
// becomes a finding of the same key. The bytes live only here, wiped when it goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/wiped_bytes.hpp"
#include "crypto/public_key.hpp"
#include "dumpguard/finding.hpp"

namespace dumpguard {

struct KnownSecret {
  // What the value is, which decides the forms searched: bytes (raw, and as hex and base64
  // text), text (its characters in ASCII and UTF-16LE, and as hex and base64), or a number
  // (every layout of detect/number_layout.hpp, and its big-endian bytes as hex and base64).
  enum class Shape { bytes, text, number };
  Shape shape = Shape::bytes;
  WipedBytes value;  // number: the big-endian magnitude
  // Numbers: the bytes the owner gives the number (a prime's length), so that a copy's finding
  // takes in the zero digits that pad it to that width.
  std::size_t width = 0;

  // What every copy's finding says: its detector and kind, the key group, and the proof and
  // verdict of the original.
  std::string detector;
  std::string kind;
  std::string key;
  std::string proof;
  bool verified = false;
  Severity severity = Severity::high;
};

// A secret the scan knows only once the closure's pass shows its proof: a candidate EC scalar
// whose d·G is in no public key the scan harvested is proven when a coordinate of that point is
// somewhere else in the dump. The closure searches for the witnesses and for the secret's own
// forms in its one pass, and keeps the copies of those a witness proved: no pass is added.
struct PendingSecret {
  // The public value whose presence proves the secret (a coordinate in one number layout), and
  // what the proof calls it ("x of d·G laid out as be"). Public bytes: d·G, not d.
  struct Witness {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint8_t> mask;  // empty: every bit compared
    std::string what;
  };
  KnownSecret secret;  // its proof is completed with the witness found and where
  std::vector<Witness> witnesses;
  // A witness found inside these file bytes proves nothing: they are the candidate itself.
  std::uint64_t candidate_offset = 0;
  std::uint64_t candidate_length = 0;
  // The public key that joins the report once proven (its origin completed the same way), when
  // the scan did not know it.
  std::optional<PublicKey> key;
};

}  // namespace dumpguard
