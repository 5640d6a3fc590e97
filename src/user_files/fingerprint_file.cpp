#include "user_files/fingerprint_file.hpp"

#include <openssl/crypto.h>


#include <charconv>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/secret_fingerprint.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {
constexpr std::string_view kFormat = "dumpguard-fingerprints/1";

bool is_text(std::span<const std::uint8_t> s) {
  for (std::uint8_t c : s) {
    if ((c < 0x20 || c >= 0x7f) && c != '\n' && c != '\r') return false;
  }
  return true;
}
}  // namespace

Result<std::vector<std::uint8_t>> read_secret_file(const std::string& path, bool keep_newline) {
  std::vector<std::uint8_t> secret(kMaxSecretLength + 2);
  const auto read = read_file_into(path, {reinterpret_cast<char*>(secret.data()), secret.size()});
  const auto refuse = [&](Error e) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return e;
  };
  if (!read) return refuse(Error{Errc::io, 0, fmt::format("cannot read secret file {}", path)});
  std::size_t got = *read;
  if (!keep_newline && is_text({secret.data(), got})) {
    if (got > 0 && secret[got - 1] == '\n') --got;
    if (got > 0 && secret[got - 1] == '\r') --got;
  }
  if (got < kMinSecretLength || got > kMaxSecretLength) {
    return refuse(Error{Errc::bad_value, 0, fmt::format("{}: a registered secret must be {} to {} bytes long", path,
                                                        kMinSecretLength, kMaxSecretLength)});
  }
  OPENSSL_cleanse(secret.data() + got, secret.size() - got);
  secret.resize(got);  // shrinking keeps the buffer: no copy is left behind
  return secret;
}

std::string write_fingerprint_file(std::span<const std::uint8_t> fingerprint_key,
                                   const std::vector<RegisteredSecret>& secrets) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["key_check"] = fingerprint_key_check(fingerprint_key);
  auto& list = j["secrets"] = nlohmann::ordered_json::array();
  for (const RegisteredSecret& s : secrets) {
    auto forms = nlohmann::ordered_json::array();
    for (const SecretForm& f : s.forms) {
      forms.push_back({{"encoding", f.encoding},
                       {"length", f.length},
                       {"salt", f.salt},
                       {"prefilter", fmt::format("{:016x}", f.prefilter)},
                       {"hmac", f.hmac}});
    }
    list.push_back({{"name", s.name}, {"id", s.id}, {"forms", std::move(forms)}});
  }
  return j.dump(2) + "\n";
}

Result<std::vector<RegisteredSecret>> read_fingerprint_file(const std::string& path,
                                                            std::span<const std::uint8_t> fingerprint_key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::io, 0, fmt::format("cannot read fingerprint file {}", path)};
  constexpr std::size_t kMaxFile = 64 << 20;
  std::string text;
  text.resize(kMaxFile + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxFile) return Error{Errc::limit, 0, fmt::format("{}: fingerprint file larger than 64 MiB", path)};
  return parse_fingerprint_file(text, path, fingerprint_key);
}

Result<std::vector<RegisteredSecret>> parse_fingerprint_file(std::string_view text, const std::string& path,
                                                             std::span<const std::uint8_t> fingerprint_key) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [&](std::string_view what) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not a dumpguard fingerprint file: {}", path, what)};
  };
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (!j.contains("format") || j["format"] != kFormat) return bad(fmt::format("no \"format\": \"{}\"", kFormat));
  if (!j.contains("secrets") || !j["secrets"].is_array()) return bad("no \"secrets\" array");
  const std::string check = j.contains("key_check") && j["key_check"].is_string() ? j["key_check"].get<std::string>() : "";
  if (check != fingerprint_key_check(fingerprint_key)) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} was made with another fingerprint key (key check {}, this key's {}); its secrets "
                             "could not be found, so nothing is scanned. Use the same --fingerprint-key",
                             path, check.empty() ? "missing" : check, fingerprint_key_check(fingerprint_key))};
  }
  std::vector<RegisteredSecret> out;
  for (const auto& s : j["secrets"]) {
    if (!s.is_object() || !s.contains("forms") || !s["forms"].is_array() || !s.contains("id") || !s["id"].is_string())
      return bad("a secret without an id or forms");
    RegisteredSecret r;
    r.name = s.contains("name") && s["name"].is_string() ? s["name"].get<std::string>() : "";
    r.id = s["id"].get<std::string>();
    for (const auto& f : s["forms"]) {
      if (!f.is_object() || !f.contains("length") || !f["length"].is_number_unsigned()) return bad("a form without a length");
      SecretForm form;
      form.encoding = f.contains("encoding") && f["encoding"].is_string() ? f["encoding"].get<std::string>() : "";
      form.length = f["length"].get<std::size_t>();
      form.salt = f.contains("salt") && f["salt"].is_string() ? f["salt"].get<std::string>() : "";
      form.hmac = f.contains("hmac") && f["hmac"].is_string() ? f["hmac"].get<std::string>() : "";
      const std::string prefilter =
          f.contains("prefilter") && f["prefilter"].is_string() ? f["prefilter"].get<std::string>() : "";
      const auto parsed = std::from_chars(prefilter.data(), prefilter.data() + prefilter.size(), form.prefilter, 16);
      if (parsed.ec != std::errc{} || parsed.ptr != prefilter.data() + prefilter.size() || form.salt.empty() ||
          form.hmac.size() != 64) {
        return bad(fmt::format("form \"{}\" of {} has no valid salt, prefilter or hmac", form.encoding, r.name));
      }
      if (form.length < kMinSecretLength || form.length > 8 * kMaxSecretLength) {
        return bad(fmt::format("form \"{}\" of {} has length {}", form.encoding, r.name, form.length));
      }
      r.forms.push_back(std::move(form));
    }
    if (r.forms.empty()) return bad(fmt::format("secret {} has no forms", r.name));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace dumpguard
