#include "serve/retention.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <vector>

#include "crypto/digest.hpp"
#include "gate/directory_store.hpp"
#include "gate/names.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {
std::string utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}
}  // namespace

bool past_retention(const struct stat& st, double retention_days, std::time_t now) {
  if (retention_days <= 0) return false;
  const double age = static_cast<double>(now - st.st_mtim.tv_sec);
  return age > retention_days * 86400.0;
}

Result<std::string> sha256_of_fd(int fd) {
  Sha256Stream hash;
  std::vector<std::byte> buffer(1u << 16);
  off_t at = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error("cannot read the dump");
    if (n == 0) break;
    hash.update(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
    at += n;
  }
  return hash.finish();
}

Result<bool> expire_dump(int dir_fd, const std::string& name, double retention_days, const AuditRecorder& record) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return false;  // gone meanwhile, or a symlink: not a dump of ours
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (!past_retention(st, retention_days, std::time(nullptr))) return false;
  DG_TRY(const std::string digest, sha256_of_fd(fd.get()));
  nlohmann::ordered_json data;
  data["dump"] = printable(name);
  data["sha256"] = digest;
  data["size"] = static_cast<std::uint64_t>(st.st_size);
  data["released"] = utc_time(st.st_mtim.tv_sec);
  data["retention_days"] = retention_days;
  if (!record("expired", std::move(data))) return Error{Errc::io, 0, "the audit log cannot be written; nothing was deleted"};
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return os_error(fmt::format("cannot delete the expired dump {}", printable(name)));
  }
  ::fsync(dir_fd);
  return true;
}

Result<std::uint64_t> expire_release(int dir_fd, double retention_days, const AuditRecorder& record) {
  if (retention_days <= 0) return std::uint64_t{0};
  // A second descriptor for readdir: fdopendir takes ownership of the one it is given.
  const int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) return os_error("cannot list the release directory");
  DIR* dir = ::fdopendir(list_fd);
  if (dir == nullptr) {
    ::close(list_fd);
    return os_error("cannot list the release directory");
  }
  std::vector<std::string> candidates;
  const std::time_t now = std::time(nullptr);
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (DirectoryStore::skipped_name(name)) continue;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    if (past_retention(st, retention_days, now)) candidates.push_back(name);
  }
  ::closedir(dir);
  std::uint64_t deleted = 0;
  for (const auto& name : candidates) {
    DG_TRY(const bool gone, expire_dump(dir_fd, name, retention_days, record));
    if (gone) ++deleted;
  }
  return deleted;
}

}  // namespace dumpguard
