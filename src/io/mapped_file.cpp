#include "dumpguard/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

namespace dumpguard {

Result<MappedFile> MappedFile::adopt(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{Errc::io, 0, fmt::format("cannot stat: {}", std::strerror(err))};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{Errc::io, 0, "not a regular file"};
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) return MappedFile(fd, nullptr, 0);
  // MAP_PRIVATE + PROT_READ: the dump is never written through this mapping.
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return Error{Errc::io, 0, fmt::format("cannot map: {}", std::strerror(err))};
  }
  // Scans read the dump front to back (each thread its own chunk, in order): readahead
  // ahead of them. A hint only; its failure changes nothing.
  (void)::madvise(p, size, MADV_SEQUENTIAL);
  return MappedFile(fd, static_cast<const std::byte*>(p), size);
}

void MappedFile::release() const {
  if (data_ == nullptr || !owned_) return;  // borrowed bytes may be anonymous memory: never
  (void)::madvise(const_cast<std::byte*>(data_), size_, MADV_DONTNEED);
}

void MappedFile::will_need(std::uint64_t offset, std::uint64_t length) const {
  if (data_ == nullptr || !owned_ || offset >= size_) return;
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t begin = offset / page * page;
  const std::uint64_t end = std::min<std::uint64_t>(size_, offset + std::min<std::uint64_t>(length, size_ - offset));
  (void)::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_WILLNEED);
#if defined(MADV_POPULATE_READ)
  // Map the range's pages in one call (Linux 5.14+) rather than fault them in 16 at a time
  // as the detectors touch them; older kernels refuse it (EINVAL), which changes nothing.
  (void)::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_POPULATE_READ);
#endif
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{Errc::io, 0, fmt::format("cannot open: {}", std::strerror(errno))};
  return adopt(fd);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      owned_(other.owned_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    this->~MappedFile();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    owned_ = other.owned_;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && owned_) ::munmap(const_cast<std::byte*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

}  // namespace dumpguard
