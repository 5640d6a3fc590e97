// From a path to a Dump: map (or spool stdin), decompress if the content says so,
// detect the format from content, then run exactly one reader over the bytes.
#include "dumpguard/open_dump.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

#include "dumpguard/mapped_file.hpp"
#include "format/detect_format.hpp"
#include "format/elf_core.hpp"
#include "format/minidump.hpp"
#include "format/raw.hpp"
#include "io/decompress.hpp"
#include "io/staged_file.hpp"
#include "io/temp_file.hpp"

namespace dumpguard {

namespace {

// Standard input (or any non-seekable stream) is spooled to an unnamed temp file so the
// readers can map it like any dump, under the same size cap and free-space reserve.
Result<MappedFile> spool(int in_fd, const OpenOptions& options) {
  const std::string dir = options.tmpdir.empty() ? default_tmpdir() : options.tmpdir;
  DG_TRY(UniqueFd fd, make_unnamed_temp(dir));
  TempWriter writer(std::move(fd), dir, options.max_decompressed, options.min_free_space);
  std::vector<std::byte> buf(1u << 20);
  for (;;) {
    const ssize_t n = ::read(in_fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{Errc::io, writer.written(), fmt::format("reading standard input: {}", std::strerror(errno))};
    }
    if (n == 0) break;
    DG_CHECK(writer.write({buf.data(), static_cast<std::size_t>(n)}, writer.written()));
  }
  return MappedFile::adopt(writer.finish().release());
}

}  // namespace

Result<DumpModel> read_model(Format format, std::span<const std::byte> bytes) {
  switch (format) {
    case Format::elf_core: return read_elf_core(bytes);
    case Format::minidump: return read_minidump(bytes);
    case Format::raw: return read_raw(bytes);
  }
  return read_raw(bytes);
}

namespace {

Result<Dump> open_mapped(Result<MappedFile> mapped, const std::string& path, const OpenOptions& options) {
  if (!mapped) return mapped.error();

  Dump dump;
  dump.source.path = path;
  dump.source.stored_size = mapped->size();
  if (path != "-") dump.source.identity = identity_of_fd(mapped->fd());

  std::optional<Warning> decompression_warning;
  const Compression compression = detect_compression(mapped->bytes());
  if (compression != Compression::none) {
    DecompressLimits limits{options.tmpdir, options.max_decompressed, options.min_free_space};
    // Read through the descriptor, not the mapping, so the compressed bytes are not kept
    // resident while the decompressed ones are written.
    CompressedInput input(mapped->fd(), mapped->size());
    DG_TRY(Decompressed out, decompress(input, compression, limits));
    decompression_warning = out.warning;
    DG_TRY(MappedFile plain, MappedFile::adopt(out.fd.release()));
    dump.source.compression = to_string(compression);
    dump.file = std::make_shared<const MappedFile>(std::move(plain));
  } else {
    dump.file = std::make_shared<const MappedFile>(std::move(mapped).value());
  }

  Format format = Format::raw;
  if (options.forced_format) {
    format = *options.forced_format;
  } else {
    DG_TRY(format, detect_format(dump.file->bytes()));
  }
  DG_TRY(dump.model, read_model(format, dump.file->bytes()));
  if (decompression_warning) {
    dump.model.warnings.insert(dump.model.warnings.begin(), *decompression_warning);
    dump.model.complete = false;
  }
  return dump;
}

}  // namespace

Result<Dump> open_dump(const std::string& path, const OpenOptions& options) {
  return open_mapped(path == "-" ? spool(STDIN_FILENO, options) : MappedFile::open(path), path, options);
}

Result<Dump> open_dump_fd(int fd, const std::string& path, const OpenOptions& options) {
  return open_mapped(MappedFile::adopt(fd), path, options);
}

}  // namespace dumpguard
