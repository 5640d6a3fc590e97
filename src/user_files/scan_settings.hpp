// The scan settings a user can give both on the command line and in the config file's [scan]
// table, each defined once in scan_settings(): its name (--NAME, and NAME in [scan]), what kind
// of value it takes, its help text and the field it fills. The command line (cli/main.cpp), the
// config file's reader (config_file.cpp) and the merge of the two all walk that one table, and
// tests hold the man page and docs/config.md to it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dumpguard {

struct ScanSettings {
  std::optional<std::string> fingerprint_key;  // default (or empty): default_fingerprint_key_path()
  std::vector<std::string> pubkeys;
  std::vector<std::string> keyrings;
  std::vector<std::string> tokens;        // TEXT or @FILE
  std::vector<std::string> fingerprints;  // made by `dumpguard fingerprint`
  std::vector<std::string> baselines;     // earlier scan --json reports
  std::optional<std::string> fail_on;     // low | medium | high | critical; default medium
  std::optional<unsigned> aes_tolerance;  // default 0
  std::optional<bool> hunt_trust_store;   // default false
  std::optional<bool> exhaustive;         // default false
  std::optional<double> time_budget;      // seconds for the hunts; default none
};

// What a setting's value is. It decides how the command line checks it, how the config file
// reads it, and how a file's value and the command line's join: a scalar given on the command
// line wins over the file's, and a list is the file's followed by the command line's.
enum class SettingKind {
  path,       // a file; in the config file, relative to the config file's directory
  files,      // a list of existing files
  dirs,       // a list of existing directories
  tokens,     // a list of TEXT or @FILE
  severity,   // low | medium | high | critical
  bit_errors, // an integer from 0 to 64
  flag,       // true or false (--NAME, --NAME=false)
  seconds,    // a positive number
};

struct ScanSetting {
  std::string_view name;  // "aes-tolerance": --aes-tolerance, and aes-tolerance in [scan]
  SettingKind kind;
  std::string_view help;
  std::variant<std::optional<std::string> ScanSettings::*, std::vector<std::string> ScanSettings::*,
               std::optional<unsigned> ScanSettings::*, std::optional<bool> ScanSettings::*,
               std::optional<double> ScanSettings::*>
      field;
  bool every_command = true;  // false: only `scan` takes it on its command line (fail-on)
};

// Every setting, in the order --help lists them.
std::span<const ScanSetting> scan_settings();
// "fingerprint-key, pubkey, ...": the names, for error messages.
std::string scan_setting_names();

// The config file's settings under the command line's: `given` keeps its scalars, takes the
// file's where it has none, and its lists follow the file's.
void merge_settings(ScanSettings& given, ScanSettings from_file);

}  // namespace dumpguard
