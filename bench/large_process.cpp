// Benchmark subject: a process whose heap holds SIZE MiB of realistic content (JSON-like
// text, log lines, UTF-16 strings, integer arrays, random and zeroed pages) plus an RSA
// key made at run time, so gcore gives a large real core. Prints "ready pid=N", then
// waits until stdin closes.
//
// Usage: large_process [MiB] [DIR]. With DIR (bench/hunt.sh, bench/compare.sh), the process
// also holds what a server holds for the hunts to find: the RSA-2048 key and a P-256 key as
// live EVP_PKEYs, an HS256 secret (32 random bytes in a heap buffer) with a JWT it signed, and
// AES-128 and AES-256 keys in live EVP encryption and decryption contexts (their expanded
// schedules only: the raw keys are wiped). It writes only the public halves to DIR:
// rsa.pub.pem, ec.pub.pem and token.txt. No private key and no secret byte is ever written or
// printed.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

namespace {
void fill_page(unsigned char* page, std::size_t size, unsigned kind, std::mt19937_64& rng) {
  switch (kind % 6) {
    case 0: {  // JSON documents
      std::string doc;
      while (doc.size() < size) doc += "{\"id\":" + std::to_string(rng() % 100000) + ",\"name\":\"user\",\"active\":true},";
      std::memcpy(page, doc.data(), size);
      break;
    }
    case 1: {  // log lines
      std::string log;
      while (log.size() < size) log += "2026-11-26T12:00:00Z INFO request served in " + std::to_string(rng() % 1000) + " ms\n";
      std::memcpy(page, log.data(), size);
      break;
    }
    case 2:  // UTF-16LE text
      for (std::size_t i = 0; i + 1 < size; i += 2) {
        page[i] = static_cast<unsigned char>('a' + (i / 2) % 26);
        page[i + 1] = 0;
      }
      break;
    case 3:  // integer arrays
      for (std::size_t i = 0; i + 8 <= size; i += 8) {
        const std::uint64_t v = i / 8;
        std::memcpy(page + i, &v, 8);
      }
      break;
    case 4:  // random
      for (std::size_t i = 0; i + 8 <= size; i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(page + i, &v, 8);
      }
      break;
    default:  // zeroed
      std::memset(page, 0, size);
  }
}

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string base64url(const std::string& text) {
  return base64url(reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

// An HS256 JWT signed with `secret` (RFC 7519), as a server issues one.
std::string sign_jwt(const std::vector<unsigned char>& secret) {
  const std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
                            base64url(R"({"sub":"bench-held","iss":"large_process","iat":)" +
                                      std::to_string(static_cast<long long>(time(nullptr))) + "}");
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
                &mac_len) == nullptr) {
    return {};
  }
  return input + "." + base64url(mac, mac_len);
}

bool write_public_pem(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = PEM_write_PUBKEY(f, key) == 1;  // SubjectPublicKeyInfo only
  return std::fclose(f) == 0 && ok;
}

bool write_text(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs(text.c_str(), f) >= 0 && std::fputc('\n', f) != EOF;
  return std::fclose(f) == 0 && ok;
}
}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  constexpr std::size_t kPage = 4096;
  std::mt19937_64 rng(12345);
  std::vector<unsigned char*> chunks;
  for (std::size_t done = 0; done < mib; ++done) {
    auto* chunk = static_cast<unsigned char*>(std::malloc(1 << 20));
    for (std::size_t off = 0; off < (1u << 20); off += kPage) fill_page(chunk + off, kPage, static_cast<unsigned>(rng() % 6), rng);
    chunks.push_back(chunk);
  }
  EVP_PKEY* key = EVP_RSA_gen(2048);
  // Held only with DIR: what a server keeps alive between requests.
  EVP_PKEY* ec_key = nullptr;
  std::vector<unsigned char> hmac_secret;  // a 32-byte heap buffer
  std::string jwt;
  std::vector<EVP_CIPHER_CTX*> ciphers;  // AES-128 and AES-256, each encrypting and decrypting
  if (argc > 2) {
    const std::string dir = argv[2];
    ec_key = EVP_EC_gen("P-256");
    hmac_secret.resize(32);
    if (key == nullptr || ec_key == nullptr || RAND_bytes(hmac_secret.data(), 32) != 1 ||
        (jwt = sign_jwt(hmac_secret)).empty() || !write_public_pem(dir + "/rsa.pub.pem", key) ||
        !write_public_pem(dir + "/ec.pub.pem", ec_key) || !write_text(dir + "/token.txt", jwt)) {
      std::fprintf(stderr, "large_process: could not make or write the keys in %s\n", dir.c_str());
      return 1;
    }
    for (const EVP_CIPHER* cipher : {EVP_aes_128_cbc(), EVP_aes_256_gcm()}) {
      unsigned char aes_key[32], iv[16];
      if (RAND_bytes(aes_key, sizeof aes_key) != 1 || RAND_bytes(iv, sizeof iv) != 1) return 1;
      for (int encrypt : {1, 0}) {
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        if (ctx == nullptr || EVP_CipherInit_ex(ctx, cipher, nullptr, aes_key, iv, encrypt) != 1) return 1;
        ciphers.push_back(ctx);
      }
      OPENSSL_cleanse(aes_key, sizeof aes_key);  // only the expanded schedules stay, as in servers
    }
  }
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  if (!hmac_secret.empty()) OPENSSL_cleanse(hmac_secret.data(), hmac_secret.size());
  for (EVP_CIPHER_CTX* ctx : ciphers) EVP_CIPHER_CTX_free(ctx);
  EVP_PKEY_free(ec_key);
  EVP_PKEY_free(key);
  for (auto* c : chunks) std::free(c);
  return 0;
}
