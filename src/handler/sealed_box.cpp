#include "handler/sealed_box.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <cstdio>
#include <fmt/format.h>
#include <vector>

#include "dumpguard/protect.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kInfo = "dumpguard sealed core v1";

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<std::array<std::uint8_t, 32>> raw_public(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> out{};
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size()) {
    return Error{Errc::bad_value, 0, "not an X25519 key"};
  }
  return out;
}

}  // namespace

struct SealedBoxWriter::State {
  Sink sink;
  SecretBuffer keys{64};  // the AES key, then the HMAC key
  EVP_CIPHER_CTX* cipher = nullptr;
  EVP_MAC_CTX* mac = nullptr;
  std::vector<std::byte> out = std::vector<std::byte>(1u << 20);
  ~State() {
    EVP_CIPHER_CTX_free(cipher);
    EVP_MAC_CTX_free(mac);
  }
  Status emit(std::span<const std::byte> bytes, bool authenticated) {
    if (authenticated && EVP_MAC_update(mac, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
      return Error{Errc::io, 0, "HMAC failed (OpenSSL)"};
    }
    return sink(bytes);
  }
};

SealedBoxWriter::SealedBoxWriter(std::unique_ptr<State> s) : s_(std::move(s)) {}
SealedBoxWriter::SealedBoxWriter(SealedBoxWriter&&) noexcept = default;
SealedBoxWriter::~SealedBoxWriter() = default;

Result<SealedBoxWriter> SealedBoxWriter::open(const std::string& recipient_pem, Sink sink) {
  FILE* f = std::fopen(recipient_pem.c_str(), "re");
  if (f == nullptr) return Error{Errc::io, 0, fmt::format("{}: cannot open the quarantine key", recipient_pem)};
  Pkey recipient(PEM_read_PUBKEY(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!recipient || EVP_PKEY_get_base_id(recipient.get()) != EVP_PKEY_X25519) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{}: not an X25519 public key in PEM (openssl genpkey -algorithm X25519, then "
                             "openssl pkey -pubout)",
                             recipient_pem)};
  }
  std::unique_ptr<State> s;
  std::optional<SecretBuffer> shared;
  try {
    s = std::make_unique<State>();
    shared.emplace(32);
  } catch (const std::bad_alloc&) {
    return Error{Errc::io, 0, "cannot allocate a page excluded from dumps for the quarantine keys"};
  }
  s->sink = std::move(sink);
  Pkey ephemeral(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  if (!ephemeral) return Error{Errc::io, 0, "cannot make an X25519 key (OpenSSL)"};
  DG_TRY(const auto eph_pub, raw_public(ephemeral.get()));
  DG_TRY(const auto rec_pub, raw_public(recipient.get()));

  std::size_t shared_len = shared->size();
  EVP_PKEY_CTX* derive = EVP_PKEY_CTX_new(ephemeral.get(), nullptr);
  const bool derived = derive != nullptr && EVP_PKEY_derive_init(derive) == 1 &&
                       EVP_PKEY_derive_set_peer(derive, recipient.get()) == 1 &&
                       EVP_PKEY_derive(derive, shared->data(), &shared_len) == 1 && shared_len == 32;
  EVP_PKEY_CTX_free(derive);
  if (!derived) return Error{Errc::io, 0, "X25519 key agreement failed (OpenSSL)"};

  std::array<std::uint8_t, 64> salt{};
  std::copy(eph_pub.begin(), eph_pub.end(), salt.begin());
  std::copy(rec_pub.begin(), rec_pub.end(), salt.begin() + 32);
  EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kdf = hkdf != nullptr ? EVP_KDF_CTX_new(hkdf) : nullptr;
  EVP_KDF_free(hkdf);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared->data(), shared->size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kInfo.data()), kInfo.size()),
      OSSL_PARAM_construct_end()};
  const bool keyed = kdf != nullptr && EVP_KDF_derive(kdf, s->keys.data(), s->keys.size(), params) == 1;
  EVP_KDF_CTX_free(kdf);
  if (!keyed) return Error{Errc::io, 0, "HKDF failed (OpenSSL)"};

  std::array<std::uint8_t, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) return Error{Errc::io, 0, "no random bytes (OpenSSL)"};
  s->cipher = EVP_CIPHER_CTX_new();
  if (s->cipher == nullptr || EVP_EncryptInit_ex(s->cipher, EVP_aes_256_ctr(), nullptr, s->keys.data(), nonce.data()) != 1) {
    return Error{Errc::io, 0, "AES-256-CTR failed (OpenSSL)"};
  }
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  s->mac = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
  EVP_MAC_free(hmac);
  OSSL_PARAM mac_params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (s->mac == nullptr || EVP_MAC_init(s->mac, s->keys.data() + 32, 32, mac_params) != 1) {
    return Error{Errc::io, 0, "HMAC-SHA256 failed (OpenSSL)"};
  }
  DG_CHECK(s->emit(std::as_bytes(std::span<const char>("DGQ1", 4)), true));
  DG_CHECK(s->emit(std::as_bytes(std::span<const std::uint8_t>(eph_pub)), true));
  DG_CHECK(s->emit(std::as_bytes(std::span<const std::uint8_t>(nonce)), true));
  return SealedBoxWriter(std::move(s));
}

Status SealedBoxWriter::write(std::span<const std::byte> plain) {
  while (!plain.empty()) {
    const std::size_t n = std::min(plain.size(), s_->out.size());
    int len = 0;
    if (EVP_EncryptUpdate(s_->cipher, reinterpret_cast<unsigned char*>(s_->out.data()), &len,
                          reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(n)) != 1) {
      return Error{Errc::io, 0, "AES-256-CTR failed (OpenSSL)"};
    }
    DG_CHECK(s_->emit(std::span<const std::byte>(s_->out.data(), static_cast<std::size_t>(len)), true));
    plain = plain.subspan(n);
  }
  return ok_status();
}

Status SealedBoxWriter::finish() {
  std::array<std::uint8_t, 32> tag{};
  std::size_t len = 0;
  if (EVP_MAC_final(s_->mac, tag.data(), &len, tag.size()) != 1 || len != tag.size()) {
    return Error{Errc::io, 0, "HMAC-SHA256 failed (OpenSSL)"};
  }
  return s_->emit(std::as_bytes(std::span<const std::uint8_t>(tag)), false);
}

}  // namespace dumpguard
