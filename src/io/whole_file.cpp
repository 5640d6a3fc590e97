#include "io/whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <string>

namespace dumpguard {

namespace {
std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

Status write_file_atomically(const std::string& path, std::string_view content) {
  std::string temp = path + ".XXXXXX";
  const int fd = mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return os_error(fmt::format("cannot create a temporary file beside {}", path));
  const auto fail = [&](const std::string& what) {
    Error e = os_error(what);
    close(fd);
    unlink(temp.c_str());
    return e;
  };
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(fmt::format("cannot write {}", temp));
    done += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) return fail(fmt::format("cannot fsync {}", temp));
  if (close(fd) != 0) {
    unlink(temp.c_str());
    return os_error(fmt::format("cannot close {}", temp));
  }
  if (Status renamed = rename_durably(temp, path); !renamed) {
    unlink(temp.c_str());
    return renamed;
  }
  return std::monostate{};
}

Error os_error(const std::string& what) { return Error{Errc::io, 0, fmt::format("{}: {}", what, std::strerror(errno))}; }

Status rename_durably(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) return os_error(fmt::format("cannot rename {} to {}", from, to));
  const int dir = open(directory_of(to).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return std::monostate{};
}

Result<std::size_t> read_file_into(const std::string& path, std::span<char> buffer) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(fmt::format("cannot open {}", path));
  std::size_t got = 0;
  while (got < buffer.size()) {
    const ssize_t n = read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = os_error(fmt::format("cannot read {}", path));
      close(fd);
      return e;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fd);
  return got;
}

}  // namespace dumpguard
