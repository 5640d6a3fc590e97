// The gate's parts on their own: names from the inbox, the directory store (what it lists,
// refuses and skips, claims and puts), the audit trail after a crash, and the policy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "audit/trail.hpp"
#include "gate/directory_store.hpp"
#include "gate/names.hpp"
#include "gate/release_policy.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {
namespace {

namespace fs = std::filesystem;

class GateParts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("dg-gate-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "inbox");
    fs::create_directories(dir_ / "work");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  static std::string state(const std::vector<StoreEntry>& entries, const std::string& name) {
    for (const StoreEntry& e : entries) {
      if (e.name == name) {
        return e.state == StoreEntry::State::ready ? "ready"
               : e.state == StoreEntry::State::refused ? "refused: " + e.refusal
                                                        : "settling";
      }
    }
    return "absent";
  }

  fs::path dir_;
};

TEST(GateNames, OnlyPrintableUtf8NamesAreTaken) {
  EXPECT_TRUE(acceptable_name("core.1234"));
  EXPECT_TRUE(acceptable_name("cœur-été.zst"));
  EXPECT_FALSE(acceptable_name(""));
  EXPECT_FALSE(acceptable_name("a\nb"));
  EXPECT_FALSE(acceptable_name("a\x7f"));
  EXPECT_FALSE(acceptable_name("bad\xff"));
  EXPECT_FALSE(acceptable_name("\xc0\xaf"));          // an overlong '/'
  EXPECT_FALSE(acceptable_name("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(acceptable_name("\xc2\x85"));          // C1 control (NEL)
  EXPECT_FALSE(acceptable_name("cut\xe2\x82"));       // a sequence cut short
  EXPECT_FALSE(acceptable_name(std::string(201, 'a')));
  EXPECT_EQ(printable("core.1"), "core.1");
  EXPECT_EQ(printable("a\x01\xff\\"), "a\\x01\\xff\\x5c");
}

TEST_F(GateParts, TheInboxListingRefusesSkipsAndWaitsForCompleteFiles) {
  const std::string inbox = path("inbox");
  write("inbox/old.core", "x");
  // An mtime an hour ago: complete at once, whatever the settle time.
  const timespec old[2] = {{0, UTIME_OMIT}, {time(nullptr) - 3600, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path("inbox/old.core").c_str(), old, 0), 0);
  write("inbox/fresh.core", "x");
  write("inbox/.hidden", "x");
  write("inbox/upload.part", "x");
  write("inbox/edit~", "x");
  write("outside", "x");
  ASSERT_EQ(symlink(path("outside").c_str(), path("inbox/link").c_str()), 0);
  ASSERT_EQ(link(path("outside").c_str(), path("inbox/hard").c_str()), 0);
  ASSERT_EQ(mkfifo(path("inbox/fifo").c_str(), 0600), 0);
  fs::create_directories(dir_ / "inbox" / "sub");
  write("inbox/bad\x01name", "x");

  auto store = DirectoryStore::open(inbox, false, 3600, "t");
  ASSERT_TRUE(store) << store.error().message;
  auto entries = store->list();
  ASSERT_TRUE(entries);
  EXPECT_EQ(state(*entries, "old.core"), "ready");
  EXPECT_EQ(state(*entries, "fresh.core"), "settling");
  for (const char* skipped : {".hidden", "upload.part", "edit~"}) EXPECT_EQ(state(*entries, skipped), "absent");
  EXPECT_EQ(state(*entries, "link"), "refused: a symbolic link");
  EXPECT_EQ(state(*entries, "fifo"), "refused: a FIFO");
  EXPECT_EQ(state(*entries, "sub"), "refused: a directory");
  EXPECT_EQ(state(*entries, "hard").rfind("refused: 2 hard links", 0), 0u);
  EXPECT_EQ(state(*entries, "bad\x01name").rfind("refused: a name", 0), 0u);

  // With no settle time, a fresh file is ready (the gate then checks for a writer itself).
  auto eager = DirectoryStore::open(inbox, false, 0, "t");
  ASSERT_TRUE(eager);
  EXPECT_EQ(state(*eager->list(), "fresh.core"), "ready");
}

TEST_F(GateParts, AnInotifyAnnouncementMakesAFileReady) {
  const std::string inbox = path("inbox");
  auto store = DirectoryStore::open(inbox, true, 3600, "t");
  ASSERT_TRUE(store);
  if (!store->uses_inotify()) GTEST_SKIP() << "no inotify here";
  write("elsewhere", "dump");
  ASSERT_EQ(rename(path("elsewhere").c_str(), path("inbox/arrived.core").c_str()), 0);
  store->wait(std::chrono::milliseconds(2000));
  EXPECT_EQ(state(*store->list(), "arrived.core"), "ready");
}

TEST_F(GateParts, AClaimIsOneRenameThatOnlyOneClaimantWins) {
  write("inbox/a.core", "dump");
  auto store = DirectoryStore::open(path("inbox"), false, 0, "t");
  ASSERT_TRUE(store);
  auto first = store->claim("a.core", path("work/a.core"));
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = store->claim("a.core", path("work/b.core"));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second) << "gone: another gate has it";
  EXPECT_TRUE(fs::exists(path("work/a.core")));
  // A claim never replaces a file in the work directory.
  write("inbox/c.core", "other");
  auto onto = store->claim("c.core", path("work/a.core"));
  ASSERT_TRUE(onto);
  EXPECT_FALSE(*onto);
  EXPECT_TRUE(fs::exists(path("inbox/c.core")));
}

TEST_F(GateParts, APutNeverReplacesAndIsDurable) {
  fs::create_directories(dir_ / "release");
  auto release = DirectoryStore::open(path("release"), false, 0, "t");
  ASSERT_TRUE(release);
  write("work/out", "first");
  auto put = release->put(path("work/out"), "x.core");
  ASSERT_TRUE(put);
  EXPECT_TRUE(*put);
  EXPECT_FALSE(fs::exists(path("work/out")));
  EXPECT_TRUE(release->exists("x.core"));
  write("work/out", "second");
  put = release->put(path("work/out"), "x.core");
  ASSERT_TRUE(put);
  EXPECT_FALSE(*put);
  std::ifstream in(path("release/x.core"));
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "first");
  // A directory (a quarantine package) is put whole.
  fs::create_directories(dir_ / "work" / "pkg");
  write("work/pkg/d", "dump");
  put = release->put(path("work/pkg"), "pkg");
  ASSERT_TRUE(put);
  EXPECT_TRUE(*put);
  EXPECT_TRUE(fs::exists(path("release/pkg/d")));
}

class GateAudit : public GateParts {
 protected:
  void SetUp() override {
    GateParts::SetUp();
    write("key", std::string(32, 'k'));
    log_ = path("audit.jsonl");
    cp_ = log_ + ".checkpoint";
  }
  std::string read(const std::string& p) const {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  AuditVerdict verify() const {
    const std::vector<std::uint8_t> key(32, 'k');
    auto cp = read_audit_checkpoint(cp_);
    EXPECT_TRUE(cp);
    return verify_audit_log(read(log_), key, kGenesisHash, cp->first, cp->second);
  }
  std::string log_;
  std::string cp_;
};

TEST_F(GateAudit, RecordsOfTwoTrailsOnOneLogFormOneChain) {
  auto a = AuditTrail::open(log_, path("key"), cp_);
  auto b = AuditTrail::open(log_, path("key"), cp_);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->record("a", {{"i", i}}));
    ASSERT_TRUE(b->record("b", {{"i", i}}));
  }
  const AuditVerdict v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 6u);
}

TEST_F(GateAudit, ACheckpointOneBehindIsBroughtLevel) {
  {
    auto t = AuditTrail::open(log_, path("key"), cp_);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->record("one", {}));
  }
  const std::string cp_after_one = read(cp_);
  {
    auto t = AuditTrail::open(log_, path("key"), cp_);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->record("two", {}));
  }
  // As if killed between the second record and its checkpoint, twice over.
  ASSERT_TRUE(write_file_atomically(cp_, cp_after_one));
  {
    auto t = AuditTrail::open(log_, path("key"), cp_);
    ASSERT_TRUE(t) << t.error().message;
  }
  EXPECT_TRUE(verify().ok) << "level again before any new record";
  // Two behind is not what a crash leaves: refused.
  {
    auto t = AuditTrail::open(log_, path("key"), cp_);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->record("three", {}));
    ASSERT_TRUE(t->record("four", {}));
  }
  ASSERT_TRUE(write_file_atomically(cp_, cp_after_one));
  auto refused = AuditTrail::open(log_, path("key"), cp_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("checkpoint"), std::string::npos);
}

TEST_F(GateAudit, ARecordTornInItsWriteIsCutOffKeptAndRecorded) {
  {
    auto t = AuditTrail::open(log_, path("key"), cp_);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->record("whole", {{"n", 1}}));
  }
  const std::string whole = read(log_);
  const std::string torn = "{\"record\":{\"seq\":2,\"time\":\"2026";
  {
    std::ofstream out(log_, std::ios::app | std::ios::binary);
    out << torn;
  }
  auto t = AuditTrail::open(log_, path("key"), cp_);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(read(log_ + ".torn-" + std::to_string(whole.size())), torn);
  const std::string repaired = read(log_);
  EXPECT_EQ(repaired.substr(0, whole.size()), whole);
  EXPECT_NE(repaired.find("\"event\":\"repaired\""), std::string::npos);
  EXPECT_TRUE(verify().ok);

  // Without a checkpoint to vouch for the rest, a torn log is refused.
  std::remove(cp_.c_str());
  {
    std::ofstream out(log_, std::ios::app | std::ios::binary);
    out << torn;
  }
  EXPECT_FALSE(AuditTrail::open(log_, path("key"), cp_));
}

TEST_F(GateAudit, AShortKeyIsRefused) {
  write("short", "0123456789");
  EXPECT_FALSE(AuditTrail::open(log_, path("short"), cp_));
}

TEST(GatePolicy, KindsAndListedKeysQuarantine) {
  GateConfig config;
  config.actions["aes-key-schedule"] = "quarantine";
  config.keys.push_back({"", "sha256:" + std::string(64, 'a'), "quarantine"});
  config.keys.push_back({"", "sha256:" + std::string(64, 'b'), "redact"});
  auto policy = make_gate_policy(config);
  ASSERT_TRUE(policy);

  ScanReport report;
  Finding rsa;
  rsa.kind = "rsa-prime";
  rsa.key = "sha256:" + std::string(64, 'b');
  report.findings.push_back(rsa);
  report.keys.push_back(KeyGroup{rsa.key, "rsa-2048", {0}, true, "", Severity::critical});
  EXPECT_FALSE(apply_policy(*policy, report).quarantine) << "a key listed with redact is redacted";

  Finding aes;
  aes.kind = "aes-key-schedule";
  report.findings.push_back(aes);
  PolicyVerdict v = apply_policy(*policy, report);
  EXPECT_TRUE(v.quarantine);
  EXPECT_EQ(v.kinds, std::vector<std::string>{"aes-key-schedule"});

  report.findings.pop_back();
  SuppliedKeyStatus listed;
  listed.fingerprint = "sha256:" + std::string(64, 'a');
  listed.status = Presence::present;
  report.supplied.push_back(listed);
  v = apply_policy(*policy, report);
  EXPECT_TRUE(v.quarantine);
  EXPECT_EQ(v.keys, std::vector<std::string>{listed.fingerprint});
  report.supplied.back().status = Presence::absent;
  EXPECT_FALSE(apply_policy(*policy, report).quarantine);

  GateConfig strict;
  strict.default_action = "quarantine";
  strict.actions["rsa-prime"] = "redact";
  auto allow = make_gate_policy(strict);
  ASSERT_TRUE(allow);
  EXPECT_FALSE(apply_policy(*allow, report).quarantine);
  report.findings.push_back(aes);
  EXPECT_TRUE(apply_policy(*allow, report).quarantine) << "a kind not listed takes the default";

  strict.max_size = 100;
  strict.formats = std::vector<std::string>{"minidump"};
  allow = make_gate_policy(strict);
  EXPECT_TRUE(refuse_by_size(*allow, 101));
  EXPECT_FALSE(refuse_by_size(*allow, 100));
  Dump dump;
  dump.model.format = Format::elf_core;
  EXPECT_TRUE(refuse_by_format(*allow, dump));
  dump.model.format = Format::minidump;
  EXPECT_FALSE(refuse_by_format(*allow, dump));
}

}  // namespace
}  // namespace dumpguard
