// A program that keeps an RSA prime the way no allocator or library structure marks it: the
// big-endian bytes of argv[1]'s hex number, copied into the middle of a heap buffer of random
// bytes at an odd offset, with no length prefix or header. This is a blind spot of the default
// factor hunt and what `scan --exhaustive` is for. Prints "ready", waits until stdin closes.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string hex;
  std::ifstream(argv[1]) >> hex;
  std::vector<unsigned char> prime;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    prime.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  std::random_device rd;
  auto* buffer = static_cast<unsigned char*>(std::malloc(4096));
  for (std::size_t i = 0; i < 4096; ++i) buffer[i] = static_cast<unsigned char>(rd());
  std::memcpy(buffer + 1001, prime.data(), prime.size());
  std::fill(hex.begin(), hex.end(), '0');
  std::fill(prime.begin(), prime.end(), 0);
  std::printf("ready\n");
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  std::free(buffer);
  return 0;
}
