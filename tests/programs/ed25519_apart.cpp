// Holds an Ed25519 or X25519 key only as OpenSSL does: the raw private key from argv[2]'s file
// (32 bytes, made by the test) goes into EVP_PKEY_new_raw_private_key, which keeps it in an
// allocation of its own, apart from the public key; the read buffer is wiped at once.
// argv[1] is "ed25519" or "x25519". Prints "ready", then waits until stdin closes.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  unsigned char seed[32];
  const int fd = open(argv[2], O_RDONLY);
  if (fd < 0 || read(fd, seed, sizeof seed) != static_cast<ssize_t>(sizeof seed)) return 1;
  close(fd);
  const int type = std::strcmp(argv[1], "x25519") == 0 ? EVP_PKEY_X25519 : EVP_PKEY_ED25519;
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(type, nullptr, seed, sizeof seed);
  OPENSSL_cleanse(seed, sizeof seed);
  if (key == nullptr) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  EVP_PKEY_free(key);
  return 0;
}
