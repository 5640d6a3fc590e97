// Holds a random 32-byte key in the ways tests/integration/test_dump_protect_*.py dump and
// check. Usage: protect_holder MODE KEY_OUT. The key goes from getrandom straight into its
// memory and from there to KEY_OUT (mode 0600, write(2): no stdio copy), so the test knows it
// independently; the program never prints it. Before the key is written it prints the VmFlags
// (/proc/self/smaps) of the key's page, so a test can see what the kernel knew at that moment.
// Modes:
//   forbidden  a raw mmap'd page: write the key, print "written", wait for a line on stdin,
//              then madvise(MADV_DONTDUMP) (the order the library forbids), print "excluded";
//   library    a SecretBuffer: exclusion first, then the key; print "ready";
//   copies     a SecretBuffer, plus the copies careless code makes: a stack buffer, and a
//              std::string of the key's hex that grew (its old buffer is freed, not wiped);
//              the live string is wiped; print "ready".
// Then it waits until stdin closes.
#include <sys/mman.h>
#include <sys/random.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "dumpguard/protect.hpp"
#include "protect/smaps.hpp"

namespace {

void fill_random(std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t got = getrandom(p, n, 0);
    if (got <= 0) continue;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

void write_key(const char* path, const std::uint8_t* key, std::size_t n) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, key, n) != static_cast<ssize_t>(n)) {
    std::fprintf(stderr, "protect_holder: cannot write %s\n", path);
    _exit(1);
  }
  close(fd);
}

// The VmFlags of the smaps entry that holds `address`, trimmed ("?" when there is none).
std::string vm_flags(const void* address) {
  std::string flags = dumpguard::protect_detail::vm_flags_of(address);
  if (flags.empty()) return "?";
  return flags.substr(1, flags.size() - 2);
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void wait_for_eof() {
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
}

// A copy in a stack buffer (a parser's scratch buffer, say) in a frame that is still live
// when the dump is taken: the frame does the rest of the work and the waiting.
__attribute__((noinline)) void copy_on_stack_then(const std::uint8_t* key, std::size_t n, void (*rest)()) {
  std::uint8_t copy[64];
  std::memcpy(copy, key, n);
  asm volatile("" : : "r"(copy) : "memory");  // the copy is really stored
  rest();
  asm volatile("" : : "r"(copy) : "memory");  // and the frame stays live until now
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: protect_holder forbidden|library|copies KEY_OUT\n");
    return 2;
  }
  const std::string mode = argv[1];
  constexpr std::size_t kKey = 32;
  if (mode == "forbidden") {
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    auto* key = static_cast<std::uint8_t*>(page);
    say("flags-before-write " + vm_flags(key));
    fill_random(key, kKey);
    write_key(argv[2], key, kKey);
    say("written");
    char c = 0;
    while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
    }
    if (madvise(page, 4096, MADV_DONTDUMP) != 0) return 1;
    say("excluded " + vm_flags(key));
    wait_for_eof();
    return 0;
  }
  if (mode == "library" || mode == "copies") {
    dumpguard::SecretBuffer key(kKey);
    say("flags-before-write " + vm_flags(key.data()));
    fill_random(key.data(), kKey);
    write_key(argv[2], key.data(), kKey);
    if (mode == "copies") {
      // A key kept as text in a std::string that grows: the append reallocates, and the old
      // buffer goes back to malloc unwiped (its first 16 bytes become free-list pointers; the
      // hex after the prefix stays). The careful wipe of the live string cannot reach it.
      static const char digits[] = "0123456789abcdef";
      std::string line = "configured-secret-key = ";
      for (std::uint8_t b : key.bytes()) {
        line += digits[b >> 4];
        line += digits[b & 15];
      }
      line.append(" # loaded from the configuration file, then parsed into protected memory");
      explicit_bzero(line.data(), line.size());
      copy_on_stack_then(key.data(), kKey, [] {
        say("ready");
        wait_for_eof();
      });
      return 0;
    }
    say("ready");
    wait_for_eof();
    return 0;
  }
  std::fprintf(stderr, "protect_holder: unknown mode %s\n", mode.c_str());
  return 2;
}
