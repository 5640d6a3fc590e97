#include "cluster/once_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <vector>

#include "crypto/digest.hpp"
#include "gate/durable_files.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

Result<std::string> file_sha256(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{Errc::io, 0, fmt::format("cannot read {}", path)};
  }
  std::vector<char> buffer(1u << 20);
  Sha256Stream hash;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) return os_error(fmt::format("cannot read {}", path));
    if (n == 0) break;
    hash.update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer.data()), static_cast<std::size_t>(n)));
  }
  return hash.finish();
}

// The file to compare: the file itself, or for a quarantine package (a directory) the original
// inside it, which has the package's name.
std::string content_of(const std::string& path, const std::string& name) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + "/" + name;
  return path;
}

}  // namespace

Result<bool> OnceStore::put(const std::string& local, const std::string& name) {
  DG_TRY(const bool stored, inner_.put(local, name));
  if (stored) {
    published_[name] = true;
    return true;
  }
  const std::string there = inner_.where() + "/" + name;
  DG_TRY(const std::string ours, file_sha256(content_of(local, name)));
  DG_TRY(const std::string theirs, file_sha256(content_of(there, name)));
  if (ours != theirs) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} already holds another file under this dump's name (SHA-256 {}, not {}): workers must "
                             "run with the same options; nothing was published",
                             there, theirs, ours)};
  }
  // Published before, by a worker that died before its verdict was recorded: the same bytes.
  DG_CHECK(remove_tree(local));
  published_[name] = true;
  return true;
}

}  // namespace dumpguard
