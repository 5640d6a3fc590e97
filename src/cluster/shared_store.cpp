#include "cluster/shared_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <vector>

#include "cluster/s3_store.hpp"
#include "crypto/digest.hpp"
#include "gate/durable_files.hpp"
#include "io/unique_fd.hpp"
#include "io/path_names.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kChunk = 1u << 20;

// A new temporary file in `dir`, mode 0600, and its path.
Result<std::pair<UniqueFd, std::string>> temporary_in(const std::string& dir) {
  std::string path = dir + "/.incoming-XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return os_error(fmt::format("cannot create a file in {}", dir));
  ::fchmod(fd, 0600);
  return std::make_pair(UniqueFd(fd), path);
}

// The directory every worker mounts. Each dump is a file named by its SHA-256.
class SharedDirectory final : public SharedStore {
 public:
  explicit SharedDirectory(std::string dir) : dir_(std::move(dir)) {}

  Result<WorkItem> put(const std::string& path) override {
    DG_TRY(const UniqueFd in, open_to_store(path));
    DG_TRY(auto temp, temporary_in(dir_));
    auto copied = copy_hashing(in.get(), temp.first.get(), path);
    if (!copied) {
      ::unlink(temp.second.c_str());
      return copied.error();
    }
    WorkItem item{copied->second, copied->first, safe_submitted_name(path)};
    const std::string final_path = where(item.sha256);
    // link(2) never replaces: a name already there holds the same bytes (it is their SHA-256).
    const bool linked = ::link(temp.second.c_str(), final_path.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(temp.second.c_str());
    if (!linked && link_errno != EEXIST) {
      errno = link_errno;
      return os_error(fmt::format("cannot store {} as {}", path, final_path));
    }
    DG_CHECK(fsync_at(AT_FDCWD, dir_));
    return item;
  }

  Result<bool> get(const WorkItem& item, const std::string& dest) override {
    const std::string from = where(item.sha256);
    UniqueFd in(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (in.get() < 0) {
      if (errno == ENOENT) return false;
      return os_error(fmt::format("cannot open {}", from));
    }
    struct stat st {};
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Error{Errc::bad_value, 0, fmt::format("{}: not a regular file", from)};
    }
    UniqueFd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.get() < 0) return os_error(fmt::format("cannot create {}", dest));
    auto copied = copy_hashing(in.get(), out.get(), from);
    if (!copied || copied->first != item.size || copied->second != item.sha256) {
      ::unlink(dest.c_str());
      if (!copied) return copied.error();
      return Error{Errc::bad_value, 0, changed_in_store(from)};
    }
    DG_CHECK(fsync_at(AT_FDCWD, parent_of(dest)));
    return true;
  }

  Status remove(const WorkItem& item) override {
    const std::string path = where(item.sha256);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return os_error(fmt::format("cannot remove {}", path));
    return fsync_at(AT_FDCWD, dir_);
  }

  Status check() override { return ok_status(); }
  std::string where(const std::string& sha256) const override { return dir_ + "/" + sha256; }
  std::string name() const override { return dir_; }
  std::string directory() const override { return dir_; }

 private:
  std::string dir_;
};

}  // namespace

Result<std::pair<std::uint64_t, std::string>> copy_hashing(int from, int to, const std::string& what) {
  std::vector<char> buffer(kChunk);
  Sha256Stream hash;
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(from, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(fmt::format("cannot read {}", what));
    if (n == 0) break;
    hash.update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer.data()), static_cast<std::size_t>(n)));
    for (ssize_t done = 0; to >= 0 && done < n;) {
      const ssize_t w = ::write(to, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return os_error(fmt::format("cannot write the copy of {}", what));
      done += w;
    }
    total += static_cast<std::uint64_t>(n);
  }
  if (to >= 0 && ::fsync(to) != 0) return os_error(fmt::format("cannot fsync the copy of {}", what));
  return std::make_pair(total, hash.finish());
}

Result<UniqueFd> open_to_store(const std::string& path) {
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (in.get() < 0 || ::fstat(in.get(), &st) != 0) return os_error(fmt::format("cannot open {}", path));
  if (!S_ISREG(st.st_mode)) return Error{Errc::bad_value, 0, fmt::format("{}: not a regular file", path)};
  return in;
}

std::string changed_in_store(const std::string& where) {
  return fmt::format("{}: its size or SHA-256 is not the one its reference names (changed in the shared store)", where);
}

bool is_s3_location(std::string_view location) { return location.substr(0, 5) == "s3://"; }

Result<std::unique_ptr<SharedStore>> open_shared_store(const SharedStoreOptions& options) {
  if (is_s3_location(options.location)) return open_s3_store(options.location, options.s3);
  if (options.s3.given()) {
    return Error{Errc::bad_value, 0,
                 fmt::format("--shared-store {} is a directory: the --s3-* options are for an s3:// store",
                             options.location)};
  }
  struct stat st {};
  if (::stat(options.location.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{Errc::bad_value, 0, fmt::format("--shared-store {} is not a directory", options.location)};
  }
  return std::unique_ptr<SharedStore>(std::make_unique<SharedDirectory>(options.location));
}

}  // namespace dumpguard
