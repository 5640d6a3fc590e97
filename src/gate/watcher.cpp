#include "gate/watcher.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace dumpguard {

DirectoryWatcher::DirectoryWatcher(const std::string& directory) {
  UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (fd.get() < 0) return;
  // IN_DONT_FOLLOW: the inbox itself may not be swapped for a symlink under us either.
  if (inotify_add_watch(fd.get(), directory.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW) < 0) {
    return;
  }
  fd_ = std::move(fd);
}

void DirectoryWatcher::wait(std::chrono::milliseconds timeout, std::set<std::string>& announced) {
  if (fd_.get() < 0) {
    // poll(2) with no descriptors is a sleep that a signal ends early, as the inotify wait is.
    poll(nullptr, 0, static_cast<int>(timeout.count()));
    return;
  }
  pollfd p{fd_.get(), POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
  alignas(inotify_event) std::array<char, 16384> buffer{};
  for (;;) {
    const ssize_t n = read(fd_.get(), buffer.data(), buffer.size());
    if (n <= 0) return;  // EAGAIN: drained
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + at, sizeof event);
      const char* name = buffer.data() + at + sizeof(inotify_event);
      // IN_Q_OVERFLOW carries no name: events were lost, and the listing that follows sees all.
      if (event.len > 0 && (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0) {
        announced.insert(std::string(name, strnlen(name, event.len)));
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
    }
  }
}

}  // namespace dumpguard
