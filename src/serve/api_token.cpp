#include "serve/api_token.hpp"

#include <openssl/crypto.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <fmt/format.h>
#include <memory>

#include "crypto/digest.hpp"
#include "io/whole_file.hpp"

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

namespace {
const UserEntry* find_by_hash(const std::vector<UserEntry>& users, std::string_view hash, Credential kind) {
  const UserEntry* found = nullptr;
  for (const auto& user : users) {
    // Every stored hash is 64 hex digits (parse_users_file checks), the length of `hash`.
    const bool same = user.sha256.size() == hash.size() &&
                      CRYPTO_memcmp(user.sha256.data(), hash.data(), hash.size()) == 0;
    if (same && user.credential == kind && found == nullptr) found = &user;
  }
  return found;
}
}  // namespace

const UserEntry* find_token_user(const std::vector<UserEntry>& users, std::string_view token) {
  // The form is public (prefix and length), so refusing other shapes early tells nothing.
  if (token.size() != kTokenSize || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return nullptr;
  return find_by_hash(users, api_token_hash(token), Credential::token);
}

const UserEntry* find_certificate_user(const std::vector<UserEntry>& users, std::string_view cert_sha256) {
  if (cert_sha256.size() != 64) return nullptr;
  return find_by_hash(users, cert_sha256, Credential::certificate);
}

Result<std::string> certificate_file_sha256(const std::string& path) {
  std::string text(256u << 10, '\0');
  DG_TRY(const std::size_t got, read_file_into(path, text));
  if (got == text.size()) return Error{Errc::limit, 0, fmt::format("{}: larger than 256 KiB; not a certificate", path)};
  text.resize(got);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    cert = d2i_X509(nullptr, &p, static_cast<long>(text.size()));
  }
  if (cert == nullptr) return Error{Errc::bad_value, 0, fmt::format("{}: not a certificate (PEM or DER)", path)};
  std::unique_ptr<X509, decltype(&X509_free)> owned(cert, &X509_free);
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  if (n <= 0) return Error{Errc::bad_value, 0, fmt::format("{}: the certificate cannot be encoded", path)};
  const std::string digest = hex(sha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(n))));
  OPENSSL_free(der);
  return digest;
}

}  // namespace dumpguard
