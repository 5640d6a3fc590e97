// MappedFile: a dump's bytes, mapped read-only. Nothing else in dumpguard reads dump files.
// The mapping is private and read-only; an empty file maps to an empty span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

class MappedFile {
 public:
  // Map `path` read-only. Errors name no offset (offset 0) and carry strerror text.
  static Result<MappedFile> open(const std::string& path);
  // Map an already open descriptor (e.g. an O_TMPFILE holding a decompressed dump).
  // Takes ownership of fd.
  static Result<MappedFile> adopt(int fd);
  // A view of bytes someone else owns (tests and fuzz targets build dumps in memory).
  // The bytes must outlive the MappedFile; nothing is unmapped or closed.
  static MappedFile borrow(std::span<const std::byte> bytes) { return MappedFile(-1, bytes.data(), bytes.size(), false); }

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }

  // Drops this process's references to every mapped page (madvise MADV_DONTNEED), so resident
  // memory stays bounded while a scan walks a large dump. The mapping is private, read-only and
  // file-backed, so the next read faults the same bytes back in from the page cache: the
  // content cannot change. Safe while other threads read. No-op for borrowed bytes.
  void release() const;
  // Hint (MADV_WILLNEED) that [offset, offset + length) is read soon: readahead from disk.
  void will_need(std::uint64_t offset, std::uint64_t length) const;
  std::uint64_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  MappedFile(int fd, const std::byte* data, std::size_t size, bool owned = true)
      : fd_(fd), data_(data), size_(size), owned_(owned) {}
  int fd_ = -1;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool owned_ = true;
};

}  // namespace dumpguard
