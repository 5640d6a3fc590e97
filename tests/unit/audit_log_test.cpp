// The audit log: any changed byte, removed, inserted, repeated or reordered record is detected,
// under HMAC and Ed25519 alike; records cut from the end are detected against the checkpoint; a
// log never mixes algorithms or keys silently; rotation keeps one chain across files, detects a
// missing file, and survives a crash at each of its steps; several processes share one log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fixtures/detector_harness.hpp"
#include "audit/log.hpp"

namespace dumpguard {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
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

AuditKey hmac_key(std::uint32_t seed) {
  const auto bytes = test::seeded_bytes(32, seed);
  auto k = AuditKey::from_bytes(bytes);
  EXPECT_TRUE(k);
  return std::move(*k);
}

AuditKey ed25519_key() {
  auto k = AuditKey::generate(AuditAlg::ed25519);
  EXPECT_TRUE(k);
  return std::move(*k);
}

AuditKey public_half(const AuditKey& k) {
  const auto pem = k.public_file();
  EXPECT_TRUE(pem);
  auto pub = AuditKey::from_bytes({reinterpret_cast<const std::uint8_t*>(pem->data()), pem->size()});
  EXPECT_TRUE(pub);
  return std::move(*pub);
}

AuditKey copy_of(const AuditKey& k) {
  const auto file = k.private_file();
  auto again = AuditKey::from_bytes({reinterpret_cast<const std::uint8_t*>(file->data()), file->size()});
  EXPECT_TRUE(again);
  return std::move(*again);
}

// A line in the documented form, signed by `key`, built here rather than by the writer.
std::string make_line(const AuditKey& key, std::uint64_t seq, const std::string& event, const nlohmann::ordered_json& data,
                      const std::string& prev) {
  const nlohmann::ordered_json record = {{"seq", seq}, {"time", "2026-11-27T00:00:00Z"}, {"host", "test"}, {"version", "0"},
                                         {"event", event}, {"data", data}, {"prev", prev}};
  const std::string body = record.dump();
  return "{\"record\":" + body + ",\"alg\":\"" + std::string(to_string(key.alg())) + "\",\"key\":\"" + key.id() +
         "\",\"sig\":\"" + *key.sign(body) + "\"}";
}

class TempDir {
 public:
  TempDir() {
    std::string templ = std::string(::testing::TempDir()) + "/audit-XXXXXX";
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

AuditVerdict verify_with(const std::vector<AuditFile>& files, const std::vector<const AuditKey*>& keys,
                         AuditChainOptions options = {}) {
  return verify_audit_files(files, keys, options);
}

AuditVerdict verify_one(const std::string& text, const AuditKey& key) {
  return verify_with({AuditFile{"log", text}}, {&key});
}

// ---- one file: every change is detected ---------------------------------------------------

class AuditLogTest : public ::testing::TestWithParam<AuditAlg> {
 protected:
  void SetUp() override {
    path_ = dir_ / "audit.jsonl";
    checkpoint_ = dir_ / "audit.checkpoint";
    const bool ed = GetParam() == AuditAlg::ed25519;
    AuditKey key = ed ? ed25519_key() : hmac_key(77);
    verifier_ = ed ? public_half(key) : copy_of(key);
    AuditLogOptions options;
    options.checkpoint = checkpoint_;
    auto log = AuditLog::open(path_, std::move(key), options);
    ASSERT_TRUE(log) << log.error().message;
    // Fewer records under Ed25519: each of the ~3,000 byte flips verifies up to every record.
    for (int i = 0; i < (ed ? 5 : 12); ++i) {
      ASSERT_TRUE(log->append(i % 2 ? "released" : "received",
                              {{"dump", "core." + std::to_string(i)}, {"sha256", std::string(64, static_cast<char>('a' + i % 6))}}));
    }
    records_ = ed ? 5 : 12;
    text_ = read_all(path_);
  }
  AuditVerdict verify(const std::string& text) const { return verify_one(text, verifier_); }

  TempDir dir_;
  std::string path_, checkpoint_, text_;
  std::uint64_t records_ = 0;
  AuditKey verifier_ = hmac_key(1);
};

INSTANTIATE_TEST_SUITE_P(Algorithms, AuditLogTest, ::testing::Values(AuditAlg::hmac_sha256, AuditAlg::ed25519),
                         [](const auto& param_info) { return param_info.param == AuditAlg::ed25519 ? "Ed25519" : "Hmac"; });

TEST_P(AuditLogTest, AnUntouchedLogVerifiesAndMatchesItsCheckpoint) {
  const AuditVerdict v = verify(text_);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, records_);
  auto cp = read_audit_checkpoint(checkpoint_);
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(cp->first, v.head);
  EXPECT_EQ(cp->second, records_);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& line : lines_of(text_)) {
    const auto parts = parse_audit_line(line);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->alg, GetParam());
    EXPECT_EQ(parts->key_id, verifier_.id()) << "the public key's id is the private key's";
  }
}

TEST_P(AuditLogTest, EveryChangedByteIsDetected) {
  for (std::size_t i = 0; i < text_.size(); ++i) {
    std::string changed = text_;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    const AuditVerdict v = verify(changed);
    ASSERT_FALSE(v.ok) << "byte " << i << " changed, not detected";
    ASSERT_TRUE(v.broken.has_value());
    // The broken record is the one holding the byte (a changed newline may join it to the next).
    const auto line = static_cast<std::uint64_t>(std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(i), '\n')) + 1;
    ASSERT_TRUE(*v.broken == line || *v.broken == line + 1) << "byte " << i << ": record " << *v.broken << ", " << v.problem;
  }
}

TEST_P(AuditLogTest, RemovedInsertedRepeatedAndReorderedRecordsAreDetected) {
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
    EXPECT_EQ(verify(join(swapped)).broken, i + 1);
    auto doubled = lines;
    doubled.insert(doubled.begin() + static_cast<std::ptrdiff_t>(i + 1), lines[i]);
    EXPECT_FALSE(verify(join(doubled)).ok) << "record " << i + 1 << " repeated";
    EXPECT_EQ(verify(join(doubled)).broken, i + 2);
  }
}

TEST_P(AuditLogTest, RecordsCutFromTheEndNeedTheCheckpoint) {
  auto lines = lines_of(text_);
  lines.pop_back();
  const std::string cut = join(lines);
  EXPECT_TRUE(verify(cut).ok) << "without an anchor, a shorter chain is a valid chain";
  auto cp = read_audit_checkpoint(checkpoint_);
  ASSERT_TRUE(cp);
  AuditChainOptions anchored;
  anchored.expect_head = cp->first;
  anchored.expect_records = cp->second;
  const AuditVerdict v = verify_with({AuditFile{"log", cut}}, {&verifier_}, anchored);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("cut from the end"), std::string::npos) << v.problem;
  // The writer refuses a log behind its checkpoint.
  write_all(path_, cut);
  auto key = GetParam() == AuditAlg::ed25519 ? ed25519_key() : hmac_key(77);
  AuditLogOptions options;
  options.checkpoint = checkpoint_;
  if (GetParam() == AuditAlg::hmac_sha256) {
    auto reopened = AuditLog::open(path_, std::move(key), options);
    ASSERT_FALSE(reopened);
    EXPECT_NE(reopened.error().message.find("checkpoint"), std::string::npos) << reopened.error().message;
  }
}

TEST_P(AuditLogTest, ALastLineCutShortIsNamedAndStopsTheWriter) {
  const std::string cut = text_.substr(0, text_.size() - 5);
  const AuditVerdict v = verify(cut);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, records_);
  EXPECT_NE(v.problem.find("cut short"), std::string::npos) << v.problem;
  write_all(path_, cut);
  auto reopened = AuditLog::open(path_, hmac_key(77));
  ASSERT_FALSE(reopened);
  EXPECT_NE(reopened.error().message.find("cut short"), std::string::npos);
}

TEST_P(AuditLogTest, AnotherKeyOrAlgorithmDoesNotVerify) {
  const AuditKey other_hmac = hmac_key(78);
  const AuditKey other_ed = public_half(ed25519_key());
  for (const AuditKey* other : {&other_hmac, &other_ed}) {
    const AuditVerdict v = verify_one(text_, *other);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.broken, 1u);
    EXPECT_NE(v.problem.find(std::string(to_string(GetParam()))), std::string::npos) << v.problem;
  }
}

// ---- mixing algorithms or keys ------------------------------------------------------------

TEST(AuditLogMixing, TheFirstRecordOfAnotherAlgorithmOrKeyIsNamed) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  AuditKey hmac = hmac_key(5);
  {
    auto log = AuditLog::open(path, copy_of(hmac));
    ASSERT_TRUE(log);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append("received", {{"dump", "core"}}));
  }
  const std::string text = read_all(path);
  const std::string head = audit_line_hash(lines_of(text).back());
  // A fourth record signed with Ed25519 and a fifth with another HMAC key, both holding the
  // chain: the verifier holds every key, and still names the record that switched.
  AuditKey ed = ed25519_key();
  const std::string ed_line = make_line(ed, 4, "received", {{"dump", "x"}}, head);
  const AuditKey pub = public_half(ed);
  AuditVerdict v = verify_with({AuditFile{"log", text + ed_line + "\n"}}, {&hmac, &pub});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, 4u);
  EXPECT_NE(v.problem.find("mixes signature algorithms"), std::string::npos) << v.problem;
  AuditKey hmac2 = hmac_key(6);
  const std::string other_line = make_line(hmac2, 4, "received", {{"dump", "x"}}, head);
  v = verify_with({AuditFile{"log", text + other_line + "\n"}}, {&hmac, &hmac2});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, 4u);
  EXPECT_NE(v.problem.find("mixes keys"), std::string::npos) << v.problem;
  // The writer never continues a chain another key signed.
  auto wrong = AuditLog::open(path, copy_of(ed));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("rotate"), std::string::npos) << wrong.error().message;
  EXPECT_FALSE(AuditLog::open(path, hmac_key(6)));
  EXPECT_FALSE(AuditLog::open(path, public_half(ed))) << "a public key cannot sign";
}

TEST(AuditLogMixing, TheFirstWritersLinesStillVerifyAndContinue) {
  // The first writer's form: {"record":R,"sig":HMAC} without alg or key id.
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(9);
  std::string prev(kGenesisHash);
  std::string text;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    const nlohmann::ordered_json record = {{"seq", seq}, {"time", "2026-11-27T00:00:00Z"}, {"host", "h"}, {"version", "0"},
                                           {"event", "received"}, {"data", {{"dump", "core"}}}, {"prev", prev}};
    const std::string line = "{\"record\":" + record.dump() + ",\"sig\":\"" + *key.sign(record.dump()) + "\"}";
    text += line + "\n";
    prev = audit_line_hash(line);
  }
  write_all(path, text);
  EXPECT_TRUE(verify_one(text, key).ok);
  auto log = AuditLog::open(path, copy_of(key));
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE(log->append("released", {}));
  const AuditVerdict v = verify_one(read_all(path), key);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 4u);
  EXPECT_FALSE(AuditLog::open(path, hmac_key(10))) << "a legacy tail whose HMAC does not verify under the key";
}

TEST(AuditLogMixing, TheFirstWritersFormAfterANamedRecordIsARewrite) {
  // A log in today's form whose last record is rewritten without alg and key, signed again
  // with the same HMAC key: the signature holds, the form does not.
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(11);
  auto log = AuditLog::open(path, copy_of(key));
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE(log->append("received", {{"dump", "core.1"}}));
  ASSERT_TRUE(log->append("released", {{"dump", "core.1"}}));
  std::string text = read_all(path);
  ASSERT_TRUE(verify_one(text, key).ok);
  const std::size_t last = text.rfind('\n', text.size() - 2) + 1;
  const auto line = parse_audit_line(std::string_view(text).substr(last, text.size() - 1 - last));
  ASSERT_TRUE(line);
  const std::string record(line->record);
  text = text.substr(0, last) + "{\"record\":" + record + ",\"sig\":\"" + *key.sign(record) + "\"}\n";
  const AuditVerdict v = verify_one(text, key);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, 2u);
  EXPECT_NE(v.problem.find("first writer's form"), std::string::npos) << v.problem;
}

TEST(AuditLogAnchors, OneRecordAheadOfTheCheckpointIsSoundWithANote) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(12);
  auto log = AuditLog::open(path, copy_of(key));
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE(log->append("received", {{"dump", "core.1"}}));
  const std::string head_before = log->head();
  ASSERT_TRUE(log->append("released", {{"dump", "core.1"}}));
  const std::string text = read_all(path);
  const AuditKey* keys[] = {&key};
  AuditChainOptions behind;
  behind.expect_head = head_before;
  behind.expect_records = 1;
  const AuditVerdict v = verify_audit_files({AuditFile{path, text}}, keys, behind);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_NE(v.note.find("one record ahead"), std::string::npos) << v.note;
  AuditChainOptions wrong_head = behind;
  wrong_head.expect_head = std::string(kGenesisHash);
  EXPECT_FALSE(verify_audit_files({AuditFile{path, text}}, keys, wrong_head).ok) << "the checkpoint must name the record before";
  AuditChainOptions two_behind;
  two_behind.expect_head = std::string(kGenesisHash);
  two_behind.expect_records = 0;
  EXPECT_FALSE(verify_audit_files({AuditFile{path, text}}, keys, two_behind).ok);
}

// ---- rotation -----------------------------------------------------------------------------

std::vector<AuditFile> read_files(const std::vector<std::string>& paths) {
  std::vector<AuditFile> files;
  for (const auto& p : paths) files.push_back(AuditFile{p, read_all(p)});
  return files;
}

TEST(AuditLogRotation, SealedFilesChainAndAMissingMiddleFileIsNamed) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const std::string checkpoint = dir / "cp";
  const AuditKey key = hmac_key(11);
  AuditLogOptions options;
  options.checkpoint = checkpoint;
  auto log = AuditLog::open(path, copy_of(key), options);
  ASSERT_TRUE(log);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append("received", {{"dump", "core." + std::to_string(round * 3 + i)}}));
    auto r = log->rotate();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sealed_as, path + "." + std::to_string(round + 1));
    EXPECT_EQ(r->records, round == 0 ? 4u : 5u);  // the records, the seal, and (after the first) the opened
  }
  ASSERT_TRUE(log->append("released", {{"dump", "core.9"}}));
  const std::vector<std::string> paths = {path + ".1", path + ".2", path + ".3", path};
  auto cp = read_audit_checkpoint(checkpoint);
  ASSERT_TRUE(cp);
  AuditChainOptions anchored;
  anchored.expect_head = cp->first;
  anchored.expect_records = cp->second;
  AuditVerdict v = verify_with(read_files(paths), {&key}, anchored);
  EXPECT_TRUE(v.ok) << v.file << ": " << v.problem;
  EXPECT_EQ(v.records, 3u * 3 + 3 + 3 + 1);
  EXPECT_EQ(v.last_seq, cp->second);
  // --chain finds the same files from the live one.
  auto found = find_audit_chain(path);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->paths, paths);
  EXPECT_FALSE(found->missing);
  // Without the middle file: named at the next file's first record.
  v = verify_with(read_files({path + ".1", path + ".3", path}), {&key});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.file, path + ".3");
  EXPECT_EQ(v.broken, 1u);
  EXPECT_NE(v.problem.find("missing"), std::string::npos) << v.problem;
  EXPECT_NE(v.problem.find("audit.jsonl.2"), std::string::npos) << v.problem;
  fs::rename(path + ".2", dir / "elsewhere");
  found = find_audit_chain(path);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->missing);
  EXPECT_NE(found->missing->find("audit.jsonl.2 is missing"), std::string::npos) << *found->missing;
  fs::rename(dir / "elsewhere", path + ".2");
  // Out of order, a file given alone that continues another, a sealed file cut at its end.
  EXPECT_FALSE(verify_with(read_files({path + ".2", path + ".1", path + ".3", path}), {&key}).ok);
  v = verify_with(read_files({path}), {&key});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("--chain"), std::string::npos) << v.problem;
  AuditChainOptions continuing;
  continuing.opening_prev = audit_line_hash(lines_of(read_all(path + ".3")).back());
  EXPECT_TRUE(verify_with(read_files({path}), {&key}, continuing).ok);
  auto sealed_lines = lines_of(read_all(path + ".2"));
  sealed_lines.pop_back();
  auto files = read_files(paths);
  files[1].text = join(sealed_lines);
  v = verify_with(files, {&key});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.file, path + ".2");
  EXPECT_NE(v.problem.find("without a sealed record"), std::string::npos) << v.problem;
  // A record appended to a sealed file (signed, chained) is still refused.
  auto sealed = lines_of(read_all(path + ".1"));
  files = read_files(paths);
  files[0].text += make_line(key, 5, "received", {{"dump", "late"}}, audit_line_hash(sealed.back())) + "\n";
  v = verify_with(files, {&key});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken, 5u);
}

TEST(AuditLogRotation, ANewKeyIsNamedBySealAndAnUnnamedOneIsNot) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey old_key = hmac_key(12);
  AuditKey new_key = ed25519_key();
  const AuditKey new_pub = public_half(new_key);
  auto log = AuditLog::open(path, copy_of(old_key));
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append("received", {{"dump", "a"}}));
  auto r = log->rotate(copy_of(new_key));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(log->append("received", {{"dump", "b"}}));
  EXPECT_EQ(log->key().id(), new_key.id());
  const auto files = read_files({path + ".1", path});
  AuditVerdict v = verify_with(files, {&old_key, &new_pub});
  EXPECT_TRUE(v.ok) << v.problem;
  v = verify_with(files, {&old_key});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.file, path);
  EXPECT_EQ(v.broken, 1u);
  // The live file re-signed with a third key, its chain intact: the seal did not name that key.
  const AuditKey third = hmac_key(13);
  const auto live = lines_of(files[1].text);
  const auto first = parse_audit_record(parse_audit_line(live[0])->record);
  auto forged = files;
  forged[1].text = make_line(third, (*first)["seq"].get<std::uint64_t>(), "opened", (*first)["data"], (*first)["prev"].get<std::string>()) + "\n";
  v = verify_with(forged, {&old_key, &new_pub, &third});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("names key"), std::string::npos) << v.problem;
  // Reopening the live file with the old key is refused: it is the new key's now.
  EXPECT_FALSE(AuditLog::open(path, copy_of(old_key)));
  EXPECT_TRUE(AuditLog::open(path, copy_of(new_key)));
}

TEST(AuditLogRotation, MaxBytesRotatesAsItGoes) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(14);
  AuditLogOptions options;
  options.max_bytes = 2000;
  auto log = AuditLog::open(path, copy_of(key), options);
  ASSERT_TRUE(log);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(log->append("received", {{"dump", "core." + std::to_string(i)}}));
  auto found = find_audit_chain(path);
  ASSERT_TRUE(found);
  EXPECT_GT(found->paths.size(), 3u);
  for (const auto& p : found->paths) EXPECT_LT(fs::file_size(p), 2000u + 1000u) << p;
  const AuditVerdict v = verify_with(read_files(found->paths), {&key});
  EXPECT_TRUE(v.ok) << v.file << ": " << v.problem;
  EXPECT_EQ(v.last_seq, log->records());
}

// ---- a crash at each step of a rotation ---------------------------------------------------

class AuditLogCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "audit.jsonl";
    checkpoint_ = dir_ / "cp";
    options_.checkpoint = checkpoint_;
    auto log = AuditLog::open(path_, copy_of(key_), options_);
    ASSERT_TRUE(log);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append("received", {{"dump", "core." + std::to_string(i)}}));
    // Step 1 done, as rotate does it: the seal is an ordinary append.
    ASSERT_TRUE(log->append("sealed", {{"records", 3}, {"head", log->head()}}));
  }
  // Opening finishes the rotation; the chain then verifies across the two files.
  void expect_completed(const std::string& sealed_as) {
    auto log = AuditLog::open(path_, copy_of(key_), options_);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_TRUE(log->append("released", {{"dump", "core.9"}}));
    EXPECT_FALSE(fs::exists(path_ + ".opening"));
    EXPECT_FALSE(fs::exists(path_ + ".2")) << "one rotation, one rotated file";
    auto found = find_audit_chain(path_);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->paths, (std::vector<std::string>{sealed_as, path_}));
    auto cp = read_audit_checkpoint(checkpoint_);
    AuditChainOptions anchored;
    anchored.expect_head = cp->first;
    anchored.expect_records = cp->second;
    const AuditVerdict v = verify_with(read_files(found->paths), {&key_}, anchored);
    EXPECT_TRUE(v.ok) << v.file << ": " << v.problem;
    EXPECT_EQ(v.records, 6u);  // 3, sealed, opened, released
  }
  TempDir dir_;
  std::string path_, checkpoint_;
  AuditLogOptions options_;
  AuditKey key_ = hmac_key(15);
};

TEST_F(AuditLogCrash, AfterTheSeal) { expect_completed(path_ + ".1"); }

TEST_F(AuditLogCrash, AfterTheLink) {
  ASSERT_EQ(::link(path_.c_str(), (path_ + ".1").c_str()), 0);
  expect_completed(path_ + ".1");
}

TEST_F(AuditLogCrash, WhileWritingTheNextFile) {
  ASSERT_EQ(::link(path_.c_str(), (path_ + ".1").c_str()), 0);
  write_all(path_ + ".opening", "{\"record\":{\"seq\":5,");
  expect_completed(path_ + ".1");
}

TEST_F(AuditLogCrash, BeforeTheCheckpointOfTheOpenedRecord) {
  const std::string before = read_all(checkpoint_);
  {
    auto log = AuditLog::open(path_, copy_of(key_), options_);
    ASSERT_TRUE(log);  // completes the rotation
  }
  write_all(checkpoint_, before);  // as if the crash came before the checkpoint was written
  auto log = AuditLog::open(path_, copy_of(key_), options_);
  ASSERT_TRUE(log) << log.error().message << " (a checkpoint one record behind is a crash, not a loss)";
}

TEST_F(AuditLogCrash, ACheckpointTwoRecordsBehindOrAheadIsALoss) {
  auto log = AuditLog::open(path_, copy_of(key_), options_);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append("released", {{"dump", "x"}}));
  const std::string ahead = read_all(checkpoint_);
  ASSERT_TRUE(log->append("released", {{"dump", "y"}}));
  ASSERT_TRUE(log->append("released", {{"dump", "z"}}));
  const std::string live = read_all(checkpoint_);
  write_all(checkpoint_, ahead);
  EXPECT_FALSE(AuditLog::open(path_, copy_of(key_), options_)) << "two records behind";
  auto lines = lines_of(read_all(path_));
  lines.pop_back();
  write_all(checkpoint_, live);
  write_all(path_, join(lines));
  EXPECT_FALSE(AuditLog::open(path_, copy_of(key_), options_)) << "the log lost its last record";
}

TEST_F(AuditLogCrash, AMissingOrEmptiedLiveFileBesideRotatedOnesIsRefused) {
  {
    auto log = AuditLog::open(path_, copy_of(key_), options_);
    ASSERT_TRUE(log);
  }
  ASSERT_TRUE(fs::exists(path_ + ".1"));
  fs::remove(path_);
  auto missing = AuditLog::open(path_, copy_of(key_));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
  EXPECT_FALSE(fs::exists(path_)) << "nothing created";
  write_all(path_, "");
  auto emptied = AuditLog::open(path_, copy_of(key_));
  ASSERT_FALSE(emptied);
  EXPECT_NE(emptied.error().message.find("empty"), std::string::npos);
}

// ---- several processes, one log -----------------------------------------------------------

TEST(AuditLogShared, SeveralProcessesAppendAndRotateOneChain) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(16);
  AuditLogOptions options;
  options.max_bytes = 4000;
  options.checkpoint = dir / "cp";
  constexpr int kProcesses = 4;
  constexpr int kRecords = 25;
  // Every process opens the log before any writes: their heads are stale at once.
  std::vector<AuditLog> logs;
  for (int p = 0; p < kProcesses; ++p) {
    auto log = AuditLog::open(path, copy_of(key), options);
    ASSERT_TRUE(log);
    logs.push_back(std::move(*log));
  }
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failures = 0;
      for (int i = 0; i < kRecords; ++i) {
        if (!logs[static_cast<std::size_t>(p)].append("received", {{"dump", fmt::format("core.{}.{}", p, i)}})) ++failures;
      }
      _exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto found = find_audit_chain(path);
  ASSERT_TRUE(found);
  EXPECT_GT(found->paths.size(), 2u);
  auto cp = read_audit_checkpoint(options.checkpoint);
  ASSERT_TRUE(cp);
  AuditChainOptions anchored;
  anchored.expect_head = cp->first;
  anchored.expect_records = cp->second;
  const AuditVerdict v = verify_with(read_files(found->paths), {&key}, anchored);
  EXPECT_TRUE(v.ok) << v.file << ": " << v.problem;
  // Every appended record is there once, plus a sealed and an opened record per rotation.
  const std::uint64_t rotations = found->paths.size() - 1;
  EXPECT_EQ(v.records, kProcesses * kRecords + 2 * rotations);
}

// ---- syslog -------------------------------------------------------------------------------

TEST(AuditLogSyslog, EachRecordSendsTheHeadAndCount) {
  TempDir dir;
  const std::string socket_path = dir / "log.sock";
  const int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  ASSERT_EQ(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  AuditLogOptions options;
  options.syslog = true;
  options.syslog_socket = socket_path;
  auto log = AuditLog::open(dir / "audit.jsonl", hmac_key(17), options);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append("received", {{"dump", "a"}}));
  ASSERT_TRUE(log->append("received", {{"dump", "b"}}));
  std::string last;
  for (int i = 0; i < 2; ++i) {
    char buf[1024];
    const ssize_t n = ::recv(s, buf, sizeof(buf), MSG_DONTWAIT);
    ASSERT_GT(n, 0);
    last.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  EXPECT_EQ(last.rfind("<37>dumpguard[", 0), 0u) << last;
  EXPECT_NE(last.find("head " + log->head() + " records 2"), std::string::npos) << last;
}

// ---- the gate's two calls ------------------------------------------------------------------

TEST(AuditLogApi, TheFirstWritersCallsStillWorkAndAnEmptyLogCannotAppend) {
  // open(path, key bytes, checkpoint) and append(event, data), as the gate calls them; the
  // object copies and default-constructs as it did.
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const std::vector<std::uint8_t> bytes = test::seeded_bytes(32, 19);
  AuditLog log;
  EXPECT_FALSE(log.append("received", {{"dump", "x"}}));
  auto opened = AuditLog::open(path, bytes, dir / "cp");
  ASSERT_TRUE(opened) << opened.error().message;
  log = *opened;
  AuditLog copy = log;
  ASSERT_TRUE(log.append("received", {{"dump", "x"}}));
  ASSERT_TRUE(copy.append("released", {{"dump", "x"}})) << "a copy re-reads the head under the lock";
  const AuditKey key = hmac_key(19);
  const AuditVerdict v = verify_one(read_all(path), key);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 2u);
  // An Ed25519 private key's PEM bytes work in the same call.
  const AuditKey ed = ed25519_key();
  const std::string pem = *ed.private_file();
  auto ed_log = AuditLog::open(dir / "ed.jsonl", std::vector<std::uint8_t>(pem.begin(), pem.end()));
  ASSERT_TRUE(ed_log) << ed_log.error().message;
  ASSERT_TRUE(ed_log->append("received", {}));
  EXPECT_TRUE(verify_one(read_all(dir / "ed.jsonl"), public_half(ed)).ok);
  EXPECT_FALSE(AuditLog::open(dir / "short.jsonl", std::vector<std::uint8_t>(8, 1))) << "too short for HMAC";
}

// ---- the record's own form ------------------------------------------------------------------

TEST(AuditLogForm, HostileDataIsWrittenAsAsciiAndRecordsNestOnlySoDeep) {
  TempDir dir;
  const std::string path = dir / "audit.jsonl";
  const AuditKey key = hmac_key(18);
  auto log = AuditLog::open(path, copy_of(key));
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append("received", {{"dump", std::string("core\x1b[31m\xff\xfe.1")}}));
  ASSERT_TRUE(log->append("received", nlohmann::ordered_json::array({1, 2})));
  const std::string text = read_all(path);
  for (const char c : text) ASSERT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f));
  EXPECT_TRUE(verify_one(text, key).ok);
  std::string deep = "{\"seq\":1,\"time\":\"t\",\"host\":\"h\",\"version\":\"v\",\"event\":\"e\",\"prev\":\"" +
                     std::string(kGenesisHash) + "\",\"data\":{\"x\":" + std::string(100, '[') + std::string(100, ']') + "}}";
  EXPECT_FALSE(parse_audit_record(deep));
}

}  // namespace
}  // namespace dumpguard
