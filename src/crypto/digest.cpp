#include "crypto/digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace dumpguard {

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string hex(std::span<const std::uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

std::string keyed_fingerprint(std::span<const std::uint8_t> fingerprint_key, std::span<const std::uint8_t> secret) {
  std::array<std::uint8_t, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), fingerprint_key.data(), static_cast<int>(fingerprint_key.size()), secret.data(), secret.size(),
       mac.data(), &len);
  return "hmac-sha256:" + hex(mac);
}

struct Sha256Stream::Context {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Context>()) { EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr); }
Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::update(std::span<const std::byte> data) { EVP_DigestUpdate(ctx_->md, data.data(), data.size()); }

std::string Sha256Stream::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &n);
  return hex(std::span<const std::uint8_t>(out, n));
}

}  // namespace dumpguard
