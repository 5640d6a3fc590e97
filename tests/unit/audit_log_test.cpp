// The audit log: any changed byte, removed, inserted or reordered record is detected, and
// records cut from the end are detected against the checkpoint.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fixtures/detector_harness.hpp"
#include "gate/audit_log.hpp"

namespace dumpguard {
namespace {

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + "." + std::to_string(getpid());
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_path("audit.jsonl");
    checkpoint_ = temp_path("audit.checkpoint");
    std::remove(path_.c_str());
    std::remove(checkpoint_.c_str());
    auto log = AuditLog::open(path_, key_, checkpoint_);
    ASSERT_TRUE(log) << log.error().message;
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE(log->append(i % 2 ? "released" : "received",
                              {{"dump", "core." + std::to_string(i)}, {"sha256", std::string(64, static_cast<char>('a' + i % 6))}}));
    }
    text_ = read_all(path_);
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove(checkpoint_.c_str());
  }
  AuditVerdict verify(const std::string& text) const { return verify_audit_log(text, key_); }

  std::vector<std::uint8_t> key_ = test::seeded_bytes(32, 77);
  std::string path_, checkpoint_, text_;
};

TEST_F(AuditLogTest, AnUntouchedLogVerifiesAndMatchesItsCheckpoint) {
  const AuditVerdict v = verify(text_);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 12u);
  auto cp = read_audit_checkpoint(checkpoint_);
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(cp->first, v.head);
  EXPECT_EQ(cp->second, 12u);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Reopening continues the chain.
  auto again = AuditLog::open(path_, key_, checkpoint_);
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->append("quarantined", {{"reason", "test"}}));
  EXPECT_TRUE(verify(read_all(path_)).ok);
  EXPECT_EQ(verify(read_all(path_)).records, 13u);
}

TEST_F(AuditLogTest, EveryChangedByteIsDetected) {
  for (std::size_t i = 0; i < text_.size(); ++i) {
    std::string changed = text_;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    const AuditVerdict v = verify(changed);
    ASSERT_FALSE(v.ok) << "byte " << i << " changed, not detected";
    ASSERT_TRUE(v.broken.has_value());
  }
}

TEST_F(AuditLogTest, RemovedInsertedAndReorderedRecordsAreDetected) {
  const auto lines = lines_of(text_);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {  // the last one is the checkpoint's case
    auto removed = lines;
    removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(i));
    const AuditVerdict v = verify(join(removed));
    EXPECT_FALSE(v.ok) << "record " << i + 1 << " removed";
    EXPECT_EQ(v.broken, i + 1);
    auto swapped = lines;
    std::swap(swapped[i], swapped[i + 1]);
    EXPECT_FALSE(verify(join(swapped)).ok) << "records " << i + 1 << " and " << i + 2 << " swapped";
    auto doubled = lines;
    doubled.insert(doubled.begin() + static_cast<std::ptrdiff_t>(i + 1), lines[i]);
    EXPECT_FALSE(verify(join(doubled)).ok) << "record " << i + 1 << " repeated";
  }
}

TEST_F(AuditLogTest, RecordsCutFromTheEndNeedTheCheckpoint) {
  auto lines = lines_of(text_);
  lines.pop_back();
  const std::string cut = join(lines);
  EXPECT_TRUE(verify(cut).ok) << "without an anchor, a shorter chain is a valid chain";
  auto cp = read_audit_checkpoint(checkpoint_);
  ASSERT_TRUE(cp);
  const AuditVerdict v = verify_audit_log(cut, key_, kGenesisHash, cp->first, cp->second);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("cut from the end"), std::string::npos) << v.problem;
  EXPECT_FALSE(verify(text_.substr(0, text_.size() - 5)).ok) << "a record cut in the middle";
}

TEST_F(AuditLogTest, AnotherKeyDoesNotVerify) {
  const AuditVerdict v = verify_audit_log(text_, test::seeded_bytes(32, 78));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, 1u);
}

}  // namespace
}  // namespace dumpguard
