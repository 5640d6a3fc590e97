// The fingerprint key is made once, by whichever process comes first: processes that start
// together (gate workers on one host) must all get the same whole key, never a file another
// has created and not yet written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "crypto/fingerprint_key.hpp"

namespace dumpguard {
namespace {

TEST(FingerprintKey, CallersThatStartTogetherGetOneWholeKey) {
  char tmpl[] = "/tmp/dg-fpkey-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir(tmpl);
  constexpr int kRounds = 40, kCallers = 8;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = (dir / ("fp" + std::to_string(round) + ".key")).string();
    std::atomic<int> ready{0};
    std::vector<Result<std::vector<std::uint8_t>>> got(kCallers, Error{Errc::io, 0, "not run"});
    std::vector<std::thread> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kCallers) {
        }
        got[static_cast<std::size_t>(i)] = load_or_create_fingerprint_key(path);
      });
    }
    for (auto& t : callers) t.join();
    for (const auto& key : got) {
      ASSERT_TRUE(key) << "round " << round << ": " << key.error().message;
      EXPECT_EQ(*key, *got[0]) << "round " << round;
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_size, 32);
  }
  // Only the keys are left: no staged file of a caller that lost the race.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().extension(), ".key") << entry.path();
    ++files;
  }
  EXPECT_EQ(files, static_cast<std::size_t>(kRounds));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dumpguard
