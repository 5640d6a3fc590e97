// libFuzzer target: the zstd, lz4 and xz streaming decoders and the format dispatch behind
// them, as open_dump uses them. Output is capped at 64 MiB so a bomb ends as an error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dumpguard/open_dump.hpp"
#include "format/detect_format.hpp"
#include "io/decompress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const Compression kind = detect_compression(bytes);
  if (kind != Compression::none) {
    CompressedInput input(bytes);
    auto out = decompress(input, kind, DecompressLimits{"", 64u << 20, 0});
    (void)out;
  }
  if (auto format = detect_format(bytes); format.ok()) {
    auto model = read_model(*format, bytes);
    (void)model;
  }
  return 0;
}
