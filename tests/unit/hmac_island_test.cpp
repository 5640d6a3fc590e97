// HMAC keys at islands: a binary HS256 key of 16, 20, 24 or 32 bytes in an object of an
// allocator with no size header (laid out as a CPython bytes object: refcount, type, size, hash
// of -1, then the bytes) amid JSON text is proven by the token it signed, and every copy of it
// is a finding; a key inside a long run of random bytes is the documented blind spot.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <string>

#include "crypto/base64.hpp"
#include "detect/hmac_key_hunt.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

using Bytes = std::vector<std::uint8_t>;

// JSON text (printable words: structured) with no allocator header anywhere.
Bytes text_page(std::size_t size) {
  std::string text;
  while (text.size() < size) text += "{\"id\":12,\"name\":\"user\",\"on\":true},";
  return Bytes(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(size));
}

MacToken token_signed_with(const Bytes& key, const std::string& subject) {
  MacToken t;
  t.alg = "HS256";
  const std::string header = "{\"alg\":\"HS256\"}", payload = "{\"sub\":\"" + subject + "\"}";
  t.signing_input = base64_encode({reinterpret_cast<const std::uint8_t*>(header.data()), header.size()}, true) + "." +
                    base64_encode({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, true);
  t.signature.resize(32);
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(t.signing_input.data()), t.signing_input.size(), t.signature.data(), &len);
  t.origin = "test token";
  return t;
}

test::CollectingSink hunt(const Bytes& bytes, const std::vector<MacToken>& tokens) {
  Dump dump;
  KeyRing ring;
  const Bytes fingerprint_key(32, 3);
  const ScanArea area{0, std::as_bytes(std::span(bytes)), std::nullopt};
  ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), fingerprint_key};
  context.tokens = &tokens;
  auto detector = make_hmac_key_hunt_detector();
  test::CollectingSink sink;
  run_alone(*detector, context, area, sink);
  test::close_copies(context, sink);
  return sink;
}

// Writes a CPython bytes object holding `key` at `at` (8-aligned); returns the key's offset.
std::size_t plant_bytes_object(Bytes& page, std::size_t at, const Bytes& key) {
  const std::uint64_t header[4] = {1, 0x00007f0012345678, key.size(), ~std::uint64_t{0}};
  std::memcpy(page.data() + at, header, sizeof header);
  std::copy(key.begin(), key.end(), page.begin() + static_cast<std::ptrdiff_t>(at + 32));
  page[at + 32 + key.size()] = 0;  // ob_sval's terminating NUL
  return at + 32;
}

TEST(HmacIsland, KeysOfEverySizeInABytesObjectAreProvenByTheirToken) {
  for (const std::size_t size : {16, 20, 24, 32}) {
    SCOPED_TRACE(size);
    Bytes key = test::seeded_bytes(size, static_cast<std::uint32_t>(size));
    key[0] |= 0x80;  // at least two bytes with the top bit: the randomness test's floor
    key[1] |= 0x80;
    Bytes page = text_page(8192);
    const std::size_t object = plant_bytes_object(page, 1024, key);
    const Bytes copy_at_odd = key;
    std::copy(copy_at_odd.begin(), copy_at_odd.end(), page.begin() + 5003);  // a loose copy: the closure's
    const auto sink = hunt(page, {token_signed_with(key, "svc")});
    EXPECT_TRUE(test::covered_verified(sink, object, size));
    EXPECT_TRUE(test::covered_verified(sink, 5003, size));
    EXPECT_TRUE(sink.limits.empty());
  }
}

TEST(HmacIsland, AKeyInsideALongRandomRunIsTheBlindSpot) {
  const Bytes key = test::seeded_bytes(16, 77);
  Bytes page = text_page(8192);
  const Bytes noise = test::seeded_bytes(2048, 78);
  std::copy(noise.begin(), noise.end(), page.begin() + 2048);
  std::copy(key.begin(), key.end(), page.begin() + 2048 + 1024);
  const auto sink = hunt(page, {token_signed_with(key, "svc")});
  EXPECT_TRUE(sink.findings.empty());
}

}  // namespace
}  // namespace dumpguard
