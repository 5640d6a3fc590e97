#include "gate/directory_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <vector>

#include "gate/durable_files.hpp"
#include "gate/names.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

std::vector<std::string> names_in(int dir_fd) {
  std::vector<std::string> names;
  const int fd = dup(dir_fd);
  if (fd < 0) return names;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    close(fd);
    return names;
  }
  rewinddir(dir);  // the duplicate shares its offset with dir_fd
  while (const dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string entry_refusal(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return "a symbolic link";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (st.st_nlink != 1) return fmt::format("{} hard links (the other cannot be located)", st.st_nlink);
  return "";
}

namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Copies a regular file into `dir` as `name` (created 0600, never replacing) with sendfile(2):
// the kernel copies, so no buffer of ours holds the bytes.
Status copy_file_into(const std::string& from, int dir, const std::string& name) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0) return os_error(fmt::format("cannot open {}", from));
  struct stat st {};
  if (fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Error{Errc::io, 0, fmt::format("{}: not a regular file", from)};
  UniqueFd out(openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) return os_error(fmt::format("cannot create {}", name));
  for (off_t done = 0; done < st.st_size;) {
    const ssize_t n = sendfile(out.get(), in.get(), &done, static_cast<std::size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return os_error(fmt::format("cannot copy {}", from));
  }
  if (fsync(out.get()) != 0) return os_error(fmt::format("cannot fsync {}", name));
  return ok_status();
}

}  // namespace

bool DirectoryStore::skipped_name(std::string_view name) {
  return name.empty() || name.front() == '.' || name.back() == '~' || name.ends_with(".tmp") ||
         name.ends_with(".part") || name.ends_with(".partial") || name.ends_with(".swp");
}

bool open_for_writing(int fd) {
  if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
    return false;
  }
  return errno == EAGAIN;
}

Result<DirectoryStore> DirectoryStore::open(const std::string& path, bool watch, double settle, const std::string& tag) {
  DirectoryStore store;
  store.path_ = path;
  store.settle_ = settle;
  store.tag_ = tag;
  store.fd_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (store.fd_.get() < 0) return os_error(fmt::format("cannot open the directory {}", path));
  const std::string prefix = ".dumpguard-put." + tag + ".";
  for (const std::string& name : names_in(store.fd_.get())) {
    if (name.starts_with(prefix)) DG_CHECK(remove_tree(path + "/" + name));
  }
  if (watch) store.watcher_.emplace(path);
  return store;
}

Result<std::vector<StoreEntry>> DirectoryStore::list() {
  std::vector<StoreEntry> out;
  const auto now = std::chrono::steady_clock::now();
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  const std::int64_t wall_ns = static_cast<std::int64_t>(wall.tv_sec) * 1000000000 + wall.tv_nsec;
  const auto settle_ns = static_cast<std::int64_t>(settle_ * 1e9);
  std::map<std::string, Seen> seen;
  for (const std::string& name : names_in(fd_.get())) {
    if (skipped_name(name)) continue;
    struct stat st {};
    if (fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    StoreEntry entry;
    entry.name = name;
    entry.refusal = acceptable_name(name) ? entry_refusal(st)
                                          : "a name that is not UTF-8, holds control characters or is longer than 200 bytes";
    if (!entry.refusal.empty()) {
      entry.state = StoreEntry::State::refused;
      out.push_back(std::move(entry));
      continue;
    }
    Seen now_seen{st.st_ino, st.st_size, mtime_ns(st), now};
    const auto before = seen_.find(name);
    if (before != seen_.end() && before->second.ino == now_seen.ino && before->second.size == now_seen.size &&
        before->second.mtime_ns == now_seen.mtime_ns) {
      now_seen.since = before->second.since;
    }
    const bool quiet = wall_ns - now_seen.mtime_ns >= settle_ns ||
                       now - now_seen.since >= std::chrono::nanoseconds(settle_ns);
    entry.state = quiet || announced_.count(name) > 0 ? StoreEntry::State::ready : StoreEntry::State::settling;
    seen.emplace(name, now_seen);
    out.push_back(std::move(entry));
  }
  seen_ = std::move(seen);
  // An announcement holds until the name is gone; a name that comes back is announced again.
  for (auto it = announced_.begin(); it != announced_.end();) {
    it = seen_.count(*it) > 0 ? std::next(it) : announced_.erase(it);
  }
  return out;
}

void DirectoryStore::wait(std::chrono::milliseconds timeout) {
  if (watcher_) {
    watcher_->wait(timeout, announced_);
  } else {
    DirectoryWatcher(std::string()).wait(timeout, announced_);  // a plain sleep
  }
}

Result<bool> DirectoryStore::claim(const std::string& name, const std::string& local) {
  // `local` is in the gate's own 0700 directory: nobody else can create it between this check
  // and the rename, and of several gates renaming `name` only the first finds it.
  struct stat st {};
  if (lstat(local.c_str(), &st) == 0) return false;
  if (renameat(fd_.get(), name.c_str(), AT_FDCWD, local.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return os_error(fmt::format("cannot move {}/{} to {}", path_, name, local));
  }
  DG_CHECK(fsync_at(AT_FDCWD, parent_of(local)));
  if (fsync(fd_.get()) != 0) return os_error(fmt::format("cannot fsync {}", path_));
  return true;
}

bool DirectoryStore::exists(const std::string& name) {
  struct stat st {};
  return fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

Result<bool> DirectoryStore::put(const std::string& local, const std::string& name) {
  DG_TRY(const RenameResult r, rename_no_replace(AT_FDCWD, local, fd_.get(), name));
  switch (r) {
    case RenameResult::exists: return false;
    case RenameResult::missing: return Error{Errc::io, 0, fmt::format("{}: gone before it was stored", local)};
    case RenameResult::cross_device: return put_by_copy(local, name);
    case RenameResult::done: break;
  }
  if (fsync(fd_.get()) != 0) return os_error(fmt::format("cannot fsync {}", path_));
  return true;
}

// From another file system: the copy is made under a dotfile name (never listed, by the gate
// or by convention), fsync'd, and renamed like a local file. kill -9 leaves at most the
// dotfile, which this gate removes when it starts again.
Result<bool> DirectoryStore::put_by_copy(const std::string& local, const std::string& name) {
  static unsigned counter = 0;
  const std::string temp = fmt::format(".dumpguard-put.{}.{}.{}", tag_, getpid(), ++counter);
  struct stat st {};
  if (lstat(local.c_str(), &st) != 0) return os_error(fmt::format("cannot stat {}", local));
  const auto fail = [&](Error e) -> Result<bool> {
    (void)remove_tree(path_ + "/" + temp);
    return e;
  };
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(fd_.get(), temp.c_str(), 0700) != 0) return os_error(fmt::format("cannot create {}/{}", path_, temp));
    UniqueFd dir(openat(fd_.get(), temp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) return fail(os_error(fmt::format("cannot open {}/{}", path_, temp)));
    UniqueFd from(::open(local.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (from.get() < 0) return fail(os_error(fmt::format("cannot open {}", local)));
    for (const std::string& child : names_in(from.get())) {
      if (Status s = copy_file_into(local + "/" + child, dir.get(), child); !s) return fail(s.error());
    }
    if (fsync(dir.get()) != 0) return fail(os_error(fmt::format("cannot fsync {}/{}", path_, temp)));
  } else if (Status s = copy_file_into(local, fd_.get(), temp); !s) {
    return fail(s.error());
  }
  auto r = rename_no_replace(fd_.get(), temp, fd_.get(), name);
  if (!r) return fail(r.error());
  if (*r != RenameResult::done) {
    (void)remove_tree(path_ + "/" + temp);
    if (*r == RenameResult::exists) return false;
    return Error{Errc::io, 0, fmt::format("cannot rename {}/{} to {}", path_, temp, name)};
  }
  if (fsync(fd_.get()) != 0) return os_error(fmt::format("cannot fsync {}", path_));
  DG_CHECK(remove_tree(local));
  return true;
}

}  // namespace dumpguard
