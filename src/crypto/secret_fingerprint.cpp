#include "crypto/secret_fingerprint.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/format.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"

namespace dumpguard {

namespace {
using Bytes = std::vector<std::uint8_t>;

// HMAC-SHA256(key, label || data). The labels keep the rolling base, the masks, the key check
// and the confirming MACs apart, so no stored value can stand in for another.
std::array<std::uint8_t, 32> mac(std::span<const std::uint8_t> key, std::string_view label,
                                 std::span<const std::uint8_t> data) {
  Bytes message(label.begin(), label.end());
  message.push_back(0);
  message.insert(message.end(), data.begin(), data.end());
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), out.data(), &len);
  OPENSSL_cleanse(message.data(), message.size());
  return out;
}

std::uint64_t first_u64(const std::array<std::uint8_t, 32>& m) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{m[static_cast<std::size_t>(i)]} << (8 * i);
  return v;
}

Bytes text_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes utf16le(std::span<const std::uint8_t> ascii) {
  Bytes wide;
  wide.reserve(ascii.size() * 2);
  for (std::uint8_t c : ascii) {
    wide.push_back(c);
    wide.push_back(0);
  }
  return wide;
}


bool printable(std::span<const std::uint8_t> s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; });
}
}  // namespace

RollingHash::RollingHash(std::span<const std::uint8_t> fingerprint_key, std::size_t window) {
  base_ = first_u64(mac(fingerprint_key, "dumpguard rolling base", {})) | 1;  // odd: invertible mod 2^64
  top_ = 1;
  for (std::size_t i = 1; i < window; ++i) top_ *= base_;
}

std::uint64_t RollingHash::of(std::span<const std::uint8_t> window) const {
  std::uint64_t h = 0;
  for (std::uint8_t b : window) h = h * base_ + b;
  return h;
}

std::uint64_t form_mask(std::span<const std::uint8_t> fingerprint_key, const std::string& salt_hex) {
  return first_u64(mac(fingerprint_key, "dumpguard prefilter mask", text_of(salt_hex)));
}

std::string form_hmac(std::span<const std::uint8_t> fingerprint_key, std::span<const std::uint8_t> form) {
  return hex(mac(fingerprint_key, "dumpguard registered secret", form));
}

std::string fingerprint_key_check(std::span<const std::uint8_t> fingerprint_key) {
  return hex(mac(fingerprint_key, "dumpguard key check", {})).substr(0, 16);
}

RegisteredSecret fingerprint_secret(std::span<const std::uint8_t> fingerprint_key, const std::string& name,
                                    std::span<const std::uint8_t> secret) {
  RegisteredSecret r;
  r.name = name;
  r.id = keyed_fingerprint(fingerprint_key, secret);
  std::vector<std::pair<std::string, Bytes>> forms;
  forms.emplace_back("raw", Bytes(secret.begin(), secret.end()));
  std::string upper = hex(secret);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  forms.emplace_back("hex", text_of(hex(secret)));
  forms.emplace_back("HEX", text_of(upper));
  forms.emplace_back("base64", text_of(base64_encode(secret, false)));
  const std::string url = base64_encode(secret, true);
  if (url != base64_encode(secret, false)) forms.emplace_back("base64url", text_of(url));
  // Every text form is looked for in UTF-16LE too; the raw form when the secret is text.
  const std::size_t narrow = forms.size();
  for (std::size_t i = 0; i < narrow; ++i) {
    if (i == 0 && !printable(secret)) continue;
    forms.emplace_back(forms[i].first + "/utf16le", utf16le(forms[i].second));
  }
  for (auto& [encoding, bytes] : forms) {
    SecretForm f;
    f.encoding = encoding;
    f.length = bytes.size();
    std::array<std::uint8_t, 16> salt{};
    RAND_bytes(salt.data(), static_cast<int>(salt.size()));
    f.salt = hex(salt);
    const std::size_t window = std::min(bytes.size(), kAnchorLength);
    const std::uint64_t h = RollingHash(fingerprint_key, window).of({bytes.data(), window});
    f.prefilter = h ^ form_mask(fingerprint_key, f.salt);
    f.hmac = form_hmac(fingerprint_key, bytes);
    r.forms.push_back(std::move(f));
  }
  for (auto& form : forms) OPENSSL_cleanse(form.second.data(), form.second.size());
  return r;
}

}  // namespace dumpguard
