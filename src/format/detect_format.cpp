#include "format/detect_format.hpp"

namespace dumpguard {

Result<Format> detect_format(std::span<const std::byte> head) {
  auto is = [&](std::initializer_list<unsigned> magic) {
    if (head.size() < magic.size()) return false;
    std::size_t i = 0;
    for (unsigned m : magic) {
      if (static_cast<unsigned>(head[i++]) != m) return false;
    }
    return true;
  };
  if (is({0x7F, 'E', 'L', 'F'})) return Format::elf_core;
  if (is({'M', 'D', 'M', 'P'})) return Format::minidump;
  // The message names no bytes of the file: in a raw image they could be a secret's.
  return Error{Errc::unknown_format, 0,
               head.empty() ? "the file is empty; use --format raw to scan it as a raw memory image"
                            : "the content is not an ELF core, a minidump, or zstd/lz4/xz data; "
                              "use --format raw to scan it as a raw memory image"};
}

}  // namespace dumpguard
