#include "audit/key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "crypto/digest.hpp"
#include "crypto/openssl_ptr.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kPemPrivate = "-----BEGIN PRIVATE KEY-----";
constexpr std::string_view kPemPublic = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kIdLabel = "dumpguard audit key id";
constexpr std::size_t kMaxKeyFile = 4096;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// No passphrase: an encrypted PEM key fails to load instead of prompting on a terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() && std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not the log's form
}

bool unhex(std::string_view text, std::span<std::uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view message) {
  std::array<std::uint8_t, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &len);
  return mac;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

struct AuditKey::Pkey {
  PkeyPtr key;
};

std::string_view to_string(AuditAlg alg) { return alg == AuditAlg::hmac_sha256 ? "hmac-sha256" : "ed25519"; }

AuditKey::AuditKey(const AuditKey& other)
    : alg_(other.alg_), secret_(other.secret_), has_private_(other.has_private_), id_(other.id_) {
  if (other.pkey_) {
    EVP_PKEY_up_ref(other.pkey_->key.get());
    pkey_ = std::make_unique<Pkey>(Pkey{PkeyPtr(other.pkey_->key.get())});
  }
}
AuditKey& AuditKey::operator=(const AuditKey& other) {
  if (this != &other) *this = AuditKey(other);
  return *this;
}
AuditKey::AuditKey() = default;
AuditKey::AuditKey(AuditKey&&) noexcept = default;
AuditKey& AuditKey::operator=(AuditKey&& other) noexcept {
  if (this != &other) {
    if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
    alg_ = other.alg_;
    secret_ = std::move(other.secret_);
    pkey_ = std::move(other.pkey_);
    has_private_ = other.has_private_;
    id_ = std::move(other.id_);
  }
  return *this;
}
AuditKey::~AuditKey() {
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
}

bool AuditKey::can_sign() const { return alg_ == AuditAlg::hmac_sha256 ? !secret_.empty() : has_private_; }

Result<AuditKey> AuditKey::from_bytes(std::span<const std::uint8_t> bytes, const std::string& name) {
  AuditKey key;
  const bool is_private = starts_with(bytes, kPemPrivate);
  if (is_private || starts_with(bytes, kPemPublic)) {
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) return Error{Errc::io, 0, fmt::format("{}: out of memory", name)};
    EVP_PKEY* raw = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
                               : PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr);
    PkeyPtr pkey(raw);
    if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{}: a PEM key that is not an unencrypted Ed25519 {} key", name,
                               is_private ? "private" : "public")};
    }
    std::array<std::uint8_t, 32> pub{};
    std::size_t pub_len = pub.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &pub_len) != 1 || pub_len != 32) {
      return Error{Errc::bad_value, 0, fmt::format("{}: cannot read the Ed25519 public key", name)};
    }
    key.alg_ = AuditAlg::ed25519;
    key.pkey_ = std::make_unique<Pkey>(Pkey{std::move(pkey)});
    key.has_private_ = is_private;
    key.id_ = hex(sha256(pub)).substr(0, 32);
    return key;
  }
  if (bytes.size() < 16 || bytes.size() > 64) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{}: not an audit key (an HMAC key of 16 to 64 bytes, or an Ed25519 PEM key)", name)};
  }
  key.alg_ = AuditAlg::hmac_sha256;
  key.secret_.assign(bytes.begin(), bytes.end());
  key.id_ = hex(hmac_sha256(key.secret_, kIdLabel)).substr(0, 32);
  return key;
}

Result<AuditKey> AuditKey::generate(AuditAlg alg) {
  if (alg == AuditAlg::hmac_sha256) {
    std::vector<std::uint8_t> secret(32);
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
      return Error{Errc::io, 0, "no randomness for a new audit key"};
    }
    auto key = from_bytes(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return key;
  }
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return Error{Errc::io, 0, "cannot make an Ed25519 key"};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Error{Errc::io, 0, "cannot encode the Ed25519 key"};
  }
  std::string pem = bio_text(bio.get());
  auto key = from_bytes({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()});
  OPENSSL_cleanse(pem.data(), pem.size());
  return key;
}

Result<std::string> AuditKey::sign(std::string_view message) const {
  if (alg_ == AuditAlg::hmac_sha256 && secret_.empty()) return Error{Errc::bad_value, 0, "no audit key"};
  if (alg_ == AuditAlg::hmac_sha256) return hex(hmac_sha256(secret_, message));
  if (!has_private_) return Error{Errc::bad_value, 0, "an Ed25519 public key cannot sign: give the private key"};
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, 64> sig{};
  std::size_t sig_len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      sig_len != sig.size()) {
    return Error{Errc::io, 0, "Ed25519 signing failed"};
  }
  return hex(sig);
}

bool AuditKey::verify(std::string_view message, std::string_view sig_hex) const {
  if (sig_hex.size() != sig_hex_size() || (alg_ == AuditAlg::hmac_sha256 && secret_.empty()) ||
      (alg_ == AuditAlg::ed25519 && !pkey_)) {
    return false;
  }
  if (alg_ == AuditAlg::hmac_sha256) {
    const std::string expected = hex(hmac_sha256(secret_, message));
    return CRYPTO_memcmp(expected.data(), sig_hex.data(), expected.size()) == 0;
  }
  std::array<std::uint8_t, 64> sig{};
  if (!unhex(sig_hex, sig)) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey_->key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<std::string> AuditKey::private_file() const {
  if (alg_ == AuditAlg::hmac_sha256) return std::string(secret_.begin(), secret_.end());
  if (!has_private_) return Error{Errc::bad_value, 0, "only the public key is held"};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_->key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Error{Errc::io, 0, "cannot encode the Ed25519 private key"};
  }
  return bio_text(bio.get());
}

Result<std::string> AuditKey::public_file() const {
  if (alg_ == AuditAlg::hmac_sha256) return std::string();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_->key.get()) != 1) {
    return Error{Errc::io, 0, "cannot encode the Ed25519 public key"};
  }
  return bio_text(bio.get());
}

Result<LoadedAuditKey> load_audit_key(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return Error{Errc::io, 0, fmt::format("cannot open audit key {}: {}", path, std::strerror(errno))};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{Errc::io, 0, fmt::format("audit key {}: not a regular file", path)};
  }
  std::vector<std::uint8_t> bytes(kMaxKeyFile + 1);
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{Errc::io, 0, fmt::format("cannot read audit key {}: {}", path, std::strerror(errno))};
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  const auto wipe = [&] { OPENSSL_cleanse(bytes.data(), bytes.size()); };
  if (got > kMaxKeyFile) {
    wipe();
    return Error{Errc::bad_value, 0, fmt::format("audit key {}: larger than {} bytes, not a key file", path, kMaxKeyFile)};
  }
  auto key = AuditKey::from_bytes(std::span<const std::uint8_t>(bytes.data(), got), fmt::format("audit key {}", path));
  wipe();
  if (!key) return key.error();
  const bool secret = key->can_sign();
  return LoadedAuditKey{std::move(*key), secret && (st.st_mode & 0077) != 0};
}

}  // namespace dumpguard
