// Test program for the ELF core integration test: four threads in all, and a random 32-byte
// marker (RAND_bytes, new every run) in a heap buffer. Prints "pid ADDR HEX" on one line,
// then waits until standard input closes so the test can gcore it at leisure.
#include <openssl/rand.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {
std::mutex mutex;
std::condition_variable done_cv;
bool done = false;

void wait_for_done() {
  std::unique_lock lock(mutex);
  done_cv.wait(lock, [] { return done; });
}
}  // namespace

int main() {
  // A buffer larger than the marker, so the marker sits inside a page of the heap.
  auto* buffer = static_cast<unsigned char*>(std::malloc(4096));
  if (buffer == nullptr) return 1;
  std::memset(buffer, 0, 4096);
  unsigned char* marker = buffer + 64;
  if (RAND_bytes(marker, 32) != 1) return 1;

  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(wait_for_done);

  std::printf("ready %d %p ", static_cast<int>(getpid()), static_cast<void*>(marker));
  for (int i = 0; i < 32; ++i) std::printf("%02x", marker[i]);
  std::printf("\n");
  std::fflush(stdout);

  char c;
  while (read(0, &c, 1) > 0) {
  }
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  done_cv.notify_all();
  for (auto& t : threads) t.join();
  std::free(buffer);
  return 0;
}
