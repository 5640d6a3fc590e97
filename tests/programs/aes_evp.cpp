// A process that holds AES-128, -192 and -256 keys the way an application does: each key made
// at run time (RAND_bytes) and set into an encryption context (aes-128-gcm, aes-192-cbc,
// aes-256-ctr) and a CBC decryption context, then used. It writes the raw keys to the file
// named by argv[1] (mode 0600, for the test's independent check), prints "ready pid=N" and
// each key's SHA-256 (never a key), and waits until stdin closes.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <vector>

namespace {

struct Held {
  const char* name;
  int bytes;
  const EVP_CIPHER* encrypt;
  const EVP_CIPHER* decrypt;
};

bool run(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const unsigned char* key, const unsigned char* iv, int enc) {
  if (EVP_CipherInit_ex(ctx, cipher, nullptr, key, iv, enc) != 1) return false;
  std::array<unsigned char, 64> in{}, out{};
  int len = 0;
  return EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: aes_evp KEYFILE\n");
    return 2;
  }
  const std::array<Held, 3> held{{{"aes-128", 16, EVP_aes_128_gcm(), EVP_aes_128_cbc()},
                                  {"aes-192", 24, EVP_aes_192_cbc(), EVP_aes_192_cbc()},
                                  {"aes-256", 32, EVP_aes_256_ctr(), EVP_aes_256_cbc()}}};
  const int fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    std::perror("aes_evp: key file");
    return 1;
  }
  std::vector<EVP_CIPHER_CTX*> contexts;
  for (const Held& h : held) {
    std::array<unsigned char, 32> key{};
    std::array<unsigned char, 16> iv{};
    if (RAND_bytes(key.data(), h.bytes) != 1 || RAND_bytes(iv.data(), 16) != 1) return 1;
    if (write(fd, key.data(), static_cast<size_t>(h.bytes)) != h.bytes) return 1;
    std::array<unsigned char, 32> digest{};
    unsigned int digest_len = 0;
    EVP_Digest(key.data(), static_cast<size_t>(h.bytes), digest.data(), &digest_len, EVP_sha256(), nullptr);
    EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
    if (!run(enc, h.encrypt, key.data(), iv.data(), 1) || !run(dec, h.decrypt, key.data(), iv.data(), 0)) {
      std::fprintf(stderr, "aes_evp: %s context failed\n", h.name);
      return 1;
    }
    contexts.push_back(enc);
    contexts.push_back(dec);
    // Only the contexts' schedules keep the key from here on, as in servers.
    OPENSSL_cleanse(key.data(), key.size());
    std::printf("key %s sha256=", h.name);
    for (unsigned i = 0; i < digest_len; ++i) std::printf("%02x", digest[i]);
    std::printf("\n");
  }
  close(fd);
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  for (EVP_CIPHER_CTX* ctx : contexts) EVP_CIPHER_CTX_free(ctx);
  return 0;
}
