// The core handler's pieces that need no kernel: the spool (memory, then the encrypted spill,
// read back whole), the specifiers and systemd-coredump's names, the core_pattern line's limit,
// and the [core-handler] table of the config file.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "handler/core_pattern.hpp"
#include "handler/core_spool.hpp"
#include "handler/crash_info.hpp"
#include "user_files/config_file.hpp"

namespace dumpguard {
namespace {

std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> out(n);
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

// Writes `data` into a pipe from another thread in uneven pieces, as the kernel's writes may
// arrive, and returns the read end.
int pipe_with(const std::vector<std::byte>& data, std::thread& writer, bool hold_open = false) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  writer = std::thread([fd = fds[1], &data, hold_open] {
    std::size_t at = 0, step = 1;
    while (at < data.size()) {
      const std::size_t n = std::min(step, data.size() - at);
      if (write(fd, data.data() + at, n) != static_cast<ssize_t>(n)) break;
      at += n;
      step = step * 3 + 7;  // never a multiple of the cipher's block for long
    }
    if (hold_open) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    close(fd);
  });
  return fds[0];
}

Result<CoreSpool> spool_of(const std::vector<std::byte>& data, SpoolLimits limits, bool hold_open = false) {
  std::thread writer;
  const int fd = pipe_with(data, writer, hold_open);
  limits.tmpdir = ::testing::TempDir();
  Result<CoreSpool> spool = CoreSpool::receive(fd, limits);
  close(fd);
  writer.join();
  return spool;
}

std::vector<std::byte> contents(int fd) {
  std::vector<std::byte> out(static_cast<std::size_t>(lseek(fd, 0, SEEK_END)));
  EXPECT_EQ(pread(fd, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
  return out;
}

TEST(CoreSpool, KeepsWhatFitsInMemoryAndSpillsTheRestEncrypted) {
  const auto data = random_bytes(300'000);
  SpoolLimits limits;
  limits.memory_cap = 64 * 1024;
  auto spool = spool_of(data, limits);
  ASSERT_TRUE(spool.ok()) << spool.error().message;
  EXPECT_EQ(spool->end(), SpoolEnd::complete);
  EXPECT_EQ(spool->size(), data.size());
  EXPECT_EQ(spool->spilled(), data.size() - limits.memory_cap);
  // The spill file holds no run of the plaintext: not even 16 bytes of it.
  const auto spill = contents(spool->spill_fd());
  ASSERT_EQ(spill.size(), spool->spilled());
  const auto tail = std::span(data).subspan(limits.memory_cap);
  for (std::size_t at = 0; at + 16 <= tail.size(); at += 4096) {
    EXPECT_EQ(std::search(spill.begin(), spill.end(), tail.begin() + static_cast<std::ptrdiff_t>(at),
                          tail.begin() + static_cast<std::ptrdiff_t>(at + 16)),
              spill.end());
  }
  std::vector<std::byte> streamed;
  ASSERT_TRUE(spool->for_each_piece([&](std::span<const std::byte> p) {
    streamed.insert(streamed.end(), p.begin(), p.end());
    return ok_status();
  }).ok());
  EXPECT_EQ(streamed, data);
  auto memory = spool->into_memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(contents(memory->get()), data);
}

TEST(CoreSpool, StopsAtTheLimitAndSaysWhetherMoreWasComing) {
  const auto data = random_bytes(10'000);
  SpoolLimits limits;
  limits.max_bytes = 4096;
  auto cut = spool_of(data, limits);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->end(), SpoolEnd::limit);
  EXPECT_EQ(cut->size(), 4096u);
  limits.max_bytes = data.size();
  auto exact = spool_of(data, limits);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->end(), SpoolEnd::complete);
  EXPECT_EQ(exact->size(), data.size());
}

TEST(CoreSpool, StopsAtTheDeadlineWithWhatArrived) {
  const auto data = random_bytes(5'000);
  SpoolLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  std::thread writer;
  const int fd = pipe_with(data, writer, true);  // the writer holds the pipe open past the deadline
  const auto started = std::chrono::steady_clock::now();
  auto spool = CoreSpool::receive(fd, limits);
  const auto took = std::chrono::steady_clock::now() - started;
  close(fd);
  writer.join();
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(spool->end(), SpoolEnd::deadline);
  EXPECT_EQ(spool->size(), data.size());
  EXPECT_LT(took, std::chrono::milliseconds(1200));
}

TEST(CrashInfo, ReadsTheSpecifiersAndNamesTheCoreAsSystemdCoredump) {
  auto c = parse_crash_info({"4242", "1000", "100", "11", "1700000000", "18446744073709551615", "box", "my.prog/x y",
                             "1"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->pid, 4242u);
  EXPECT_EQ(c->core_limit, UINT64_MAX);
  EXPECT_EQ(c->pidfd, -1);
  const std::string name = stored_core_name(*c);
  EXPECT_EQ(name.rfind("core.my\\x2eprog\\x2fx\\x20y.1000.", 0), 0u) << name;
  EXPECT_TRUE(name.ends_with(".4242.1700000000000000")) << name;
  EXPECT_EQ(substitute_specifiers("pid=%P sig=%s %% %e %Z", *c), "pid=4242 sig=11 % my.prog/x y ");
  const auto xattrs = coredump_xattrs(*c);
  EXPECT_NE(std::find(xattrs.begin(), xattrs.end(), std::pair<std::string, std::string>{"user.coredump.timestamp",
                                                                                         "1700000000000000"}),
            xattrs.end());
}

TEST(CrashInfo, RefusesWrongArgumentsByName) {
  EXPECT_FALSE(parse_crash_info({"1", "2"}).ok());
  auto bad = parse_crash_info({"1", "x", "0", "11", "0", "0", "h", "c", "1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("%u"), std::string::npos) << bad.error().message;
}

TEST(CorePattern, TheLineFitsOrSaysWhy) {
  auto line = core_pattern_line("/usr/bin/dumpguard", "/etc/dumpguard/core-handler.toml");
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->rfind("|/usr/bin/dumpguard core-handler --config /etc/dumpguard/core-handler.toml -- %P %u", 0), 0u);
  EXPECT_LE(line->size(), 127u);
  EXPECT_FALSE(core_pattern_line("/usr/bin/dumpguard", "/etc/" + std::string(100, 'd') + "/c.toml").ok());
  EXPECT_FALSE(core_pattern_line("/usr/bin/dumpguard", "/etc/my config.toml").ok());
}

TEST(CoreHandlerConfig, ReadsTheTableAndRefusesTypos) {
  auto config = parse_config(
      "[core-handler]\nstore = \"cores\"\nexec = [\"/usr/lib/systemd/systemd-coredump\", \"%P\"]\n"
      "memory-cap = \"64M\"\ndeadline = 2.5\non-deadline = \"drop\"\ncompress = false\n",
      "/etc/dumpguard/h.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const CoreHandlerConfig& h = config->core_handler;
  EXPECT_EQ(h.store, "/etc/dumpguard/cores");
  ASSERT_TRUE(h.exec.has_value());
  EXPECT_EQ(h.exec->size(), 2u);
  EXPECT_EQ(h.memory_cap, 64ull << 20);
  EXPECT_EQ(h.deadline, 2.5);
  EXPECT_EQ(h.on_deadline, "drop");
  EXPECT_EQ(h.compress, false);
  for (const char* bad : {"[core-handler]\nstroe = \"x\"\n", "[core-handler]\non-failure = \"keep\"\n",
                          "[core-handler]\nexec = [\"relative\"]\n", "[core-handler]\ndeadline = -1\n"}) {
    EXPECT_FALSE(parse_config(bad, "h.toml").ok()) << bad;
  }
}

}  // namespace
}  // namespace dumpguard
