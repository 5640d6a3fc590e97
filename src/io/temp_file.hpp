// Unnamed temporary files for decompressed and spooled dumps. They have no name on disk
// (O_TMPFILE), so nothing is left behind even after kill -9, and they are mode 0600.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

// The directory used when the user gave none: $TMPDIR, else /tmp.
std::string default_tmpdir();

// An unnamed, 0600 temporary file in `dir`. Falls back to mkstemp + unlink where the
// file system lacks O_TMPFILE, which also leaves no name behind once it returns.
Result<UniqueFd> make_unnamed_temp(const std::string& dir);

// Appends bytes to a temporary file while enforcing the size cap and the free-space
// reserve, so a decompression bomb stops with an error before the disk fills.
class TempWriter {
 public:
  TempWriter(UniqueFd fd, std::string dir, std::uint64_t max_size, std::uint64_t min_free);
  Status write(std::span<const std::byte> data, std::uint64_t input_offset);
  std::uint64_t written() const { return written_; }
  UniqueFd finish() { return std::move(fd_); }

 private:
  UniqueFd fd_;
  std::string dir_;
  std::uint64_t max_size_;
  std::uint64_t min_free_;
  std::uint64_t written_ = 0;
  std::uint64_t next_space_check_ = 0;
};

}  // namespace dumpguard
