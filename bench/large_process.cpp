// Benchmark subject: a process whose heap holds SIZE MiB of realistic content (JSON-like
// text, log lines, UTF-16 strings, integer arrays, random and zeroed pages) plus an RSA
// key made at run time, so gcore gives a large real core. Prints "ready pid=N", then
// waits until stdin closes.
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  EVP_PKEY_free(key);
  for (auto* c : chunks) std::free(c);
  return 0;
}
