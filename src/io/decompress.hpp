// Streaming decompression of zstd, lz4 (frame format) and xz dumps into an unnamed
// temporary file. The whole dump is never held in RAM: input is read from the mapping
// and output is written in 1 MiB pieces, under a size cap and a free-space reserve.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

enum class Compression { none, zstd, lz4, xz };

const char* to_string(Compression c);

// From the first bytes only (the file name is never consulted).
Compression detect_compression(std::span<const std::byte> head);

struct DecompressLimits {
  std::string tmpdir;
  std::uint64_t max_size = 0;  // 0: no cap
  std::uint64_t min_free = 0;
};

struct Decompressed {
  UniqueFd fd;                     // the unnamed temp file, positioned anywhere
  std::uint64_t size = 0;
  std::optional<Warning> warning;  // set when the compressed stream ends early
};

// The compressed bytes, handed to the decoder 1 MiB at a time: read from a descriptor with
// pread, so a large compressed dump never sits in memory, or taken from a span (fuzzing).
class CompressedInput {
 public:
  explicit CompressedInput(std::span<const std::byte> bytes);
  CompressedInput(int fd, std::uint64_t size);  // does not take ownership of fd
  // The next piece; empty at the end. Valid until the next call.
  Result<std::span<const std::byte>> next();
  std::uint64_t offset() const { return offset_; }  // bytes handed out so far

 private:
  std::span<const std::byte> span_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t offset_ = 0;
  std::vector<std::byte> buffer_;
};

// Corrupt data before any output is an error; a stream cut short after some output
// keeps what was decoded and says so in `warning`: what is sound is modelled, not thrown away.
Result<Decompressed> decompress(CompressedInput& input, Compression kind, const DecompressLimits& limits);

}  // namespace dumpguard
