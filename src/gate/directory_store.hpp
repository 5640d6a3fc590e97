// DumpStore on a local directory: the inbox a crash handler or an upload server writes into,
// and the release and quarantine directories (gate/store.hpp).
//
// - list(): never opens an entry. It lstat()s each name: anything but a regular file with one
//   link is refused (symlinks, devices, FIFOs, sockets, directories, hard links), as is a name
//   with control characters or longer than 200 bytes. Dotfiles and temporary names (*.tmp,
//   *.part, *.partial, *.swp, *~) are skipped: writers make those and rename them in.
// - Complete files: a regular file is ready when inotify reported it closed after writing or
//   renamed in, or when its size and mtime have not changed for `settle` seconds (the mtime
//   itself counts: a file last written longer ago is ready at once). The gate checks after the
//   claim, on the open descriptor, that no process still holds it open for writing.
// - claim(): rename(2) into the gate's work directory (same file system, checked at start):
//   atomic, so of several gates exactly one gets each entry.
// - put(): renameat2(RENAME_NOREPLACE) and fsync of the directory; from another file system,
//   a copy into a dotfile in the directory, fsync, then the same rename.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "gate/store.hpp"
#include "gate/watcher.hpp"
#include "io/unique_fd.hpp"

struct stat;

namespace dumpguard {

// Why an inbox entry with this lstat(2) is refused, or "" for a regular file with one link.
std::string entry_refusal(const struct stat& st);

// True when a process has the file open for writing: a read lease (fcntl(2), F_SETLEASE) is
// refused with EAGAIN exactly then. It needs the file's owner or CAP_LEASE; where it cannot be
// taken (EACCES, a file system without leases) the settle time is all the gate goes by.
bool open_for_writing(int fd);

class DirectoryStore final : public DumpStore {
 public:
  // Opens `path` (which must exist). `watch`: use inotify (the inbox). `settle`: seconds a file
  // must be unchanged to count as complete. `tag` names this gate's temporary files in the
  // directory (cross-file-system copies); leftovers with it from an earlier run are removed.
  static Result<DirectoryStore> open(const std::string& path, bool watch, double settle, const std::string& tag);

  const std::string& where() const override { return path_; }
  Result<std::vector<StoreEntry>> list() override;
  void wait(std::chrono::milliseconds timeout) override;
  Result<bool> claim(const std::string& name, const std::string& local) override;
  Result<bool> put(const std::string& local, const std::string& name) override;
  bool exists(const std::string& name) override;

  bool uses_inotify() const { return watcher_ && watcher_->uses_inotify(); }
  int fd() const { return fd_.get(); }

  // Names a writer makes while writing (dotfiles, *.tmp, ...): never listed.
  static bool skipped_name(std::string_view name);

 private:
  struct Seen {
    std::uint64_t ino = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::chrono::steady_clock::time_point since;
  };
  Result<bool> put_by_copy(const std::string& local, const std::string& name);

  std::string path_;
  UniqueFd fd_;
  double settle_ = 2;
  std::string tag_;
  std::optional<DirectoryWatcher> watcher_;
  std::set<std::string> announced_;
  std::map<std::string, Seen> seen_;
};

}  // namespace dumpguard
