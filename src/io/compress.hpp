// Streaming compression, the counterpart of decompress.hpp: a redacted copy of a compressed
// dump is written in the same compression, so whatever reads the original reads the copy.
// Bytes go in pieces of any size and come out compressed to a sink, so the dump is never held
// in memory.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "dumpguard/result.hpp"

namespace dumpguard {

using CompressedSink = std::function<Status(std::span<const std::byte>)>;

class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual Status write(std::span<const std::byte> bytes) = 0;
  virtual Status finish() = 0;  // flushes the end of the stream; call once, last
};

// "zstd" (level 3), "lz4" (frame format) or "xz" (preset 6, CRC64); null for anything else.
std::unique_ptr<Compressor> make_compressor(std::string_view compression, CompressedSink sink);

}  // namespace dumpguard
