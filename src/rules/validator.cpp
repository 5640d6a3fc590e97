#include "rules/validator.hpp"

#include <array>
#include <cstdint>

namespace dumpguard::rules {

namespace {

constexpr std::array<std::uint32_t, 256> crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// CRC-32 as zlib computes it (reflected, polynomial 0x04C11DB7, initial and final XOR ~0).
std::uint32_t crc32(std::string_view text) {
  static constexpr std::array<std::uint32_t, 256> kTable = crc32_table();
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : text) c = kTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool base62_crc32(std::string_view secret) {
  constexpr std::size_t kRandom = 30, kDigits = 6;
  const std::size_t underscore = secret.find('_');
  if (underscore == std::string_view::npos) return false;
  const std::string_view body = secret.substr(underscore + 1);
  if (body.size() != kRandom + kDigits) return false;
  std::uint32_t n = crc32(body.substr(0, kRandom));
  // 62^6 > 2^32, so six digits hold every CRC32.
  std::array<char, kDigits> digits{};
  for (std::size_t i = kDigits; i-- > 0;) {
    digits[i] = kBase62[n % 62];
    n /= 62;
  }
  return body.substr(kRandom) == std::string_view(digits.data(), digits.size());
}

}  // namespace

std::optional<Validator> validator_named(std::string_view name) {
  if (name == "base62-crc32") return Validator::base62_crc32;
  return std::nullopt;
}

const char* to_string(Validator validator) {
  switch (validator) {
    case Validator::base62_crc32: return "base62-crc32";
    case Validator::none: break;
  }
  return "none";
}

const char* proof_words(Validator validator) {
  switch (validator) {
    case Validator::base62_crc32: return "its CRC32 checksum (the last 6 base62 characters) holds";
    case Validator::none: break;
  }
  return "";
}

bool check(Validator validator, std::string_view secret) {
  switch (validator) {
    case Validator::base62_crc32: return base62_crc32(secret);
    case Validator::none: break;
  }
  return false;
}

}  // namespace dumpguard::rules
