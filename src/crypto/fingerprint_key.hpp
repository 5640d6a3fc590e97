// The installation's fingerprint key: 32 random bytes in a file of mode 0600, made on
// first use. Keyed fingerprints of symmetric secrets are HMACs under it, so they are stable
// on one installation and worthless for guessing secrets without the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

// $XDG_CONFIG_HOME/dumpguard/fingerprint.key, else $HOME/.config/dumpguard/fingerprint.key.
std::string default_fingerprint_key_path();

// Reads the key, or creates it (and its directory, mode 0700) when the file is absent.
// Refuses a key file that others can read or that is not exactly 32 bytes.
Result<std::vector<std::uint8_t>> load_or_create_fingerprint_key(const std::string& path);

}  // namespace dumpguard
