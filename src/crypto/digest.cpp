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

}  // namespace dumpguard
