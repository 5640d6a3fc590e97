// Holds an Ed25519 key made at run time the way libsodium and Go do: one 64-byte buffer,
// seed‖public key (crypto_sign_SECRETKEYBYTES). Writes the public key (PEM) to argv[1] and the
// private key (PEM, mode 0600) to argv[2] for the test's independent check, prints
// "ready pid=N", and waits until stdin closes. It never prints key material.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return 1;
  auto* secret = static_cast<unsigned char*>(std::malloc(64));
  std::size_t len = 32;
  EVP_PKEY_get_raw_private_key(key, secret, &len);
  len = 32;
  EVP_PKEY_get_raw_public_key(key, secret + 32, &len);
  FILE* pub = std::fopen(argv[1], "w");
  const mode_t old = umask(077);
  FILE* priv = std::fopen(argv[2], "w");
  umask(old);
  if (pub == nullptr || priv == nullptr || PEM_write_PUBKEY(pub, key) != 1 ||
      PEM_write_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return 1;
  }
  std::fclose(pub);
  std::fclose(priv);
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  OPENSSL_cleanse(secret, 64);
  std::free(secret);
  EVP_PKEY_free(key);
  return 0;
}
