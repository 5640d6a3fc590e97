// Bytes that hold a secret only while it is checked (a decoded key body), wiped when they go.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace dumpguard {

struct WipedBytes {
  WipedBytes() = default;
  explicit WipedBytes(std::span<const std::uint8_t> from) : bytes(from.begin(), from.end()) {}
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  // A moved vector hands over its buffer, so nothing is left behind to wipe.
  WipedBytes(WipedBytes&& other) noexcept : bytes(std::move(other.bytes)) { other.bytes.clear(); }
  WipedBytes& operator=(WipedBytes&& other) noexcept {
    if (this != &other) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      bytes = std::move(other.bytes);
      other.bytes.clear();
    }
    return *this;
  }
  ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  std::vector<std::uint8_t> bytes;
};

}  // namespace dumpguard
