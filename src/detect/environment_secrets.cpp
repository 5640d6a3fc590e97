#include "detect/environment_secrets.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/format.h>
#include <string>

#include "crypto/digest.hpp"
#include "detect/byte_statistics.hpp"

namespace dumpguard {

namespace {

constexpr char kNotAscii = '\x7f';

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// A value that is a path, a number or a switch is configuration, not a secret.
bool plain_value(std::string_view v) {
  if (v.size() < 8) return true;
  if (v[0] == '/' || v[0] == '~' || v.substr(0, 2) == "./") return true;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  return distinct_bytes(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()) < 5;
}

class EnvironmentSecrets final : public StructureDetector {
 public:
  std::string_view name() const override { return kEnvironmentDetector; }
  void scan(const ScanContext& /*context*/, const ScanArea& /*area*/, FindingSink& /*sink*/) override {}

  // The blocks are the model's, not an area's: read once, after the areas.
  void finish(const ScanContext& context, FindingSink& sink) override {
    const auto file = context.dump.bytes();
    for (const EnvironmentBlock& block : context.dump.model.environment) {
      const bool wide = block.encoding == "utf16le";
      if ((!wide && block.encoding != "ascii") || block.file_offset > file.size() ||
          block.size > file.size() - block.file_offset) {
        continue;
      }
      const std::string text = narrow(file.subspan(block.file_offset, block.size), wide);
      const ScanArea area{block.file_offset, file.subspan(block.file_offset, block.size), region_of(context, block)};
      const std::size_t unit = wide ? 2 : 1;
      for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\0', at);
        if (end == std::string::npos) end = text.size();
        const std::string_view entry = std::string_view(text).substr(at, end - at);
        const auto eq = entry.find('=', 1);  // "=C:=C:\\" is a Windows drive variable
        if (eq != std::string_view::npos && entry[0] != '=') {
          const std::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
          if (secret_bearing_name(name) && !plain_value(value) && value.find(kNotAscii) == std::string_view::npos) {
            report(context, area, (at + eq + 1) * unit, value.size() * unit, name, value, wide, sink);
          }
        }
        at = end + 1;
      }
    }
  }

 private:
  static std::optional<std::size_t> region_of(const ScanContext& context, const EnvironmentBlock& block) {
    const auto& regions = context.dump.model.regions;
    for (std::size_t i = 0; i < regions.size(); ++i) {
      const Region& r = regions[i];
      if (block.file_offset >= r.file_offset && block.file_offset - r.file_offset < r.size) return i;
    }
    return std::nullopt;
  }

  // The block as one character per code unit; a UTF-16 unit beyond ASCII becomes kNotAscii, so
  // that the key of a value is the fingerprint of its characters, as the text rules make it.
  static std::string narrow(std::span<const std::byte> bytes, bool wide) {
    std::string out;
    if (!wide) return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    out.reserve(bytes.size() / 2);
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
      const unsigned u = std::to_integer<unsigned>(bytes[i]) | (std::to_integer<unsigned>(bytes[i + 1]) << 8);
      out.push_back(u < 0x80 ? static_cast<char>(u) : kNotAscii);
    }
    return out;
  }

  static void report(const ScanContext& context, const ScanArea& area, std::size_t at, std::size_t length,
                     std::string_view name, std::string_view value, bool wide, FindingSink& sink) {
    Finding f = finding_at(context, area, at, length, kEnvironmentDetector, "environment-secret",
                           wide ? "utf16le" : "ascii");
    f.key = keyed_fingerprint(context.fingerprint_key,
                              {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
    f.severity = Severity::medium;
    f.proof = fmt::format("the value of environment variable {}, whose name says it holds a secret: {} characters; "
                          "not checked with its issuer",
                          name, value.size());
    sink.secret(secret_of(f, KnownSecret::Shape::text, {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()}));
    sink.finding(std::move(f));
  }
};

}  // namespace

bool secret_bearing_name(std::string_view name) {
  const std::string n = upper(name);
  // Names of files, paths and sockets that hold or reach secrets are not secrets themselves.
  for (std::string_view tail : {"_FILE", "_PATH", "_DIR", "_SOCK", "_URL_FILE", "_ID"}) {
    if (ends_with(n, tail)) return false;
  }
  for (std::string_view word : {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY",
                                "API_KEY", "APIKEY", "ACCESS_KEY", "AUTH_KEY", "SIGNING_KEY", "ENCRYPTION_KEY"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return ends_with(n, "_KEY") || ends_with(n, "_PASS") || ends_with(n, "_PWD") || n == "PGPASSWORD";
}

std::unique_ptr<StructureDetector> make_environment_secrets_detector() { return std::make_unique<EnvironmentSecrets>(); }

}  // namespace dumpguard
