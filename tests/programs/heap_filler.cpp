// A process with a large heap, for the test of the scan's memory bound: it fills MiB blocks of
// 1 MiB each (malloc, so glibc maps each on its own) with pseudo-random words, text lines and
// zeroed pages, prints "ready pid=N", and waits until its stdin closes. No key material.
// Usage: heap_filler MIB.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  constexpr std::size_t kBlock = std::size_t{1} << 20, kPage = 4096;
  static const char kLine[] = "2026-11-27T12:00:00Z INFO GET /api/v1/items?id=1234 served in 12 ms\n";
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;  // xorshift64: fast, and not a key
  std::vector<unsigned char*> blocks;
  for (std::size_t b = 0; b < mib; ++b) {
    auto* block = static_cast<unsigned char*>(std::malloc(kBlock));
    if (block == nullptr) return 1;
    for (std::size_t page = 0; page < kBlock; page += kPage) {
      unsigned char* p = block + page;
      switch ((page / kPage + b) % 4) {
        case 0:
        case 1:
          for (std::size_t i = 0; i < kPage; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            std::memcpy(p + i, &x, 8);
          }
          break;
        case 2:
          for (std::size_t i = 0; i < kPage; ++i) p[i] = static_cast<unsigned char>(kLine[i % (sizeof kLine - 1)]);
          break;
        default:
          std::memset(p, 0, kPage);
      }
    }
    blocks.push_back(block);
  }
  std::printf("ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  for (auto* block : blocks) std::free(block);
  return 0;
}
