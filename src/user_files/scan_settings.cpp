#include "user_files/scan_settings.hpp"

#include <array>
#include <utility>

namespace dumpguard {

namespace {

using S = ScanSettings;

const std::array<ScanSetting, 11> kSettings = {{
    {"fingerprint-key", SettingKind::path,
     "32-byte key file for keyed fingerprints (made with mode 0600 on first use; default "
     "$XDG_CONFIG_HOME/dumpguard/fingerprint.key)",
     &S::fingerprint_key},
    {"pubkey", SettingKind::files,
     "A public key to answer for (PEM/DER key or certificate, PEM bundle, OpenSSH .pub or authorized_keys, "
     "JWK/JWKS); repeatable. Each is reported present or absent",
     &S::pubkeys},
    {"keyring", SettingKind::dirs, "A directory of such public key files; repeatable", &S::keyrings},
    {"token", SettingKind::tokens,
     "An HS256/384/512 JWT whose HMAC key must be found if present (TEXT, or @FILE with one token a line); "
     "repeatable. JWTs found in the dump are used too",
     &S::tokens},
    {"fingerprints", SettingKind::files,
     "Fingerprints of registered secrets, made by `dumpguard fingerprint` with the same --fingerprint-key; each is "
     "reported present or absent; repeatable",
     &S::fingerprints},
    {"baseline", SettingKind::files,
     "An earlier `scan --json` report whose keys were reviewed and accepted: their findings are left out and "
     "counted (as gitleaks' baseline); repeatable",
     &S::baselines},
    {"fail-on", SettingKind::severity, "Exit 1 when a finding is at or above this severity", &S::fail_on, false},
    {"aes-tolerance", SettingKind::bit_errors, "Bit errors allowed in an AES key schedule (default 0: exact schedules only)",
     &S::aes_tolerance},
    {"hunt-trust-store", SettingKind::flag,
     "Also hunt the private halves of keys in the system trust store (skipped by default; --hunt-trust-store=false "
     "overrides a config file)",
     &S::hunt_trust_store},
    {"exhaustive", SettingKind::flag,
     "Test every byte offset (big-endian) and every 4-byte-aligned address (limbs) for factors of each RSA modulus, "
     "with no structure prior or prefilter; slow: minutes per GiB and modulus",
     &S::exhaustive},
    {"time-budget", SettingKind::seconds,
     "Seconds the hunts may take in all; a hunt cut short says where it stopped, and no key it covers is then "
     "reported absent (default: no budget)",
     &S::time_budget},
}};

}  // namespace

std::span<const ScanSetting> scan_settings() { return kSettings; }

std::string scan_setting_names() {
  std::string out;
  for (const ScanSetting& s : kSettings) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

void merge_settings(ScanSettings& given, ScanSettings from_file) {
  for (const ScanSetting& s : kSettings) {
    std::visit(
        [&](auto member) {
          auto& mine = given.*member;
          auto& theirs = from_file.*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(mine)>, std::vector<std::string>>) {
            // Appended to the file's list, not inserted at begin(): GCC 12 -O3 warns falsely there.
            theirs.insert(theirs.end(), mine.begin(), mine.end());
            mine = std::move(theirs);
          } else {
            if (!mine) mine = std::move(theirs);
          }
        },
        s.field);
  }
}

}  // namespace dumpguard
