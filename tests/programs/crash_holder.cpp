// A process for the core handler's tests: an RSA-2048 key made at start-up (written to
// argv[1] as PEM, mode 0600) and an AES-256 key (written raw to argv[2], mode 0600) kept in a
// heap buffer and set into an encryption context, as an application holds them, plus three
// waiting threads, so a core has four. It prints "ready pid=N" and waits on stdin until the test
// kills it (SIGSEGV, so the kernel writes a core) or closes stdin. It never prints key material.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace {
pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
bool done = false;

void* wait_for_done(void*) {
  pthread_mutex_lock(&mutex);
  while (!done) pthread_cond_wait(&done_cv, &mutex);
  pthread_mutex_unlock(&mutex);
  return nullptr;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crash_holder RSA_PEM_OUT AES_KEY_OUT\n");
    return 2;
  }
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  if (rsa == nullptr) return 1;
  const mode_t old = umask(077);
  FILE* pem = std::fopen(argv[1], "w");
  umask(old);
  if (pem == nullptr || PEM_write_PrivateKey(pem, rsa, nullptr, nullptr, 0, nullptr, nullptr) != 1) return 1;
  std::fclose(pem);

  auto* aes_key = static_cast<unsigned char*>(std::malloc(32));
  std::array<unsigned char, 16> iv{};
  if (aes_key == nullptr || RAND_bytes(aes_key, 32) != 1 || RAND_bytes(iv.data(), 16) != 1) return 1;
  const int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || write(fd, aes_key, 32) != 32) return 1;
  close(fd);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::array<unsigned char, 64> in{}, out{};
  int len = 0;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, aes_key, iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) != 1) {
    return 1;
  }

  // Small stacks: a core holds each thread's whole stack mapping, and 8 MiB ones would make
  // every core of the test tens of MB for nothing.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  std::array<pthread_t, 3> threads{};
  for (pthread_t& t : threads) {
    if (pthread_create(&t, &attr, wait_for_done, nullptr) != 0) return 1;
  }
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char c;
  while (read(STDIN_FILENO, &c, 1) > 0) {
  }
  pthread_mutex_lock(&mutex);
  done = true;
  pthread_cond_broadcast(&done_cv);
  pthread_mutex_unlock(&mutex);
  for (pthread_t t : threads) pthread_join(t, nullptr);
  EVP_CIPHER_CTX_free(ctx);
  std::free(aes_key);
  EVP_PKEY_free(rsa);
  return 0;
}
