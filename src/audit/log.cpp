#include "audit/log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>

#include "io/path_names.hpp"
#include "io/unique_fd.hpp"
#include "io/staged_file.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

// The last (or first) line may be long (a findings summary), never this long: records are
// summaries, not dumps. A bound that does not come from the file.
constexpr std::size_t kMaxLine = std::size_t{16} << 20;
// Times the live file may be replaced under us (by other processes' rotations) in one append.
constexpr int kMaxRelock = 1000;


std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

std::string directory_of(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}


void fsync_directory(const std::string& path) {
  UniqueFd dir(::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

Result<std::string> pread_exact(int fd, std::uint64_t offset, std::size_t size, const std::string& path) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return os_error(fmt::format("cannot read audit log {}", path));
    got += static_cast<std::size_t>(n);
  }
  return out;
}

// The last line of a file of `size` bytes that ends with '\n' (without it).
Result<std::string> last_line(int fd, std::uint64_t size, const std::string& path) {
  for (std::size_t window = 64 << 10;; window *= 4) {
    const std::uint64_t from = size > window ? size - window : 0;
    DG_TRY(std::string tail, pread_exact(fd, from, static_cast<std::size_t>(size - from), path));
    tail.pop_back();  // the final '\n'
    const auto nl = tail.rfind('\n');
    if (nl != std::string::npos) return tail.substr(nl + 1);
    if (from == 0) return tail;
    if (window >= kMaxLine) return Error{Errc::limit, size, fmt::format("{}: the last record is longer than 16 MiB", path)};
  }
}

Result<std::string> first_line(int fd, std::uint64_t size, const std::string& path) {
  for (std::size_t window = 64 << 10;; window *= 4) {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size, window));
    DG_TRY(std::string head, pread_exact(fd, 0, take, path));
    const auto nl = head.find('\n');
    if (nl != std::string::npos) return head.substr(0, nl);
    if (take == size || window >= kMaxLine) return Error{Errc::bad_value, 0, fmt::format("{}: no complete first record", path)};
  }
}

// Rotated siblings of `path`: "NAME.N" in its directory, with N and the inode.
struct Sibling {
  std::uint64_t number;
  std::string path;
  dev_t dev;
  ino_t ino;
};

std::vector<Sibling> rotated_siblings(const std::string& path) {
  std::vector<Sibling> out;
  const std::string dir = directory_of(path);
  const std::string prefix = base_name(path) + ".";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.size() <= prefix.size() || name.size() > prefix.size() + 18 || name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view digits = name.substr(prefix.size());
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    const std::string full = dir + "/" + std::string(name);
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back(Sibling{n, full, st.st_dev, st.st_ino});
  }
  ::closedir(d);
  return out;
}

// A syslog datagram (RFC 3164 without a timestamp: rsyslog and journald add their own).
// Non-blocking: a stuck syslog never stops the log; the record itself is already durable.
void tell_syslog(const std::string& socket_path, const std::string& message) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  UniqueFd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return;
  // LOG_AUTH | LOG_NOTICE: where a site keeps (and ships off the host) its security records.
  const std::string datagram = fmt::format("<37>dumpguard[{}]: {}", ::getpid(), message);
  ::sendto(s.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
           sizeof(addr));
}

}  // namespace

// The live file, locked, and what its first and last lines say.
struct AuditLog::Locked {
  UniqueFd fd;  // flock'd; the lock goes with the descriptor
  std::uint64_t size = 0;
  std::uint64_t first_seq = 0;  // of this file; 0 when empty
  std::uint64_t last_seq = 0;
  std::string last_event;
  std::string last_prev;
  std::string last_key_id;      // the key that signed the last line (empty: the first writer's form)
  std::string announced_key;    // a sealed last record's next_key
  std::string head = std::string(kGenesisHash);
  dev_t dev = 0;
  ino_t ino = 0;
  std::uint64_t file_records() const { return size == 0 ? 0 : last_seq - first_seq + 1; }
};

Result<AuditLog> AuditLog::open(const std::string& path, std::vector<std::uint8_t> key, std::string checkpoint_path) {
  auto k = AuditKey::from_bytes(key, fmt::format("the key of audit log {}", path));
  std::fill(key.begin(), key.end(), std::uint8_t{0});
  if (!k) return k.error();
  AuditLogOptions options;
  options.checkpoint = std::move(checkpoint_path);
  return open(path, std::move(*k), std::move(options));
}

Result<AuditLog> AuditLog::open(const std::string& path, AuditKey key, AuditLogOptions options) {
  if (!key.can_sign()) {
    return Error{Errc::bad_value, 0, fmt::format("{}: an Ed25519 public key cannot sign records; give the private key", path)};
  }
  AuditLog log(std::move(key));
  log.path_ = path;
  log.options_ = std::move(options);
  DG_TRY(Locked live, log.lock_live());
  // The checkpoint was written after the record it names, so it may lag the log by one
  // record (a crash between the two), never more, and never lead it.
  if (!log.options_.checkpoint.empty() && ::access(log.options_.checkpoint.c_str(), F_OK) == 0) {
    DG_TRY(const auto cp, read_audit_checkpoint(log.options_.checkpoint));
    const bool current = cp.second == live.last_seq && cp.first == live.head;
    const bool one_behind = live.last_seq > 0 && cp.second + 1 == live.last_seq && cp.first == live.last_prev;
    if (!current && !one_behind) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{} ends at record {} (head {}), but its checkpoint {} says record {} (head {}): records "
                               "were lost or replaced, or the checkpoint is another log's; see `dumpguard audit verify`",
                               path, live.last_seq, live.head, log.options_.checkpoint, cp.second, cp.first)};
    }
  }
  log.head_ = live.head;
  log.count_ = live.last_seq;
  return log;
}

// Opens and locks the live file, re-opening it when another process rotated it while we waited
// for the lock, reads its ends, and completes a rotation a crash left half done.
Result<AuditLog::Locked> AuditLog::lock_live() {
  if (path_.empty()) return Error{Errc::bad_value, 0, "the audit log was not opened"};
  for (int attempt = 0; attempt < kMaxRelock; ++attempt) {
    struct stat st {};
    const bool existed = ::lstat(path_.c_str(), &st) == 0;
    if (existed && !S_ISREG(st.st_mode)) return Error{Errc::io, 0, fmt::format("audit log {}: not a regular file", path_)};
    if (!existed && !rotated_siblings(path_).empty()) {
      return Error{Errc::bad_value, 0,
                   fmt::format("audit log {} is missing, but rotated files of it exist: the live file was removed "
                               "(a rotation never leaves it missing); see `dumpguard audit verify --chain`",
                               path_)};
    }
    Locked live;
    live.fd = UniqueFd(::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (live.fd.get() < 0) return os_error(fmt::format("cannot open audit log {}", path_));
    if (!existed) fsync_directory(path_);  // the new file's name survives a crash too
    while (::flock(live.fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return os_error(fmt::format("cannot lock audit log {}", path_));
    }
    struct stat held {};
    struct stat named {};
    if (::fstat(live.fd.get(), &held) != 0) return os_error(fmt::format("cannot stat audit log {}", path_));
    if (::stat(path_.c_str(), &named) != 0 || named.st_ino != held.st_ino || named.st_dev != held.st_dev) {
      continue;  // rotated while we waited: lock the new live file
    }
    live.dev = held.st_dev;
    live.ino = held.st_ino;
    live.size = static_cast<std::uint64_t>(held.st_size);
    if (live.size == 0) {
      if (!rotated_siblings(path_).empty()) {
        return Error{Errc::bad_value, 0,
                     fmt::format("audit log {} is empty, but rotated files of it exist: it was emptied (a rotation "
                                 "never leaves it empty); see `dumpguard audit verify --chain`",
                                 path_)};
      }
      return live;
    }
    DG_TRY(const std::string end_byte, pread_exact(live.fd.get(), live.size - 1, 1, path_));
    if (end_byte != "\n") {
      return Error{Errc::bad_value, live.size,
                   fmt::format("{}: the last record is cut short; run `dumpguard audit verify`", path_)};
    }
    DG_TRY(const std::string last, last_line(live.fd.get(), live.size, path_));
    DG_TRY(const std::string first, first_line(live.fd.get(), live.size, path_));
    const auto parts = parse_audit_line(last);
    const auto record = parts ? parse_audit_record(parts->record) : std::nullopt;
    const auto first_parts = parse_audit_line(first);
    const auto first_record = first_parts ? parse_audit_record(first_parts->record) : std::nullopt;
    if (!record || !first_record) {
      return Error{Errc::bad_value, live.size,
                   fmt::format("{}: the {} record is not in the log's form; run `dumpguard audit verify`", path_,
                               record ? "first" : "last")};
    }
    live.first_seq = (*first_record)["seq"].get<std::uint64_t>();
    live.last_seq = (*record)["seq"].get<std::uint64_t>();
    live.last_event = (*record)["event"].get<std::string>();
    live.last_prev = (*record)["prev"].get<std::string>();
    live.last_key_id = std::string(parts->key_id);
    live.head = audit_line_hash(last);
    if (live.last_seq < live.first_seq) {
      return Error{Errc::bad_value, live.size, fmt::format("{}: the last record's number is below the first's", path_)};
    }
    const nlohmann::json& data = (*record)["data"];
    if (live.last_event == "sealed" && data.contains("next_key") && data["next_key"].is_string()) {
      live.announced_key = data["next_key"].get<std::string>();
    }
    // Never continue a chain another key signed: that would mix keys silently. The one way to
    // change keys is a rotation whose seal names the next key.
    const bool ours = parts->alg == key_.alg() ? parts->key_id == key_.id()
                                               : !parts->alg && key_.alg() == AuditAlg::hmac_sha256;
    const bool handed_to_us = live.last_event == "sealed" && live.announced_key == key_.id();
    if (!ours && !handed_to_us) {
      return Error{Errc::bad_value, live.size,
                   fmt::format("{}: the last record is signed with {} {}, not with this key ({} {}); to change keys, "
                               "rotate: `dumpguard audit rotate LOG --key OLD --new-key NEW`",
                               path_, to_string(parts->alg.value_or(AuditAlg::hmac_sha256)),
                               parts->key_id.empty() ? "(no key id)" : std::string(parts->key_id), to_string(key_.alg()),
                               key_.id())};
    }
    if (ours && !key_.verify(parts->record, parts->sig)) {
      return Error{Errc::bad_value, live.size,
                   fmt::format("{}: the last record's signature does not verify under this key: it was changed, or the "
                               "key is not the log's; run `dumpguard audit verify`",
                               path_)};
    }
    if (live.last_event == "sealed") {
      const bool next_is_ours = live.announced_key.empty() ? ours : handed_to_us;
      if (!next_is_ours) {
        return Error{Errc::unsupported, live.size,
                     fmt::format("{}: a rotation to key {} was left half done; open the log with that key to finish "
                                 "it (`dumpguard audit rotate LOG --key OLD --new-key NEW` again)",
                                 path_, live.announced_key)};
      }
      // A crash between sealing and opening the next file: finish the rotation, then lock the
      // new live file.
      std::optional<AuditKey> same;
      DG_TRY(finished_, rotate_locked(live, same));
      continue;
    }
    return live;
  }
  return Error{Errc::io, 0, fmt::format("audit log {}: the live file kept being replaced", path_)};
}

Result<std::string> make_audit_line(const AuditKey& key, std::uint64_t seq, const std::string& prev,
                                    const std::string& event, nlohmann::ordered_json data) {
  nlohmann::ordered_json record;
  record["seq"] = seq;
  record["time"] = audit_time_now();
  record["host"] = host_name();
  record["version"] = DUMPGUARD_VERSION;
  record["event"] = event;
  // The verifier requires an object: `append(event, {})` passes null.
  if (data.is_null()) data = nlohmann::ordered_json::object();
  if (!data.is_object()) data = nlohmann::ordered_json{{"value", std::move(data)}};
  record["data"] = std::move(data);
  record["prev"] = prev;
  // ASCII only, and bytes that are not UTF-8 (a hostile dump's file name) become U+FFFD
  // instead of an exception.
  const std::string body = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  DG_TRY(const std::string sig, key.sign(body));
  return fmt::format("{{\"record\":{},\"alg\":\"{}\",\"key\":\"{}\",\"sig\":\"{}\"}}", body, to_string(key.alg()),
                     key.id(), sig);
}

Status AuditLog::append_locked(Locked& live, const std::string& event, nlohmann::ordered_json data) {
  DG_TRY(const std::string line, make_audit_line(key_, live.last_seq + 1, live.head, event, std::move(data)));
  // One write: O_APPEND puts the whole line at the end; the lock keeps the chain one chain.
  const std::string out = line + "\n";
  const ssize_t written = ::write(live.fd.get(), out.data(), out.size());
  if (written != static_cast<ssize_t>(out.size()) || ::fsync(live.fd.get()) != 0) {
    return os_error(fmt::format("cannot append to audit log {}", path_));
  }
  if (live.size == 0) live.first_seq = live.last_seq + 1;
  live.size += out.size();
  live.last_seq += 1;
  live.last_event = event;
  live.last_prev = live.head;
  live.head = audit_line_hash(line);
  live.last_key_id = key_.id();
  head_ = live.head;
  count_ = live.last_seq;
  return after_record();
}

// Under the lock, so that the checkpoint is never older than another process's.
Status AuditLog::after_record() {
  if (!options_.checkpoint.empty()) {
    nlohmann::ordered_json cp = {{"head", head_}, {"records", count_}};
    DG_CHECK(write_file_atomically(options_.checkpoint, cp.dump() + "\n"));
  }
  if (options_.syslog) tell_syslog(options_.syslog_socket, fmt::format("audit {}: head {} records {}", path_, head_, count_));
  return ok_status();
}

Status AuditLog::append(const std::string& event, nlohmann::ordered_json data) {
  DG_TRY(Locked live, lock_live());
  DG_CHECK(append_locked(live, event, std::move(data)));
  if (options_.max_bytes > 0 && live.size >= options_.max_bytes) {
    std::optional<AuditKey> same;
    DG_TRY(const AuditRotation rotation, rotate_locked(live, same));
    (void)rotation;
  }
  return ok_status();
}

Result<AuditRotation> AuditLog::rotate(std::optional<AuditKey> next_key) {
  if (next_key && !next_key->can_sign()) {
    return Error{Errc::bad_value, 0, "the next key is an Ed25519 public key: give the private key"};
  }
  DG_TRY(Locked live, lock_live());
  return rotate_locked(live, next_key);
}

// Rotation, in this order (every step durable before the next):
//  1. append a `sealed` record {records, head[, next_key]} to LOG (fsync; checkpoint);
//  2. hard-link LOG to LOG.N, N one more than any rotated file's (link never overwrites), and
//     fsync the directory;
//  3. write the new file's `opened` record {previous: "LOG.N", head} (prev = the sealed file's
//     head) to LOG.opening, fsync;
//  4. rename LOG.opening over LOG, fsync the directory (checkpoint).
// LOG exists at every moment. A crash after 1 leaves LOG ending with `sealed`; after 2, LOG
// and LOG.N are one file ending with `sealed`; during 3, a stale LOG.opening. The next open or
// append sees the `sealed` last record and does 2 to 4 again, reusing an LOG.N that is already
// LOG's inode and overwriting LOG.opening. After 4 the checkpoint may lag one record, which
// open accepts.
Result<AuditRotation> AuditLog::rotate_locked(Locked& live, std::optional<AuditKey>& next_key) {
  if (live.size == 0) return Error{Errc::bad_value, 0, fmt::format("audit log {} is empty: nothing to seal", path_)};
  if (live.last_event != "sealed") {
    nlohmann::ordered_json data = {{"records", live.file_records()}, {"head", live.head}};
    if (next_key && next_key->id() != key_.id()) data["next_key"] = next_key->id();
    DG_CHECK(append_locked(live, "sealed", std::move(data)));
    if (next_key && next_key->id() != key_.id()) live.announced_key = next_key->id();
  }
  // The key that signs the next file: the one the seal named, which the caller holds.
  if (next_key) key_ = std::move(*next_key);
  next_key.reset();
  AuditRotation rotation;
  rotation.records = live.file_records();
  rotation.head = live.head;
  const auto siblings = rotated_siblings(path_);
  std::uint64_t highest = 0;
  for (const Sibling& s : siblings) {
    if (s.dev == live.dev && s.ino == live.ino) rotation.sealed_as = s.path;  // step 2 was done
    highest = std::max(highest, s.number);
  }
  for (std::uint64_t n = highest + 1; rotation.sealed_as.empty(); ++n) {
    if (n > highest + 1000) return Error{Errc::io, 0, fmt::format("cannot find a free rotated name for {}", path_)};
    const std::string name = fmt::format("{}.{}", path_, n);
    if (::link(path_.c_str(), name.c_str()) == 0) {
      rotation.sealed_as = name;
    } else if (errno != EEXIST) {
      return os_error(fmt::format("cannot link {} to {}", path_, name));
    }
  }
  fsync_directory(path_);
  const std::string opening = path_ + ".opening";
  {
    UniqueFd fd(::open(opening.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return os_error(fmt::format("cannot create {}", opening));
    Locked next;
    next.fd = std::move(fd);
    next.last_seq = live.last_seq;
    next.head = live.head;
    std::string saved_checkpoint;
    std::swap(saved_checkpoint, options_.checkpoint);  // the checkpoint follows the rename, not the temp file
    const bool saved_syslog = std::exchange(options_.syslog, false);
    Status opened = append_locked(next, "opened", {{"previous", base_name(rotation.sealed_as)}, {"head", live.head}});
    options_.checkpoint = std::move(saved_checkpoint);
    options_.syslog = saved_syslog;
    if (!opened) return opened.error();
  }
  DG_CHECK(rename_durably(opening, path_));
  DG_CHECK(after_record());
  return rotation;
}

std::string audit_time_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace dumpguard
