// Whole-file reads and writes. A write is atomic: readers see the old content or the whole new
// content, never a part (io/staged_file.hpp: a temporary file beside the target, mode 0600,
// fsync, rename, then fsync of the directory).
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "dumpguard/result.hpp"

namespace dumpguard {

Status write_file_atomically(const std::string& path, std::string_view content);

// An Errc::io error "what: strerror(errno)", for a system call that just failed.
Error os_error(const std::string& what);

// Reads at most buffer.size() bytes of the file at `path` into `buffer` with read(2) (so no
// stdio buffer keeps a copy: the callers read secrets and tokens), and returns how many. A
// caller that wants to refuse larger files passes one byte more than it accepts.
Result<std::size_t> read_file_into(const std::string& path, std::span<char> buffer);

}  // namespace dumpguard
