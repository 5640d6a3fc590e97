// open_dump: from a path (or "-") to a Dump. Detects the format from content only,
// decompresses zstd/lz4/xz into an unnamed temporary file, and runs the right reader.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

struct OpenOptions {
  // Set to Format::raw by --format raw / --raw. Raw is never guessed.
  std::optional<Format> forced_format;
  // Where decompressed and spooled bytes go (an O_TMPFILE, gone when closed).
  std::string tmpdir;  // empty: $TMPDIR, else /tmp
  // Largest decompressed size accepted; 0 means no cap beyond free space.
  std::uint64_t max_decompressed = 0;
  // Bytes of free space to leave on tmpdir's file system while decompressing.
  std::uint64_t min_free_space = 64ull << 20;
};

Result<Dump> open_dump(const std::string& path, const OpenOptions& options);
// The same from a descriptor the caller opened (and checked: the gate opens with O_NOFOLLOW
// and fstats it, so no name is looked up again); takes ownership of `fd`. `path` names the
// dump in the model and in errors.
Result<Dump> open_dump_fd(int fd, const std::string& path, const OpenOptions& options);

// Read a DumpModel from bytes in a known format (no decompression). The readers' entry point.
Result<DumpModel> read_model(Format format, std::span<const std::byte> bytes);

}  // namespace dumpguard
