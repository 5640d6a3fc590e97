#include "io/staged_file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28, _GNU_SOURCE)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <fmt/format.h>
#include <utility>

#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

FileIdentity identity_from(const struct stat& st) {
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  id.links = st.st_nlink;
  id.regular = S_ISREG(st.st_mode);
  return id;
}

// The rename itself survives a crash only once the directory is on disk.
void fsync_directory_of(const std::string& path) {
  const int dir = open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
}

bool swap_files(const std::string& a, const std::string& b) {
  return renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
}

// Temporary names to remove when SIGINT, SIGTERM or SIGHUP ends the process, so that an
// interrupted `redact` leaves no OUT.XXXXXX (of the size of a dump) behind. A fixed table of
// plain bytes: a signal handler may call unlink(2) and nothing that allocates or locks
// (signal-safety(7)). A slot is filled with signals blocked, so the handler never sees half a name.
constexpr int kStagedSlots = 16;
constexpr std::size_t kStagedPathMax = 4096;
char staged_paths[kStagedSlots][kStagedPathMax];
volatile std::sig_atomic_t staged_used[kStagedSlots];

extern "C" void remove_staged_and_die(int signal) {
  for (int i = 0; i < kStagedSlots; ++i) {
    if (staged_used[i] != 0) unlink(staged_paths[i]);
  }
  ::signal(signal, SIG_DFL);
  raise(signal);
}

class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_{};
};

int register_staged(const std::string& path) {
  if (path.size() >= kStagedPathMax) return -1;
  for (int i = 0; i < kStagedSlots; ++i) {
    if (staged_used[i] == 0) {
      std::memcpy(staged_paths[i], path.c_str(), path.size() + 1);
      staged_used[i] = 1;
      return i;
    }
  }
  return -1;  // more staged files than slots: the rest are removed only by the destructor
}

void unregister_staged(int slot) {
  if (slot >= 0) staged_used[slot] = 0;
}

}  // namespace

void remove_staged_files_on_signals() {
  struct sigaction action {};
  action.sa_handler = remove_staged_and_die;
  sigemptyset(&action.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&action.sa_mask, s);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &action, nullptr);
}

Status rename_durably(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) return os_error(fmt::format("cannot rename {} to {}", from, to));
  const int dir = open(directory_of(to).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return os_error(fmt::format("cannot open the directory of {}", to));
  const int synced = fsync(dir);
  close(dir);
  if (synced != 0) return os_error(fmt::format("cannot fsync the directory of {}", to));
  return ok_status();
}

std::optional<FileIdentity> identity_of_path(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  return identity_from(st);
}

std::optional<FileIdentity> identity_of_fd(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::nullopt;
  return identity_from(st);
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<StagedFile> StagedFile::create(const std::string& destination) {
  std::string temp = destination + ".XXXXXX";
  const SignalsBlocked blocked;
  const int fd = mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return os_error(fmt::format("cannot create a temporary file beside {}", destination));
  const int slot = register_staged(temp);
  return StagedFile(destination, std::move(temp), fd, slot);
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : destination_(std::move(other.destination_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)),
      skipped_(other.skipped_),
      state_(std::exchange(other.state_, State::done)) {}

StagedFile::~StagedFile() {
  if (fd_ >= 0) close(fd_);
  if (state_ == State::writing || state_ == State::written) {
    unlink(temp_.c_str());
  } else if (state_ == State::exchanged) {
    settle();
  }
  unregister_staged(std::exchange(slot_, -1));
}

Status StagedFile::write(std::span<const std::byte> bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return os_error(fmt::format("cannot write {}", temp_));
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Status StagedFile::skip(std::uint64_t n) {
  if (n == 0) return ok_status();
  if (n > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()) || ::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) {
    return os_error(fmt::format("cannot seek in {}", temp_));
  }
  skipped_ = true;
  return ok_status();
}

Status StagedFile::finish_writing() {
  if (skipped_) {
    // A file that ends in a hole: the seek past it did not make the size.
    const off_t end = ::lseek(fd_, 0, SEEK_CUR);
    if (end < 0 || ::ftruncate(fd_, end) != 0) return os_error(fmt::format("cannot set the size of {}", temp_));
  }
  if (fsync(fd_) != 0) return os_error(fmt::format("cannot fsync {}", temp_));
  const int fd = std::exchange(fd_, -1);
  if (close(fd) != 0) return os_error(fmt::format("cannot close {}", temp_));
  state_ = State::written;
  return ok_status();
}

Status StagedFile::commit(const std::optional<FileIdentity>& replaces) {
  if (state_ != State::written) return Error{Errc::bad_value, 0, "commit of a file that is not finished"};
  const std::optional<FileIdentity> current = identity_of_path(destination_);
  const auto changed = [&] {
    return Error{Errc::bad_value, 0,
                 fmt::format("{} changed while it was being redacted (replaced, written to or removed); "
                             "it was left as it is",
                             destination_)};
  };
  if (replaces && !(current && current->same_file_and_content(*replaces))) return changed();
  if (current && current->regular) {
    if (swap_files(temp_, destination_)) {
      state_ = State::exchanged;
      // The file swapped out is the one to check: no window between check and replacement.
      if (replaces) {
        const std::optional<FileIdentity> swapped = identity_of_path(temp_);
        if (!(swapped && swapped->same_file_and_content(*replaces))) {
          if (swap_files(temp_, destination_)) {
            state_ = State::written;
            return changed();
          }
          // Cannot happen short of the directory vanishing; say exactly where things are.
          return os_error(fmt::format("{} changed while it was being redacted, and swapping it back from {} failed",
                                      destination_, temp_));
        }
      }
      fsync_directory_of(destination_);
      return ok_status();
    }
    // EINVAL: the file system cannot exchange (e.g. some network file systems). Rename.
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
      return os_error(fmt::format("cannot put {} in place of {}", temp_, destination_));
    }
  }
  if (rename(temp_.c_str(), destination_.c_str()) != 0) {
    return os_error(fmt::format("cannot rename {} to {}", temp_, destination_));
  }
  state_ = State::renamed;
  unregister_staged(std::exchange(slot_, -1));  // nothing is left under the temporary name
  fsync_directory_of(destination_);
  return ok_status();
}

Status StagedFile::undo() {
  if (state_ == State::exchanged) {
    if (!swap_files(temp_, destination_)) {
      return os_error(fmt::format("cannot swap {} back from {}", destination_, temp_));
    }
    unlink(temp_.c_str());  // the new file, under the temporary name again
    state_ = State::done;
    fsync_directory_of(destination_);
    return ok_status();
  }
  if (state_ == State::renamed) {
    if (unlink(destination_.c_str()) != 0) return os_error(fmt::format("cannot remove {}", destination_));
    state_ = State::done;
    fsync_directory_of(destination_);
    return ok_status();
  }
  return Error{Errc::bad_value, 0, "undo of a file that was not put in place"};
}

void StagedFile::settle() {
  if (state_ == State::exchanged) {
    unlink(temp_.c_str());
    fsync_directory_of(destination_);
  }
  state_ = State::done;
  unregister_staged(std::exchange(slot_, -1));
}

}  // namespace dumpguard
