#include "gate/durable_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

Result<RenameResult> rename_no_replace(int from_dir, const std::string& from, int to_dir, const std::string& to) {
  if (renameat2(from_dir, from.c_str(), to_dir, to.c_str(), RENAME_NOREPLACE) == 0) return RenameResult::done;
  if (errno == EEXIST) return RenameResult::exists;
  if (errno == ENOENT) return RenameResult::missing;
  if (errno == EXDEV) return RenameResult::cross_device;
  if (errno != EINVAL && errno != ENOSYS) return os_error(fmt::format("cannot rename {} to {}", from, to));
  // No RENAME_NOREPLACE on this file system (some network file systems).
  struct stat st {};
  if (fstatat(from_dir, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return RenameResult::missing;
    return os_error(fmt::format("cannot stat {}", from));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (linkat(from_dir, from.c_str(), to_dir, to.c_str(), 0) != 0) {
      if (errno == EEXIST) return RenameResult::exists;
      if (errno == EXDEV) return RenameResult::cross_device;
      return os_error(fmt::format("cannot link {} to {}", from, to));
    }
    if (unlinkat(from_dir, from.c_str(), 0) != 0) return os_error(fmt::format("cannot unlink {}", from));
    return RenameResult::done;
  }
  if (fstatat(to_dir, to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return RenameResult::exists;
  if (renameat(from_dir, from.c_str(), to_dir, to.c_str()) != 0) {
    if (errno == EXDEV) return RenameResult::cross_device;
    if (errno == EEXIST || errno == ENOTEMPTY) return RenameResult::exists;
    return os_error(fmt::format("cannot rename {} to {}", from, to));
  }
  return RenameResult::done;
}

Status fsync_at(int dir, const std::string& path) {
  UniqueFd fd(openat(dir, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) return os_error(fmt::format("cannot open {} to fsync it", path));
  if (fsync(fd.get()) != 0) return os_error(fmt::format("cannot fsync {}", path));
  return ok_status();
}

namespace {
// Depth-bounded: the gate's own directories are two levels deep.
Status remove_below(int parent, const std::string& name, int depth) {
  struct stat st {};
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? ok_status() : os_error(fmt::format("cannot stat {}", name));
  }
  if (S_ISDIR(st.st_mode)) {
    if (depth > 8) return Error{Errc::limit, 0, fmt::format("{}: nested too deep to remove", name)};
    const int fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return os_error(fmt::format("cannot open {}", name));
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) {
      close(fd);
      return os_error(fmt::format("cannot read {}", name));
    }
    std::vector<std::string> names;
    while (const dirent* e = readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    }
    Status status = ok_status();
    for (const std::string& child : names) {
      if (Status s = remove_below(dirfd(dir), child, depth + 1); !s && status) status = s;
    }
    closedir(dir);
    if (!status) return status;
    if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return os_error(fmt::format("cannot remove {}", name));
    }
    return ok_status();
  }
  if (unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT) return os_error(fmt::format("cannot remove {}", name));
  return ok_status();
}
}  // namespace

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Status remove_tree(const std::string& path) {
  const std::string dir = parent_of(path);
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno == ENOENT ? ok_status() : os_error(fmt::format("cannot open {}", dir));
  return remove_below(fd.get(), base_name(path), 0);
}

Status make_private_dir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return os_error(fmt::format("cannot create {}", path));
  struct stat st {};
  // stat, not lstat: a release directory configured as a symlink is the administrator's choice;
  // the gate's own subdirectories are made here, in directories nobody else can write.
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{Errc::io, 0, fmt::format("{} is not a directory", path)};
  }
  if ((st.st_mode & 07777) != 0700 && chmod(path.c_str(), 0700) != 0) return os_error(fmt::format("cannot chmod {}", path));
  return ok_status();
}


}  // namespace dumpguard
