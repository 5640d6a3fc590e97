// The config file (`dumpguard scan --config FILE`): the scan options a gate is configured with
// once, in TOML (README, "The config file"). Only the [scan] table exists so far; anything the
// file says that dumpguard does not know is an error, so a typo fails closed instead of
// silently dropping a key from the search.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

// The [scan] table. Each field mirrors the scan option of the same name; an unset optional or
// an empty list means the file did not mention it. Paths are already resolved against the
// config file's directory.
struct ScanConfig {
  std::optional<std::string> fingerprint_key;  // fingerprint-key = "PATH"
  std::vector<std::string> pubkeys;            // pubkey = ["PATH", ...]
  std::vector<std::string> keyrings;           // keyring = ["DIR", ...]
  std::vector<std::string> tokens;             // token = ["TEXT" or "@PATH", ...]
  std::vector<std::string> fingerprints;       // fingerprints = ["PATH", ...]
  std::vector<std::string> baselines;          // baseline = ["PATH", ...]
  std::optional<std::string> fail_on;          // fail-on = "low" | "medium" | "high" | "critical"
  std::optional<unsigned> aes_tolerance;       // aes-tolerance = 0..64
  std::optional<bool> hunt_trust_store;        // hunt-trust-store = true | false
  std::optional<bool> exhaustive;              // exhaustive = true | false
  std::optional<double> time_budget;           // time-budget = seconds (> 0)
};

// Larger than any real config (a few keys and paths); the file is refused, not read in part.
inline constexpr std::size_t kMaxConfigFile = 1u << 20;
// A file nested deeper than this (io/toml.hpp, toml_nesting_depth) is refused before toml++
// recurses into it: 512 Ki levels overflow the stack, and a dumpguard config nests 3 deep.
inline constexpr std::size_t kMaxConfigNesting = 4096;

// Reads at most kMaxConfigFile bytes of the file and parses them. Errors are one line:
// "FILE:LINE:COL: problem", or "FILE: problem" where there is no position.
Result<ScanConfig> read_config_file(const std::string& path);
// The same, from the file's text; `path` names it in errors and anchors its relative paths.
Result<ScanConfig> parse_config(std::string_view text, const std::string& path);

}  // namespace dumpguard
