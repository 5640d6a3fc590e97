// gzip (RFC 1952) for the relay, on zlib: an upload sent with `Content-Encoding: gzip` is
// inflated as it arrives, never past a cap the relay sets (so a small body cannot grow into a
// large allocation), and one that ends before its trailer is an error rather than a shorter
// upload. What the relay forwards is compressed again the same way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard::relay {

using ByteOutput = std::function<Status(std::span<const std::byte>)>;

class GzipInflater {
 public:
  // At most `max_output` bytes may come out; one more is an Errc::limit error.
  explicit GzipInflater(std::uint64_t max_output);
  GzipInflater(GzipInflater&&) noexcept;
  GzipInflater& operator=(GzipInflater&&) noexcept;
  ~GzipInflater();

  // Inflates `in`, handing each piece of output (at most 64 KiB) to `out` as it is made.
  // Errors: not gzip, corrupt data, a bad CRC or length, bytes after the end, output past the cap.
  Status feed(std::span<const std::byte> in, const ByteOutput& out);
  // Ok only when the stream's trailer was read: a truncated stream is an error here.
  Status finish() const;
  std::uint64_t produced() const { return produced_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::uint64_t max_output_ = 0;
  std::uint64_t produced_ = 0;
  std::uint64_t consumed_ = 0;
  bool ended_ = false;
};

// One gzip member made of the bytes fed to it (default compression level, as Crashpad's upload
// body is made), each piece of output handed to `out` as it is made: a body of any size costs
// the deflater's state and 64 KiB.
class GzipDeflater {
 public:
  GzipDeflater();
  GzipDeflater(GzipDeflater&&) noexcept;
  GzipDeflater& operator=(GzipDeflater&&) noexcept;
  ~GzipDeflater();
  Status feed(std::span<const std::byte> in, const ByteOutput& out);
  Status finish(const ByteOutput& out);  // the rest and the trailer; once, after the last feed

 private:
  Status run(std::span<const std::byte> in, int flush, const ByteOutput& out);
  struct State;
  std::unique_ptr<State> state_;
};

// One gzip member holding `data`.
Result<std::string> gzip_compress(std::string_view data);

}  // namespace dumpguard::relay
