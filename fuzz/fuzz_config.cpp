// libFuzzer target for config files (`scan --config`). The input is the file's text, named
// "fuzz/config.toml". Beyond "no crash": an error is one printable ASCII line that starts with
// the file's name; a config that parses holds only what the scan options allow, with every
// relative path anchored at "fuzz/".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "user_files/config_file.hpp"

namespace {

const std::string kPath = "fuzz/config.toml";

void check_path(std::string_view p) {
  if (p.empty() || p.find('\0') != std::string_view::npos) __builtin_trap();
  if (p.front() != '/' && !p.starts_with("fuzz/")) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = dumpguard::parse_config(text, kPath);
  if (!config) {
    const std::string& m = config.error().message;
    if (!m.starts_with(kPath + ":")) __builtin_trap();
    for (char c : m) {
      if (c < 0x20 || c > 0x7e) __builtin_trap();  // one line, and no byte of the input beyond ASCII
    }
    return 0;
  }
  if (config->scan.fingerprint_key) check_path(*config->scan.fingerprint_key);
  for (const auto* list : {&config->scan.pubkeys, &config->scan.keyrings, &config->scan.fingerprints}) {
    for (const std::string& p : *list) check_path(p);
  }
  for (const std::string& t : config->scan.tokens) {
    if (t.empty()) __builtin_trap();
    if (t.front() == '@') check_path(std::string_view(t).substr(1));
  }
  if (config->scan.aes_tolerance && *config->scan.aes_tolerance > 64) __builtin_trap();
  if (config->scan.fail_on && *config->scan.fail_on != "low" && *config->scan.fail_on != "medium" && *config->scan.fail_on != "high" &&
      *config->scan.fail_on != "critical") {
    __builtin_trap();
  }
  return 0;
}
