#include "io/whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <string>

#include "io/staged_file.hpp"

namespace dumpguard {

Status write_file_atomically(const std::string& path, std::string_view content) {
  DG_TRY(StagedFile staged, StagedFile::create(path));
  DG_CHECK(staged.write(std::as_bytes(std::span<const char>(content.data(), content.size()))));
  DG_CHECK(staged.finish_writing());
  DG_CHECK(staged.commit());
  staged.settle();
  return ok_status();
}

Error os_error(const std::string& what) { return Error{Errc::io, 0, fmt::format("{}: {}", what, std::strerror(errno))}; }

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
