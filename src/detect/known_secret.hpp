// A secret value the scan has learnt: a proven key part, a found symmetric key, a text
// credential. Detectors hand each one to their sink; after every detector and hunt, the
// closure (detect/secret_closure.hpp) finds every other copy of it in every form, and each copy
// becomes a finding of the same key. The bytes live only here, wiped when it goes.
#pragma once

#include <cstddef>
#include <string>

#include "crypto/wiped_bytes.hpp"
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

}  // namespace dumpguard
