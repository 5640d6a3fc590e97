#include "crypto/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "crypto/base64.hpp"

namespace dumpguard {

namespace {
bool base64url_char(char c) { return base64_digit(c, true) >= 0; }

// RFC 7515 2: base64url with no padding; any other character makes it not a token part.
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view s) {
  std::vector<std::uint8_t> out;
  if (base64_append(s, true, {}, out) != s.size()) return std::nullopt;
  return out;
}

const EVP_MD* digest_of(const std::string& alg) {
  if (alg == "HS256") return EVP_sha256();
  if (alg == "HS384") return EVP_sha384();
  if (alg == "HS512") return EVP_sha512();
  return nullptr;
}
}  // namespace

struct MacVerifier::State {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
};

MacVerifier::MacVerifier() : state_(new State) {
  state_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (state_->mac != nullptr) state_->ctx = EVP_MAC_CTX_new(state_->mac);
}

MacVerifier::~MacVerifier() {
  EVP_MAC_CTX_free(state_->ctx);
  EVP_MAC_free(state_->mac);
  delete state_;
}

bool MacVerifier::verifies(const MacToken& token, std::span<const std::uint8_t> key) {
  if (state_->ctx == nullptr) return dumpguard::verifies(token, key);
  const char* digest = token.alg == "HS256" ? "SHA256" : token.alg == "HS384" ? "SHA384" : token.alg == "HS512" ? "SHA512" : nullptr;
  if (digest == nullptr) return false;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(digest), 0),
                               OSSL_PARAM_construct_end()};
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (EVP_MAC_init(state_->ctx, key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(state_->ctx, reinterpret_cast<const unsigned char*>(token.signing_input.data()),
                     token.signing_input.size()) != 1 ||
      EVP_MAC_final(state_->ctx, out, &len, sizeof out) != 1) {
    return false;
  }
  return len == token.signature.size() && CRYPTO_memcmp(out, token.signature.data(), len) == 0;
}

std::optional<MacToken> parse_hmac_jwt(std::string_view text, std::size_t& length) {
  // Three base64url parts joined by dots; a token is at most a few KiB.
  constexpr std::size_t kMaxToken = kMaxJwt;
  std::size_t dots[2] = {0, 0};
  std::size_t n_dots = 0, i = 0;
  for (; i < text.size() && i < kMaxToken; ++i) {
    if (text[i] == '.') {
      if (n_dots == 2) break;
      dots[n_dots++] = i;
    } else if (!base64url_char(text[i])) {
      break;
    }
  }
  if (n_dots != 2 || dots[0] < 4 || dots[1] == dots[0] + 1 || i == dots[1] + 1) return std::nullopt;
  auto header = base64url_decode(text.substr(0, dots[0]));
  auto signature = base64url_decode(text.substr(dots[1] + 1, i - dots[1] - 1));
  if (!header || !signature) return std::nullopt;
  const auto json = nlohmann::json::parse(header->begin(), header->end(), nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("alg") || !json["alg"].is_string()) {
    return std::nullopt;
  }
  MacToken token;
  token.alg = json["alg"].get<std::string>();
  const EVP_MD* md = digest_of(token.alg);
  if (md == nullptr || signature->size() != static_cast<std::size_t>(EVP_MD_get_size(md))) return std::nullopt;
  token.signing_input = std::string(text.substr(0, dots[1]));
  token.signature = std::move(*signature);
  length = i;
  return token;
}

bool verifies(const MacToken& token, std::span<const std::uint8_t> key) {
  const EVP_MD* md = digest_of(token.alg);
  if (md == nullptr) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(token.signing_input.data()),
           token.signing_input.size(), mac, &len) == nullptr) {
    return false;
  }
  return len == token.signature.size() && std::memcmp(mac, token.signature.data(), len) == 0;
}

}  // namespace dumpguard
