// StagedFile: the destination changes only at commit(), undo() restores it exactly, and a
// destination that changed since it was read is never replaced.
#include "io/staged_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace dumpguard {
namespace {

namespace fs = std::filesystem;

class StagedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dg-staged-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void put(const std::string& p, const std::string& content) { std::ofstream(p, std::ios::binary) << content; }
  static std::string get(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {})); }

  static StagedFile staged_with(const std::string& destination, const std::string& content) {
    auto staged = StagedFile::create(destination);
    EXPECT_TRUE(staged.ok());
    EXPECT_TRUE(staged->write(std::as_bytes(std::span<const char>(content.data(), content.size()))).ok());
    EXPECT_TRUE(staged->finish_writing().ok());
    return std::move(staged).value();
  }

  fs::path dir_;
};

TEST_F(StagedFileTest, NothingChangesBeforeCommitAndTheTempFileGoes) {
  put(path("out"), "old");
  {
    StagedFile staged = staged_with(path("out"), "new");
    EXPECT_EQ(get(path("out")), "old");
    EXPECT_EQ(entries(), 2u);
  }
  EXPECT_EQ(get(path("out")), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(StagedFileTest, CommitReplacesAndSettleRemovesTheFormerFile) {
  put(path("out"), "old");
  StagedFile staged = staged_with(path("out"), "new");
  ASSERT_TRUE(staged.commit().ok());
  EXPECT_EQ(get(path("out")), "new");
  EXPECT_EQ(fs::status(path("out")).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  staged.settle();
  EXPECT_EQ(entries(), 1u);
}

TEST_F(StagedFileTest, UndoPutsTheFormerFileBack) {
  put(path("out"), "old");
  StagedFile staged = staged_with(path("out"), "new");
  ASSERT_TRUE(staged.commit().ok());
  ASSERT_TRUE(staged.undo().ok());
  EXPECT_EQ(get(path("out")), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(StagedFileTest, UndoWithoutAFormerFileRemovesTheNewOne) {
  StagedFile staged = staged_with(path("out"), "new");
  ASSERT_TRUE(staged.commit().ok());
  EXPECT_EQ(get(path("out")), "new");
  ASSERT_TRUE(staged.undo().ok());
  EXPECT_FALSE(fs::exists(path("out")));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(StagedFileTest, ReplacesOnlyTheFileThatWasRead) {
  put(path("in"), "secret");
  const auto read = identity_of_path(path("in"));
  ASSERT_TRUE(read.has_value());
  // Someone writes to the input meanwhile: a different size, so a different identity.
  put(path("in"), "secret, and more");
  StagedFile staged = staged_with(path("in"), "redacted");
  EXPECT_FALSE(staged.commit(read).ok());
  EXPECT_EQ(get(path("in")), "secret, and more");
  // Replaced by another file under the same name.
  put(path("other"), "x");
  fs::rename(path("other"), path("in"));
  StagedFile again = staged_with(path("in"), "redacted");
  EXPECT_FALSE(again.commit(read).ok());
  EXPECT_EQ(get(path("in")), "x");
}

TEST_F(StagedFileTest, ReplacesTheFileThatWasReadWhenUnchanged) {
  put(path("in"), "secret");
  const auto read = identity_of_path(path("in"));
  StagedFile staged = staged_with(path("in"), "redacted");
  ASSERT_TRUE(staged.commit(read).ok());
  staged.settle();
  EXPECT_EQ(get(path("in")), "redacted");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(StagedFileTest, CreateFailsInAMissingDirectory) {
  EXPECT_FALSE(StagedFile::create(path("missing/out")).ok());
}

}  // namespace
}  // namespace dumpguard
