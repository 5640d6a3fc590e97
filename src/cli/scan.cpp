// `dumpguard scan`: find key material in each dump; exit 0 none, 1 findings, 2 error.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "crypto/secret_fingerprint.hpp"
#include "hints/config_file.hpp"
#include "hints/baseline_file.hpp"
#include "hints/fingerprint_file.hpp"
#include "crypto/trust_store.hpp"
#include "hints/public_key_files.hpp"
#include "dumpguard/scan.hpp"
#include "report/scan_json.hpp"
#include "report/scan_sarif.hpp"
#include "report/scan_text.hpp"
#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard::cli {

namespace {
Severity parse_severity(const std::string& s) {
  if (s == "low") return Severity::low;
  if (s == "high") return Severity::high;
  if (s == "critical") return Severity::critical;
  return Severity::medium;
}

// The config file's options joined with the command line's (README, "The config file"): lists
// are joined, the file's first; a scalar the command line gave wins over the file's. A new
// option is a field in ScanConfig and ScanCliOptions and one line here.
Status merge_config(ScanCliOptions& options) {
  if (options.config.empty()) return ok_status();
  DG_TRY(ScanConfig config, read_config_file(options.config));
  const auto scalar = [](auto& given, auto& from_file) {
    if (!given) given = std::move(from_file);
  };
  const auto list = [](std::vector<std::string>& given, std::vector<std::string>& from_file) {
    // Appended to the file's list, not inserted at begin(): GCC 12 -O3 warns falsely there.
    from_file.insert(from_file.end(), given.begin(), given.end());
    given = std::move(from_file);
  };
  scalar(options.fail_on, config.fail_on);
  scalar(options.fingerprint_key, config.fingerprint_key);
  scalar(options.aes_tolerance, config.aes_tolerance);
  scalar(options.hunt_trust_store, config.hunt_trust_store);
  scalar(options.exhaustive, config.exhaustive);
  scalar(options.time_budget, config.time_budget);
  list(options.pubkeys, config.pubkeys);
  list(options.keyrings, config.keyrings);
  list(options.tokens, config.tokens);
  list(options.fingerprints, config.fingerprints);
  list(options.baselines, config.baselines);
  return ok_status();
}
}  // namespace

int run_scan(const ScanCliOptions& given) {
  ScanCliOptions options = given;
  if (Status merged = merge_config(options); !merged) {
    fmt::print(stderr, "dumpguard: {}\n", merged.error().message);
    return kExitError;
  }
  const auto key = load_fingerprint_key_or_report(options.fingerprint_key.value_or(""));
  if (!key) return kExitError;
  ScanOptions scan_options;
  scan_options.fingerprint_key = *key;
  scan_options.aes_tolerance = options.aes_tolerance.value_or(0);
  scan_options.exhaustive = options.exhaustive.value_or(false);
  scan_options.time_budget = options.time_budget.value_or(0);
  if (!options.hunt_trust_store.value_or(false)) scan_options.trusted_public_keys = trust_store_fingerprints();
  for (const std::string& file : options.pubkeys) {
    auto keys = load_public_key_file(file);
    if (!keys) {
      fmt::print(stderr, "dumpguard: {}\n", keys.error().message);
      return kExitError;
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
      fmt::print(stderr, "dumpguard: cannot read token file {}\n", token.substr(1));
      return kExitError;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) scan_options.tokens.push_back(line);
    }
  }
  for (const std::string& file : options.baselines) {
    auto accepted = read_baseline_file(file);
    if (!accepted) {
      fmt::print(stderr, "dumpguard: {}\n", accepted.error().message);
      return kExitError;
    }
    scan_options.baseline.insert(accepted->begin(), accepted->end());
  }
  for (const std::string& file : options.fingerprints) {
    auto secrets = read_fingerprint_file(file, *key);
    if (!secrets) {
      fmt::print(stderr, "dumpguard: {}\n", secrets.error().message);
      return kExitError;
    }
    scan_options.registered_secrets.insert(scan_options.registered_secrets.end(), secrets->begin(), secrets->end());
  }
  for (const std::string& dir : options.keyrings) {
    auto keys = load_keyring(dir);
    if (!keys) {
      fmt::print(stderr, "dumpguard: {}\n", keys.error().message);
      return kExitError;
    }
    scan_options.supplied_keys.insert(scan_options.supplied_keys.end(), keys->begin(), keys->end());
  }
  if (!options.rules.empty() || options.rules_only) {
    // Compiled once for every dump of the run.
    auto rules = rules::load_rules(options.rules, options.rules_only);
    auto engine = rules ? rules::RuleEngine::compile(std::move(*rules)) : rules.error();
    if (!engine) {
      fmt::print(stderr, "dumpguard: {}\n", engine.error().message);
      return kExitError;
    }
    scan_options.text_rules = *engine;
  }
  const Severity fail_on = parse_severity(options.fail_on.value_or("medium"));

  const OpenOptions open = to_open_options(options.input);
  bool error = false, failing = false;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& path : options.input.dumps) {
    Result<Dump> dump = open_dump(path, open);
    if (!dump) {
      print_error(path, dump.error());
      error = true;
      continue;
    }
    print_warnings(*dump);
    const ScanReport report = scan_dump(*dump, scan_options);
    for (const Finding& f : report.findings) failing = failing || f.severity >= fail_on;
    if (options.sarif) {
      all.push_back(sarif_run(*dump, report));
    } else if (options.json) {
      all.push_back(scan_json(*dump, report, fail_on));
    } else {
      std::fputs(scan_text(*dump, report).c_str(), stdout);
    }
  }
  if (options.sarif) {
    std::cout << sarif_log(std::move(all)).dump(2) << '\n';  // one log, one run per dump
  } else if (options.json && !all.empty()) {
    std::cout << (options.input.dumps.size() == 1 ? all[0] : all).dump(2) << '\n';
  }
  if (error) return kExitError;
  return failing ? kExitFindings : kExitOk;
}

}  // namespace dumpguard::cli
