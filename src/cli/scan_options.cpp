// What `scan` and `redact` share: the ScanOptions the command line and the config file ask
// for. redact rescans its copy with exactly these, so both must be built in one place.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <cstdio>
#include <fstream>

#include "cli/commands.hpp"
#include "crypto/trust_store.hpp"
#include "user_files/baseline_file.hpp"
#include "user_files/config_file.hpp"
#include "user_files/fingerprint_file.hpp"
#include "user_files/public_key_files.hpp"
#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard::cli {

// The config file's options joined with the command line's (docs/config.md): lists
// are joined, the file's first; a scalar the command line gave wins over the file's. A new
// option is a field in ConfigFile and ScanCliOptions and one line here.
static Status merge_config(ScanCliOptions& options) {
  if (options.config.empty()) return ok_status();
  DG_TRY(ConfigFile config, read_config_file(options.config));
  merge_settings(options, std::move(config.scan));
  return ok_status();
}

std::optional<ScanOptions> build_scan_options(ScanCliOptions& options) {
  if (Status merged = merge_config(options); !merged) {
    print_stderr("dumpguard: {}\n", merged.error().message);
    return std::nullopt;
  }
  const auto key = load_fingerprint_key_or_report(options.fingerprint_key.value_or(""));
  if (!key) return std::nullopt;
  ScanOptions scan_options;
  const std::vector<std::string> known = detector_names();
  for (const std::string& name : options.detectors) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      print_stderr("dumpguard: unknown detector \"{}\" in --detectors (known: {})\n", name,
                 fmt::join(known, ", "));
      return std::nullopt;
    }
  }
  scan_options.detectors = options.detectors;
  scan_options.threads = options.threads;
  scan_options.chunk_size = options.chunk_size;
  scan_options.fingerprint_key = *key;
  scan_options.aes_tolerance = options.aes_tolerance.value_or(0);
  scan_options.exhaustive = options.exhaustive.value_or(false);
  scan_options.time_budget = options.time_budget.value_or(0);
  if (!options.hunt_trust_store.value_or(false)) scan_options.trusted_public_keys = trust_store_fingerprints();
  for (const std::string& file : options.pubkeys) {
    auto keys = load_public_key_file(file);
    if (!keys) {
      print_stderr("dumpguard: {}\n", keys.error().message);
      return std::nullopt;
    }
    scan_options.supplied_keys.insert(scan_options.supplied_keys.end(), keys->begin(), keys->end());
  }
  for (const std::string& token : options.tokens) {
    if (token.empty() || token[0] != '@') {
      scan_options.tokens.push_back(token);
      continue;
    }
    std::ifstream in(token.substr(1));
    if (!in) {
      print_stderr("dumpguard: cannot read token file {}\n", token.substr(1));
      return std::nullopt;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) scan_options.tokens.push_back(line);
    }
  }
  for (const std::string& file : options.baselines) {
    auto accepted = read_baseline_file(file);
    if (!accepted) {
      print_stderr("dumpguard: {}\n", accepted.error().message);
      return std::nullopt;
    }
    scan_options.baseline.insert(accepted->begin(), accepted->end());
  }
  for (const std::string& file : options.fingerprints) {
    auto secrets = read_fingerprint_file(file, *key);
    if (!secrets) {
      print_stderr("dumpguard: {}\n", secrets.error().message);
      return std::nullopt;
    }
    scan_options.registered_secrets.insert(scan_options.registered_secrets.end(), secrets->begin(), secrets->end());
  }
  for (const std::string& dir : options.keyrings) {
    auto keys = load_keyring(dir);
    if (!keys) {
      print_stderr("dumpguard: {}\n", keys.error().message);
      return std::nullopt;
    }
    scan_options.supplied_keys.insert(scan_options.supplied_keys.end(), keys->begin(), keys->end());
  }
  if (!options.rules.empty() || options.rules_only) {
    // Compiled once for every dump of the run.
    auto rules = TextRules::from_files(options.rules, options.rules_only);
    if (!rules) {
      print_stderr("dumpguard: {}\n", rules.error().message);
      return std::nullopt;
    }
    scan_options.text_rules = std::move(*rules);
  }
  return scan_options;
}

}  // namespace dumpguard::cli
