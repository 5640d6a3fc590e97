// Watching a directory for files that arrive complete: inotify's IN_CLOSE_WRITE (a writer closed
// the file) and IN_MOVED_TO (a file was renamed in), falling back to polling where inotify is not
// available (no inotify instances left, a file system that sends no events). Either way the
// caller lists the directory again after each wait: events only wake it early and mark names.
#pragma once
#include <chrono>
#include <set>
#include <string>

#include "io/unique_fd.hpp"

namespace dumpguard {

class DirectoryWatcher {
 public:
  // Watches `directory` with inotify if it can; polls otherwise.
  explicit DirectoryWatcher(const std::string& directory);
  bool uses_inotify() const { return fd_.get() >= 0; }
  // Waits up to `timeout` for an event (returns at the first one, or on a signal), and adds to
  // `announced` the names closed after writing or renamed in since the last call. Polling: sleeps.
  void wait(std::chrono::milliseconds timeout, std::set<std::string>& announced);

 private:
  UniqueFd fd_;
};

}  // namespace dumpguard
