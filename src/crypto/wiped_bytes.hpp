// Bytes that hold a secret only while it is checked (a decoded key body), wiped when they go.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <vector>

namespace dumpguard {

struct WipedBytes {
  WipedBytes() = default;
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  std::vector<std::uint8_t> bytes;
};

}  // namespace dumpguard
