// gate/private_path: the checks that keep the gate's work directory its own.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gate/durable_files.hpp"
#include "gate/private_path.hpp"

namespace dumpguard {
namespace {

class PrivatePath : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = std::string(::testing::TempDir()) + "/private-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    char* real = realpath(templ.c_str(), nullptr);  // the test's temporary directory may be a symlink
    ASSERT_NE(real, nullptr);
    root_ = real;
    free(real);
    ASSERT_EQ(chmod(root_.c_str(), 0700), 0);
  }
  void TearDown() override { (void)remove_tree(root_); }
  std::string root_;
};

TEST_F(PrivatePath, MadeOwnedAndPrivate) {
  const std::string work = root_ + "/work";
  auto fd = open_private_dir(work);
  ASSERT_TRUE(fd) << fd.error().message;
  struct stat st {};
  ASSERT_EQ(stat(work.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, geteuid());
  ASSERT_EQ(chmod(work.c_str(), 0755), 0);
  ASSERT_TRUE(open_private_dir(work)) << "an existing one of its own is taken, and made 0700 again";
  ASSERT_EQ(stat(work.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(PrivatePath, ASymlinkOnThePathIsRefused) {
  ASSERT_EQ(mkdir((root_ + "/real").c_str(), 0700), 0);
  ASSERT_EQ(symlink((root_ + "/real").c_str(), (root_ + "/link").c_str()), 0);
  auto fd = open_private_dir(root_ + "/link/work");
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().message.find("symbolic link"), std::string::npos) << fd.error().message;
  auto last = open_private_dir(root_ + "/link");
  EXPECT_FALSE(last) << "the last step too";
}

TEST_F(PrivatePath, ADirectoryOthersCanWriteOnThePathIsRefusedUnlessSticky) {
  const std::string open_dir = root_ + "/open";
  ASSERT_EQ(mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  auto fd = open_private_dir(open_dir + "/work");
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().message.find("can be written by others"), std::string::npos) << fd.error().message;
  struct stat st {};
  EXPECT_NE(stat((open_dir + "/work").c_str(), &st), 0) << "nothing made where it is refused";
  ASSERT_EQ(chmod(open_dir.c_str(), 01777), 0);
  EXPECT_TRUE(open_private_dir(open_dir + "/work")) << "sticky, like /tmp";
}

TEST_F(PrivatePath, LiesWithinSeesThroughSpellings) {
  const std::string inbox = root_ + "/inbox";
  ASSERT_EQ(mkdir(inbox.c_str(), 0700), 0);
  ASSERT_EQ(symlink(inbox.c_str(), (root_ + "/alias").c_str()), 0);
  EXPECT_TRUE(*lies_within(inbox, inbox));
  EXPECT_TRUE(*lies_within(inbox + "/release", inbox)) << "not made yet";
  EXPECT_TRUE(*lies_within(root_ + "/alias/release", inbox));
  EXPECT_FALSE(*lies_within(root_ + "/release", inbox));
  EXPECT_FALSE(*lies_within(root_ + "/inbox-2", inbox));
  EXPECT_TRUE(*lies_within(root_ + "/q/x", root_ + "/q")) << "neither made: by spelling";
  EXPECT_FALSE(*lies_within(root_ + "/qq", root_ + "/q"));
}

}  // namespace
}  // namespace dumpguard
