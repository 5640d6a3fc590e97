#include "gate/private_path.hpp"

#include "io/whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <vector>

namespace dumpguard {

namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < path.size()) {
    const std::size_t slash = path.find('/', at);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > at) out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::string mode_text(const struct stat& st) { return fmt::format("{:04o}", st.st_mode & 07777); }

// Others may rename entries of a directory they can write, unless it is sticky (unlink(2),
// rename(2): in a sticky directory only the entry's owner, the directory's owner or root may).
Status check_step(const struct stat& st, const std::string& shown) {
  const uid_t me = geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} belongs to uid {}, neither root nor the gate's user (uid {}), who could replace "
                             "what is below it",
                             shown, st.st_uid, me)};
  }
  if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} can be written by others (mode {}), who could rename what is below it and put "
                             "their own in its place",
                             shown, mode_text(st))};
  }
  return ok_status();
}

}  // namespace

Result<UniqueFd> open_private_dir(const std::string& path) {
  if (path.empty() || path.front() != '/') return Error{Errc::bad_value, 0, fmt::format("{} is not absolute", path)};
  const std::vector<std::string> parts = components(path);
  UniqueFd at(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (at.get() < 0) return os_error("cannot open /");
  std::string shown = "/";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part == "." || part == "..") return Error{Errc::bad_value, 0, fmt::format("{}: \".\" or \"..\" in the path", path)};
    struct stat st {};
    if (fstat(at.get(), &st) != 0) return os_error(fmt::format("cannot stat {}", shown));
    DG_CHECK(check_step(st, shown));
    const bool last = i + 1 == parts.size();
    if (last && mkdirat(at.get(), part.c_str(), 0700) != 0 && errno != EEXIST) {
      return os_error(fmt::format("cannot create {}", path));
    }
    const std::string next_shown = shown == "/" ? "/" + part : shown + "/" + part;
    // O_NOFOLLOW with O_DIRECTORY: a symbolic link fails with ENOTDIR or ELOOP, never followed.
    UniqueFd next(openat(at.get(), part.c_str(),
                         (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      struct stat link {};
      if (fstatat(at.get(), part.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode)) {
        return Error{Errc::bad_value, 0,
                     fmt::format("{} is a symbolic link; the gate's own directories are reached without one "
                                 "(name the real directory)",
                                 next_shown)};
      }
      return os_error(fmt::format("cannot open {}", next_shown));
    }
    at = std::move(next);
    shown = next_shown;
  }
  struct stat st {};
  if (fstat(at.get(), &st) != 0) return os_error(fmt::format("cannot stat {}", path));
  if (st.st_uid != geteuid()) {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} belongs to uid {}, not to the gate's user (uid {}): someone else made it", path,
                             st.st_uid, geteuid())};
  }
  if ((st.st_mode & 07777) != 0700 && fchmod(at.get(), 0700) != 0) return os_error(fmt::format("cannot chmod {}", path));
  return at;
}

Result<bool> lies_within(const std::string& path, const std::string& dir) {
  struct stat target {};
  if (stat(dir.c_str(), &target) != 0) {
    if (errno != ENOENT) return os_error(fmt::format("cannot stat {}", dir));
    // Neither is made yet: only the spelling can tell (both are absolute and normalised).
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
  }
  // The deepest directory of `path` that exists: a directory yet to be made lies where it would be.
  std::string existing = path;
  UniqueFd fd;
  for (int step = 0; step < 4096; ++step) {
    fd = UniqueFd(open(existing.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) break;
    if (errno != ENOENT || existing.empty() || existing == "/") return os_error(fmt::format("cannot open {}", existing));
    const auto slash = existing.rfind('/');
    existing = slash == std::string::npos ? "." : slash == 0 ? "/" : existing.substr(0, slash);
  }
  if (fd.get() < 0) return os_error(fmt::format("cannot open {}", existing));
  for (int step = 0; step < 4096; ++step) {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return os_error(fmt::format("cannot stat a directory above {}", path));
    if (st.st_dev == target.st_dev && st.st_ino == target.st_ino) return true;
    UniqueFd up(openat(fd.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (up.get() < 0) return os_error(fmt::format("cannot open a directory above {}", path));
    struct stat above {};
    if (fstat(up.get(), &above) != 0) return os_error(fmt::format("cannot stat a directory above {}", path));
    if (above.st_dev == st.st_dev && above.st_ino == st.st_ino) return false;  // the root
    fd = std::move(up);
  }
  return Error{Errc::limit, 0, fmt::format("{}: more than 4096 directories deep", path)};
}

}  // namespace dumpguard
