#include "cluster/shared_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <vector>

#include "crypto/digest.hpp"
#include "gate/durable_files.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kChunk = 1u << 20;

// Copies all of `from` to `to`, hashing it; the number of bytes and the hex SHA-256.
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
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return os_error(fmt::format("cannot write the copy of {}", what));
      done += w;
    }
    total += static_cast<std::uint64_t>(n);
  }
  if (::fsync(to) != 0) return os_error(fmt::format("cannot fsync the copy of {}", what));
  return std::make_pair(total, hash.finish());
}

// A new temporary file in `dir`, mode 0600, and its path.
Result<std::pair<UniqueFd, std::string>> temporary_in(const std::string& dir) {
  std::string path = dir + "/.incoming-XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return os_error(fmt::format("cannot create a file in {}", dir));
  ::fchmod(fd, 0600);
  return std::make_pair(UniqueFd(fd), path);
}

}  // namespace

std::string shared_store_path(const std::string& store, const std::string& sha256) { return store + "/" + sha256; }

Result<WorkItem> copy_into_shared_store(const std::string& store, const std::string& path) {
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (in.get() < 0 || ::fstat(in.get(), &st) != 0) return os_error(fmt::format("cannot open {}", path));
  if (!S_ISREG(st.st_mode)) return Error{Errc::bad_value, 0, fmt::format("{}: not a regular file", path)};
  DG_TRY(auto temp, temporary_in(store));
  auto copied = copy_hashing(in.get(), temp.first.get(), path);
  if (!copied) {
    ::unlink(temp.second.c_str());
    return copied.error();
  }
  WorkItem item{copied->second, copied->first, safe_submitted_name(path)};
  const std::string final_path = shared_store_path(store, item.sha256);
  // link(2) never replaces: a name already there holds the same bytes (it is their SHA-256).
  const bool linked = ::link(temp.second.c_str(), final_path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.second.c_str());
  if (!linked && link_errno != EEXIST) {
    errno = link_errno;
    return os_error(fmt::format("cannot store {} as {}", path, final_path));
  }
  DG_CHECK(fsync_at(AT_FDCWD, store));
  return item;
}

Result<bool> copy_out_of_shared_store(const std::string& store, const WorkItem& item, const std::string& dest) {
  const std::string from = shared_store_path(store, item.sha256);
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
    return Error{Errc::bad_value, 0,
                 fmt::format("{}: its size or SHA-256 is not the one its reference names (changed in the shared store)",
                             from)};
  }
  DG_CHECK(fsync_at(AT_FDCWD, parent_of(dest)));
  return true;
}

}  // namespace dumpguard
