// `dumpguard scan`: find key material in each dump; exit 0 none, 1 findings, 2 error.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "crypto/fingerprint_key.hpp"
#include "crypto/secret_fingerprint.hpp"
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
}  // namespace

int run_scan(const ScanCliOptions& options) {
  const std::string key_path =
      options.fingerprint_key.empty() ? default_fingerprint_key_path() : options.fingerprint_key;
  auto key = load_or_create_fingerprint_key(key_path);
  if (!key) {
    fmt::print(stderr, "dumpguard: {}\n", key.error().message);
    return kExitError;
  }
  ScanOptions scan_options;
  scan_options.fingerprint_key = *key;
  scan_options.aes_tolerance = options.aes_tolerance;
  scan_options.exhaustive = options.exhaustive;
  if (!options.hunt_trust_store) scan_options.trusted_public_keys = trust_store_fingerprints();
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
  const Severity fail_on = parse_severity(options.fail_on);

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
