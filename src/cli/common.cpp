// What every subcommand shares: input options, one-line errors and warnings, the fingerprint key.
#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "crypto/fingerprint_key.hpp"
#include "report/display_text.hpp"

namespace dumpguard::cli {

OpenOptions to_open_options(const InputOptions& in) {
  OpenOptions o;
  if (in.raw) o.forced_format = Format::raw;
  o.tmpdir = in.tmpdir;
  o.max_decompressed = in.max_decompressed;
  return o;
}

TextStyle text_style(const std::string& color) {
  if (color == "always") return TextStyle{true};
  if (color == "never") return TextStyle{false};
  const char* no_color = std::getenv("NO_COLOR");
  return TextStyle{isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0')};
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void print_error(const std::string& file, const Error& error) {
  print_stderr("dumpguard: {}: {}\n", display_text(file), display_text(describe(error)));
}

void print_warnings(const Dump& dump) {
  for (const Warning& w : dump.model.warnings) {
    print_stderr("dumpguard: {}: warning: offset {:#x}: {}\n", display_text(dump.source.path), w.file_offset,
               display_text(w.message));
  }
}

std::optional<std::vector<std::uint8_t>> load_fingerprint_key_or_report(const std::string& option) {
  const std::string path = option.empty() ? default_fingerprint_key_path() : option;
  auto key = load_or_create_fingerprint_key(path);
  if (!key) {
    print_stderr("dumpguard: {}\n", key.error().message);
    return std::nullopt;
  }
  return std::move(*key);
}

}  // namespace dumpguard::cli
