#include "io/temp_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace dumpguard {

std::string default_tmpdir() {
  const char* env = std::getenv("TMPDIR");
  return (env != nullptr && *env != '\0') ? std::string(env) : std::string("/tmp");
}

Result<UniqueFd> make_unnamed_temp(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return Error{Errc::io, 0, fmt::format("cannot create a temporary file in {}: {}", dir, std::strerror(errno))};
  }
  std::string templ = dir + "/dumpguard-XXXXXX";
  fd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) {
    return Error{Errc::io, 0, fmt::format("cannot create a temporary file in {}: {}", dir, std::strerror(errno))};
  }
  ::unlink(templ.c_str());
  ::fchmod(fd, 0600);
  return UniqueFd(fd);
}

TempWriter::TempWriter(UniqueFd fd, std::string dir, std::uint64_t max_size, std::uint64_t min_free)
    : fd_(std::move(fd)), dir_(std::move(dir)), max_size_(max_size), min_free_(min_free) {}

Status TempWriter::write(std::span<const std::byte> data, std::uint64_t input_offset) {
  if (max_size_ != 0 && data.size() > max_size_ - std::min(max_size_, written_)) {
    return Error{Errc::limit, input_offset,
                 fmt::format("decompressed size would exceed the cap of {} bytes (--max-decompressed)", max_size_)};
  }
  // Check free space every 64 MiB: often enough to stop well before the disk fills.
  if (written_ >= next_space_check_) {
    struct statvfs st {};
    if (::fstatvfs(fd_.get(), &st) == 0) {
      const std::uint64_t free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
      if (free_bytes < min_free_ + (64ull << 20)) {
        return Error{Errc::limit, input_offset,
                     fmt::format("only {} bytes free in {}; stopping before it fills (choose --tmpdir)",
                                 free_bytes, dir_)};
      }
    }
    next_space_check_ = written_ + (64ull << 20);
  }
  const auto* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{Errc::io, input_offset, fmt::format("writing to a temporary file in {}: {}", dir_, std::strerror(errno))};
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  written_ += data.size();
  return ok_status();
}

}  // namespace dumpguard
