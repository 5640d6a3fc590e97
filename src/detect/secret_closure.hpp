// The closure: once any copy of a secret is known, every copy of it in every form is found by
// one exact multi-pattern pass over the dump, and each becomes a finding of the same key, as
// verified as the original. Structure detectors and hunts find a secret where its shape shows;
// the closure finds it where the shape is gone (a key standing alone in the heap, a token split
// into its segments, a number in another runtime's layout).
//
// Forms searched for each secret:
//  - bytes: raw; text: its characters in ASCII and UTF-16LE; numbers: every layout of
//    detect/number_layout.hpp (big- and little-endian bytes, JVM words, CPython digits, tagged
//    small integers, narrow limbs);
//  - and as text, in ASCII and UTF-16LE: hex in lower and upper case, base64 and base64url at
//    each of the three alignments a value can have inside a longer encoded string.
// What it does not chase: values shorter than 8 bytes (or 8 significant bytes for a number),
// with fewer than 4 distinct bytes, or past the first kMaxClosureSecrets distinct values (a
// limit says so); and forms it does not know (other encodings, encrypted or XORed copies,
// numbers in Montgomery form or with unpropagated carries).
#pragma once

#include <cstddef>
#include <vector>

#include "detect/detector.hpp"
#include "detect/known_secret.hpp"

namespace dumpguard {

inline constexpr std::size_t kMaxClosureSecrets = 4096;

// Every copy of every secret in `secrets`, as findings pushed to `sink`, in area then offset
// order. A copy's finding covers the whole value: a number's zero digits up to its width, and
// the base64 characters that share bits with the value's first and last bytes.
//
// `pending` secrets are proven in the same pass: the first of a pending secret's witnesses found
// outside the candidate's own bytes (in area, then offset order) completes its proof and its
// public key (if new) goes to the sink. Their own forms are searched in that pass too, and
// the copies of those proven become findings; the others are forgotten.
void close_over_secrets(const ScanContext& context, std::vector<KnownSecret> secrets,
                        std::vector<PendingSecret> pending, FindingSink& sink);
inline void close_over_secrets(const ScanContext& context, std::vector<KnownSecret> secrets, FindingSink& sink) {
  close_over_secrets(context, std::move(secrets), {}, sink);
}

}  // namespace dumpguard
