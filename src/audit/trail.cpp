#include "audit/trail.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <fmt/format.h>

#include "crypto/digest.hpp"
#include "audit/chain.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {
// Holds the log's flock for one append.
class LogLock {
 public:
  explicit LogLock(int fd) : fd_(fd) {}
  LogLock(const LogLock&) = delete;
  LogLock& operator=(const LogLock&) = delete;
  ~LogLock() { flock(fd_, LOCK_UN); }
  Status take() {
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return os_error("cannot lock the audit log");
    }
    return ok_status();
  }

 private:
  int fd_;
};

std::int64_t size_of(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}
}  // namespace

namespace {

// The end of the log: its size, how many bytes end with its last newline, and the last whole line.
struct LogEnd {
  std::uint64_t size = 0;
  std::uint64_t whole = 0;
  std::string last_line;
};

Result<LogEnd> read_log_end(int fd, const std::string& path) {
  LogEnd end;
  end.size = static_cast<std::uint64_t>(std::max<std::int64_t>(size_of(fd), 0));
  // Records are small (summaries, never dumps): the last whole one is within the last 1 MiB,
  // or the log is not in its form and AuditLog::open says so.
  const std::uint64_t from = end.size > (1u << 20) ? end.size - (1u << 20) : 0;
  std::string tail(end.size - from, '\0');
  if (pread(fd, tail.data(), tail.size(), static_cast<off_t>(from)) != static_cast<ssize_t>(tail.size())) {
    return os_error(fmt::format("cannot read audit log {}", path));
  }
  const auto last_newline = tail.rfind('\n');
  if (last_newline == std::string::npos) {
    end.whole = from;
    return end;
  }
  end.whole = from + last_newline + 1;
  const auto before = last_newline == 0 ? std::string::npos : tail.rfind('\n', last_newline - 1);
  const std::size_t start = before == std::string::npos ? 0 : before + 1;
  end.last_line = tail.substr(start, last_newline - start);
  return end;
}

}  // namespace

Result<AuditTrail> AuditTrail::open(const std::string& log, const std::string& key_file, const std::string& checkpoint,
                                    const std::string& syslog_socket) {
  AuditTrail trail;
  trail.path_ = log;
  trail.checkpoint_ = checkpoint;
  // The key file as `audit keygen` writes it: an HMAC secret, or an Ed25519 private key (PEM).
  std::vector<std::uint8_t> key(16u << 10);
  auto got = read_file_into(key_file, {reinterpret_cast<char*>(key.data()), key.size()});
  if (!got) {
    OPENSSL_cleanse(key.data(), key.size());
    return Error{Errc::bad_value, 0, fmt::format("{}: cannot read the audit key", key_file)};
  }
  key.resize(*got);
  if (auto checked = AuditKey::from_bytes(key, key_file); !checked) {
    OPENSSL_cleanse(key.data(), key.size());
    return checked.error();
  }
  trail.key_ = std::move(key);
  trail.lock_ = UniqueFd(::open(log.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (trail.lock_.get() < 0) return os_error(fmt::format("cannot open audit log {}", log));
  // The repair below runs under the log's flock, so two gates starting together repair once.
  // It is released before AuditLog::open, which takes the same lock for itself (flock locks
  // of two descriptors conflict even within one process).
  std::optional<LogLock> hold(std::in_place, trail.lock_.get());
  DG_CHECK(hold->take());

  // Where the log ends, against its checkpoint (written after each whole record). Two states
  // are what kill -9 leaves, and the gate continues from them:
  // - the checkpoint one record behind: the gate died between a record and its checkpoint;
  // - bytes after the last newline: a record torn in its write (the kernel stops a write
  //   between pages when SIGKILL arrives). It was never a whole record, and the checkpoint
  //   does not count it: it is cut off, kept beside the log, and a "repaired" record says so.
  // Anything else (records missing since the checkpoint, another head) is refused.
  DG_TRY(const LogEnd end, read_log_end(trail.lock_.get(), log));
  std::string head(kGenesisHash);
  std::uint64_t records = 0;
  std::string prev;
  if (!end.last_line.empty()) {
    const auto& line = end.last_line;
    head = hex(sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(line.data()), line.size())));
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("record") && parsed["record"].is_object()) {
      const auto& r = parsed["record"];
      if (r.contains("seq") && r["seq"].is_number_unsigned()) records = r["seq"].get<std::uint64_t>();
      if (r.contains("prev") && r["prev"].is_string()) prev = r["prev"].get<std::string>();
    }
  }
  const bool torn = end.size > end.whole;
  bool behind = false;
  struct stat cp {};
  if (!checkpoint.empty() && stat(checkpoint.c_str(), &cp) == 0) {
    DG_TRY(const auto expected, read_audit_checkpoint(checkpoint));
    const bool level = expected.second == records && expected.first == head;
    behind = expected.second + 1 == records && expected.first == prev;
    if (!level && !behind) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{} does not continue where its checkpoint {} says it ended ({} records there, {} "
                               "here): run `dumpguard audit verify --checkpoint`",
                               log, checkpoint, expected.second, records)};
    }
  } else if (torn) {
    return Error{Errc::bad_value, end.whole,
                 fmt::format("{}: the last record is cut short, and no checkpoint says where the log ended: run "
                             "`dumpguard audit verify`",
                             log)};
  }
  nlohmann::ordered_json repaired;
  if (torn) {
    const std::string kept = fmt::format("{}.torn-{}", log, end.whole);
    std::string bytes(end.size - end.whole, '\0');
    if (pread(trail.lock_.get(), bytes.data(), bytes.size(), static_cast<off_t>(end.whole)) !=
        static_cast<ssize_t>(bytes.size())) {
      return os_error(fmt::format("cannot read audit log {}", log));
    }
    DG_CHECK(write_file_atomically(kept, bytes));
    UniqueFd writable(::open(log.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (writable.get() < 0 || ftruncate(writable.get(), static_cast<off_t>(end.whole)) != 0 || fsync(writable.get()) != 0) {
      return os_error(fmt::format("cannot cut the torn record off audit log {}", log));
    }
    repaired = {{"torn_at", end.whole},
                {"bytes", bytes.size()},
                {"sha256", hex(sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                                                    bytes.size())))},
                {"kept_in", kept}};
  }
  if (behind) {
    // Level again before the next record, or a second crash would leave it two behind. The
    // same form AuditLog::append writes.
    const nlohmann::ordered_json level = {{"head", head}, {"records", records}};
    DG_CHECK(write_file_atomically(checkpoint, level.dump() + "\n"));
  }
  hold.reset();
  AuditLogOptions options;
  options.checkpoint = checkpoint;
  options.syslog = !syslog_socket.empty();
  if (options.syslog) options.syslog_socket = syslog_socket;
  DG_TRY(AuditKey signing, AuditKey::from_bytes(trail.key_, key_file));
  DG_TRY(AuditLog opened, AuditLog::open(log, std::move(signing), std::move(options)));
  trail.log_.emplace(std::move(opened));
  if (torn) DG_CHECK(trail.log_->append("repaired", std::move(repaired)));
  return trail;
}

AuditTrail::~AuditTrail() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

// AuditLog::append takes the log's flock and rereads its last line, so the records of every
// gate sharing the log form one chain.
Status AuditTrail::record(const std::string& event, nlohmann::ordered_json data) {
  if (sink_) return sink_->append(event, std::move(data));
  return log_->append(event, std::move(data));
}

AuditTrail AuditTrail::to_sink(std::unique_ptr<AuditSink> sink) {
  AuditTrail trail;
  trail.path_ = sink->where();
  trail.sink_ = std::move(sink);
  return trail;
}

Result<std::optional<nlohmann::json>> AuditTrail::find_sound(
    const std::string& event, const std::function<bool(const nlohmann::json&)>& match) const {
  if (sink_) return sink_->find_sound(event, match);
  // The live file and the one sealed before it, if any: a rotation between a dump's `redacted`
  // record and its release leaves the record in the sealed file.
  DG_TRY(const AuditChainFiles chain, find_audit_chain(path_));
  std::vector<AuditFile> files;
  const std::size_t from = chain.paths.size() > 2 ? chain.paths.size() - 2 : 0;
  for (std::size_t i = from; i < chain.paths.size(); ++i) {
    DG_TRY(std::string text, read_audit_file(chain.paths[i]));
    files.push_back(AuditFile{chain.paths[i], std::move(text)});
  }
  if (files.empty()) return std::optional<nlohmann::json>();
  DG_TRY(const AuditKey key, AuditKey::from_bytes(key_, "the audit key"));
  return find_sound_record(files, key, event, match);
}

}  // namespace dumpguard
