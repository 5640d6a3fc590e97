// A process that holds a private key the way a live server does: an RSA-2048 key made
// at start-up with OpenSSL (so p, q, d, ... sit on the heap as BIGNUM limbs) and an AES-256
// encryption context. It prints "ready pid=N" and waits until its stdin closes, so a test or
// the demo can dump it with gcore. Usage: key_holder [BITS] [wait|abort] [KEY_OUT].
// With "abort" it aborts instead of waiting, so the kernel writes the core. With KEY_OUT it
// writes the private key there as PEM (mode 0600), so a test can check independently what
// the dump must hold. It never prints key material.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const unsigned bits = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2048u;
  EVP_PKEY* key = EVP_RSA_gen(bits);
  if (key == nullptr) {
    std::fprintf(stderr, "key_holder: RSA key generation failed\n");
    return 1;
  }
  if (argc > 3) {
    const mode_t old = umask(077);
    FILE* out = std::fopen(argv[3], "w");
    umask(old);
    if (out == nullptr || PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      std::fprintf(stderr, "key_holder: cannot write the key file\n");
      return 1;
    }
    std::fclose(out);
  }
  unsigned char aes_key[32];
  unsigned char iv[16];
  RAND_bytes(aes_key, sizeof aes_key);
  RAND_bytes(iv, sizeof iv);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, aes_key, iv);
  OPENSSL_cleanse(aes_key, sizeof aes_key);  // only the expanded schedule stays, as in servers

  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  if (argc > 2 && std::strcmp(argv[2], "abort") == 0) std::abort();
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  EVP_CIPHER_CTX_free(ctx);
  EVP_PKEY_free(key);
  return 0;
}
