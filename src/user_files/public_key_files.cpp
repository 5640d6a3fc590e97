#include "user_files/public_key_files.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <sstream>
#include <string_view>

#include "crypto/base64.hpp"
#include "crypto/openssh_key.hpp"
#include "crypto/public_key_der.hpp"
#include "crypto/spki.hpp"

namespace dumpguard {

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::uintmax_t kMaxFile = 16u << 20;  // a JWKS or bundle is kilobytes

// Key files wrap their base64 and pad it: newlines, spaces and '=' are passed over.
std::optional<Bytes> base64_decode(std::string_view text, bool url) {
  Bytes out;
  if (base64_append(text, url, "=\n\r ", out) != text.size()) return std::nullopt;
  return out;
}

SuppliedKey supplied(const PublicKey& key, const std::string& source, std::string kid = {}) {
  return SuppliedKey{source, spki_der(key), std::move(kid)};
}

// PEM blocks: PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE (any number, as in a bundle).
void from_pem(const std::string& text, const std::string& source, std::vector<SuppliedKey>& out) {
  std::size_t pos = 0;
  while ((pos = text.find("-----BEGIN ", pos)) != std::string::npos) {
    const std::size_t label_end = text.find("-----", pos + 11);
    if (label_end == std::string::npos) break;
    const std::string label = text.substr(pos + 11, label_end - pos - 11);
    const std::string end_line = "-----END " + label + "-----";
    const std::size_t end = text.find(end_line, label_end);
    if (end == std::string::npos) break;
    std::string body = text.substr(label_end + 5, end - label_end - 5);
    pos = end + end_line.size();
    auto der = base64_decode(body, false);
    if (!der) continue;
    std::optional<ParsedPublic> parsed;
    if (label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE") parsed = parse_certificate_der(*der);
    if (label == "PUBLIC KEY") parsed = parse_spki_der(*der);
    if (label == "RSA PUBLIC KEY") parsed = parse_rsa_public_der(*der);
    if (parsed) out.push_back(supplied(parsed->key, source));
  }
}

// OpenSSH public keys: "[options] type base64 [comment]" per line (.pub, authorized_keys).
void from_openssh(const std::string& text, const std::string& source, std::vector<SuppliedKey>& out) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word.size() < 16) continue;
      auto blob = base64_decode(word, false);
      if (!blob) continue;
      if (auto key = parse_ssh_public_blob(*blob)) {
        out.push_back(supplied(key->key, source));
        break;
      }
    }
  }
}

std::optional<PublicKey> from_jwk(const nlohmann::json& jwk) {
  auto member = [&](const char* name) -> std::optional<Bytes> {
    if (!jwk.contains(name) || !jwk[name].is_string()) return std::nullopt;
    return base64_decode(jwk[name].get<std::string>(), true);
  };
  const std::string kty = jwk.value("kty", "");
  const std::string crv = jwk.value("crv", "");
  PublicKey key;
  if (kty == "RSA") {
    auto n = member("n"), e = member("e");
    if (!n || !e) return std::nullopt;
    key.type = KeyType::rsa;
    key.n = *n;
    key.e = *e;
    while (key.n.size() > 1 && key.n.front() == 0) key.n.erase(key.n.begin());
  } else if (kty == "EC") {
    auto x = member("x"), y = member("y");
    const int nid = crv == "P-256" ? NID_X9_62_prime256v1 : crv == "P-384" ? NID_secp384r1
                  : crv == "P-521" ? NID_secp521r1 : crv == "secp256k1" ? NID_secp256k1 : 0;
    if (!x || !y || nid == 0) return std::nullopt;
    key.type = KeyType::ec;
    key.curve_nid = nid;
    key.point = {0x04};
    key.point.insert(key.point.end(), x->begin(), x->end());
    key.point.insert(key.point.end(), y->begin(), y->end());
  } else if (kty == "OKP" && (crv == "Ed25519" || crv == "X25519")) {
    auto x = member("x");
    if (!x || x->size() != 32) return std::nullopt;
    key.type = crv == "Ed25519" ? KeyType::ed25519 : KeyType::x25519;
    key.point = *x;
  } else {
    return std::nullopt;
  }
  fingerprint(key);
  return key;
}

void from_json(const std::string& text, const std::string& source, std::vector<SuppliedKey>& out) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return;
  std::vector<nlohmann::json> jwks;
  if (doc.contains("keys") && doc["keys"].is_array()) {
    for (const auto& k : doc["keys"]) jwks.push_back(k);
  } else {
    jwks.push_back(doc);
  }
  for (const auto& jwk : jwks) {
    if (!jwk.is_object()) continue;
    if (auto key = from_jwk(jwk)) out.push_back(supplied(*key, source, jwk.value("kid", "")));
  }
}

}  // namespace

Result<std::vector<SuppliedKey>> load_public_key_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{Errc::io, 0, fmt::format("public key file {}: {}", path, ec.message())};
  if (size > kMaxFile) return Error{Errc::limit, 0, fmt::format("public key file {} is over 16 MiB", path)};
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<SuppliedKey> out;
  from_pem(text, path, out);
  if (out.empty()) from_json(text, path, out);
  if (out.empty()) from_openssh(text, path, out);
  if (out.empty()) {  // DER: a certificate or a SubjectPublicKeyInfo
    const std::span<const std::uint8_t> der(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    auto parsed = parse_certificate_der(der);
    if (!parsed) parsed = parse_spki_der(der);
    if (parsed) out.push_back(supplied(parsed->key, path));
  }
  if (out.empty()) {
    return Error{Errc::unknown_format, 0,
                 fmt::format("public key file {}: no PEM, DER, OpenSSH or JWK public key found", path)};
  }
  return out;
}

Result<std::vector<SuppliedKey>> load_keyring(const std::string& directory) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  if (ec) return Error{Errc::io, 0, fmt::format("keyring {}: {}", directory, ec.message())};
  std::sort(files.begin(), files.end());
  std::vector<SuppliedKey> out;
  for (const std::string& f : files) {
    DG_TRY(auto keys, load_public_key_file(f));
    out.insert(out.end(), keys.begin(), keys.end());
  }
  return out;
}

}  // namespace dumpguard
