#include "gate/audit_trail.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <fmt/format.h>

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

Result<AuditTrail> AuditTrail::open(const std::string& log, const std::string& key_file, const std::string& checkpoint) {
  AuditTrail trail;
  trail.path_ = log;
  trail.checkpoint_ = checkpoint;
  std::vector<std::uint8_t> key(65);
  auto got = read_file_into(key_file, {reinterpret_cast<char*>(key.data()), key.size()});
  if (!got || *got < 16 || *got > 64) {
    OPENSSL_cleanse(key.data(), key.size());
    return Error{Errc::bad_value, 0, fmt::format("{}: not an audit key (16 to 64 bytes)", key_file)};
  }
  key.resize(*got);
  trail.key_ = std::move(key);
  trail.lock_ = UniqueFd(::open(log.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (trail.lock_.get() < 0) return os_error(fmt::format("cannot open audit log {}", log));
  // Opened once here so that a log that cannot be continued (its last line cut short) stops
  // the gate before it takes a dump.
  LogLock hold(trail.lock_.get());
  DG_CHECK(hold.take());
  DG_TRY(AuditLog opened, AuditLog::open(log, trail.key_, checkpoint));
  // The checkpoint is written after each record: a crash between the two leaves it one record
  // behind, and the next record brings it level. Any other difference means the log lost
  // records (or was replaced) since: the gate does not continue it.
  struct stat cp {};
  if (!checkpoint.empty() && stat(checkpoint.c_str(), &cp) == 0) {
    DG_TRY(const auto expected, read_audit_checkpoint(checkpoint));
    const bool level = expected.second == opened.records() && expected.first == opened.head();
    const bool one_behind = expected.second + 1 == opened.records();
    if (!level && !one_behind) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{} does not continue where its checkpoint {} says it ended ({} records there, {} "
                               "here): run `dumpguard audit verify --checkpoint`",
                               log, checkpoint, expected.second, opened.records())};
    }
  }
  trail.log_.emplace(std::move(opened));
  trail.size_after_last_append_ = size_of(trail.lock_.get());
  return trail;
}

AuditTrail::~AuditTrail() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

Status AuditTrail::record(const std::string& event, nlohmann::ordered_json data) {
  LogLock hold(lock_.get());
  DG_CHECK(hold.take());
  // Another gate appended since: continue its head, not ours.
  if (size_of(lock_.get()) != size_after_last_append_) {
    DG_TRY(AuditLog reopened, AuditLog::open(path_, key_, checkpoint_));
    log_.emplace(std::move(reopened));
  }
  DG_CHECK(log_->append(event, std::move(data)));
  size_after_last_append_ = size_of(lock_.get());
  return ok_status();
}

}  // namespace dumpguard
