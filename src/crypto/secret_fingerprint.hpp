// Fingerprints of registered secrets (docs/commands/fingerprint.md: what the file reveals).
//
// Each form of a secret (its raw bytes; hex, HEX, base64 and base64url; and the UTF-16LE of
// every text form) is kept as:
//  - its length;
//  - a prefilter: the keyed rolling hash of its first min(length, 16) bytes, blinded by a
//    one-time mask derived from the fingerprint key and a random per-form salt;
//  - a confirming HMAC-SHA256 of the whole form under the fingerprint key.
// Without the key every stored value is indistinguishable from random: the file tells only how
// many secrets and forms there are, their lengths, and which entries repeat the same secret
// (equal ids). With the key, each form can be tested against guesses, so a short or guessable
// secret can be brute-forced; docs/commands/fingerprint.md says so.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/scan.hpp"

namespace dumpguard {

// The prefilter hashes at most this many leading bytes of a form, so that one pass over the
// dump serves every form of every registered secret of at least this length.
inline constexpr std::size_t kAnchorLength = 16;
// Secrets shorter than this would match by chance; longer ones are not what "secret" means here.
inline constexpr std::size_t kMinSecretLength = 6;
inline constexpr std::size_t kMaxSecretLength = 16384;

// The polynomial rolling hash modulo 2^64, with an odd base derived from the fingerprint key.
class RollingHash {
 public:
  RollingHash(std::span<const std::uint8_t> fingerprint_key, std::size_t window);
  std::uint64_t of(std::span<const std::uint8_t> window) const;
  // The hash of the window one byte further: drop `out`, add `in`.
  std::uint64_t roll(std::uint64_t h, std::uint8_t out, std::uint8_t in) const { return (h - out * top_) * base_ + in; }

 private:
  std::uint64_t base_ = 0;
  std::uint64_t top_ = 0;  // base^(window-1)
};

// The one-time mask that blinds a form's stored prefilter value.
std::uint64_t form_mask(std::span<const std::uint8_t> fingerprint_key, const std::string& salt_hex);
// The confirming MAC of one form.
std::string form_hmac(std::span<const std::uint8_t> fingerprint_key, std::span<const std::uint8_t> form);
// A short value that tells which fingerprint key made a file, and nothing about the key.
std::string fingerprint_key_check(std::span<const std::uint8_t> fingerprint_key);

// Fingerprints one secret. Text secrets (printable ASCII) get a UTF-16LE form of every text
// encoding; binary secrets get the UTF-16LE of their hex and base64 forms.
RegisteredSecret fingerprint_secret(std::span<const std::uint8_t> fingerprint_key, const std::string& name,
                                    std::span<const std::uint8_t> secret);

}  // namespace dumpguard
