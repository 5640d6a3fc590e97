// Offline checks of a secret's own structure, for token formats that carry one. A rule names
// its check (`validator = "..."` in its file); a secret that passes it is reported verified:
// its issuer's generator made it (or someone who computed the checksum), which a random or
// mistyped string passes with probability 2^-32. Nothing here contacts the issuer.
#pragma once

#include <optional>
#include <string_view>

namespace dumpguard::rules {

enum class Validator {
  none,
  // GitHub's classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and npm's (npm_): PREFIX_, 30
  // base62 characters, then the CRC32 of those 30 characters in 6 base62 digits
  // (0-9A-Za-z, most significant first, padded with '0'). GitHub blog, "Behind GitHub's new
  // authentication token formats" (2021-04-05); npm's follows it ("npm's new access token format").
  base62_crc32,
};

// The name a rule file uses ("base62-crc32"), or nullopt for an unknown one.
std::optional<Validator> validator_named(std::string_view name);
const char* to_string(Validator validator);
// A few words for a finding's proof: what holds when check() is true.
const char* proof_words(Validator validator);

// Whether `secret` passes `validator` (always false for Validator::none).
bool check(Validator validator, std::string_view secret);

}  // namespace dumpguard::rules
