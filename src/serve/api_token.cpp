#include "serve/api_token.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "crypto/digest.hpp"

namespace dumpguard {

Result<std::string> generate_api_token() {
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Error{Errc::io, 0, "the system's random source failed; no token was made"};
  }
  std::string token = std::string(kTokenPrefix) + hex(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

std::string api_token_hash(std::string_view token) {
  return hex(sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(token.data()), token.size())));
}

const UserEntry* find_token_user(const std::vector<UserEntry>& users, std::string_view token) {
  // The form is public (prefix and length), so refusing other shapes early tells nothing.
  if (token.size() != kTokenSize || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return nullptr;
  const std::string presented = api_token_hash(token);
  const UserEntry* found = nullptr;
  for (const auto& user : users) {
    // Every stored hash is 64 hex digits (parse_users_file checks), the length of `presented`.
    const bool same = user.token_sha256.size() == presented.size() &&
                      CRYPTO_memcmp(user.token_sha256.data(), presented.data(), presented.size()) == 0;
    if (same && found == nullptr) found = &user;
  }
  return found;
}

}  // namespace dumpguard
