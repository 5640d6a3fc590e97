#include "relay/gzip_stream.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <limits>

namespace dumpguard::relay {

struct GzipInflater::State {
  z_stream z{};
  bool initialised = false;
  ~State() {
    if (initialised) inflateEnd(&z);
  }
};

GzipInflater::GzipInflater(std::uint64_t max_output) : state_(std::make_unique<State>()), max_output_(max_output) {
  // 16 + MAX_WBITS: a gzip wrapper only (zlib's 32 would also take a zlib stream, which
  // Content-Encoding: gzip does not allow).
  state_->initialised = inflateInit2(&state_->z, 16 + MAX_WBITS) == Z_OK;
}
GzipInflater::GzipInflater(GzipInflater&&) noexcept = default;
GzipInflater& GzipInflater::operator=(GzipInflater&&) noexcept = default;
GzipInflater::~GzipInflater() = default;

Status GzipInflater::feed(std::span<const std::byte> in, const ByteOutput& out) {
  if (!state_->initialised) return Error{Errc::io, 0, "zlib could not be initialised"};
  if (in.empty()) return ok_status();
  if (ended_) return Error{Errc::bad_value, consumed_, "bytes after the end of the gzip stream"};
  z_stream& z = state_->z;
  std::array<Bytef, 64 * 1024> buffer;
  std::size_t offset = 0;
  while (offset < in.size()) {
    // avail_in is 32 bits: feed at most 1 GiB at a time.
    const std::size_t piece = std::min<std::size_t>(in.size() - offset, 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + offset));
    z.avail_in = static_cast<uInt>(piece);
    do {
      z.next_out = buffer.data();
      z.avail_out = static_cast<uInt>(buffer.size());
      const uInt before = z.avail_in;
      const int rc = inflate(&z, Z_NO_FLUSH);
      const std::size_t made = buffer.size() - z.avail_out;
      const std::size_t used = piece - z.avail_in;
      if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && made == 0)) {
        return Error{Errc::bad_value, consumed_ + offset + used,
                     fmt::format("the gzip stream is corrupt ({})", z.msg != nullptr ? z.msg : "zlib error")};
      }
      if (made > 0) {
        if (made > max_output_ - produced_) {
          return Error{Errc::limit, consumed_ + offset + used,
                       fmt::format("the gzip stream inflates past the limit of {} bytes", max_output_)};
        }
        produced_ += made;
        DG_CHECK(out(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer.data()), made)));
      }
      if (rc == Z_STREAM_END) {
        ended_ = true;
        if (z.avail_in != 0 || offset + piece < in.size()) {
          return Error{Errc::bad_value, consumed_ + offset + used, "bytes after the end of the gzip stream"};
        }
        break;
      }
      if (made == 0 && z.avail_in == 0) break;  // needs more input
      if (made == 0 && z.avail_in == before) {
        return Error{Errc::bad_value, consumed_ + offset + used, "the gzip stream is corrupt (no progress)"};
      }
    } while (z.avail_out == 0 || z.avail_in > 0);
    offset += piece;
  }
  consumed_ += in.size();
  return ok_status();
}

Status GzipInflater::finish() const {
  if (!ended_) {
    return Error{Errc::truncated, consumed_,
                 fmt::format("the gzip stream ends after {} bytes, before its trailer", consumed_)};
  }
  return ok_status();
}

struct GzipDeflater::State {
  z_stream z{};
  bool initialised = false;
  ~State() {
    if (initialised) deflateEnd(&z);
  }
};

GzipDeflater::GzipDeflater() : state_(std::make_unique<State>()) {
  state_->initialised =
      deflateInit2(&state_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}
GzipDeflater::GzipDeflater(GzipDeflater&&) noexcept = default;
GzipDeflater& GzipDeflater::operator=(GzipDeflater&&) noexcept = default;
GzipDeflater::~GzipDeflater() = default;

Status GzipDeflater::run(std::span<const std::byte> in, int flush, const ByteOutput& out) {
  if (!state_->initialised) return Error{Errc::io, 0, "zlib could not be initialised"};
  z_stream& z = state_->z;
  std::array<Bytef, 64 * 1024> buffer;
  std::size_t offset = 0;
  do {
    const std::size_t piece = std::min<std::size_t>(in.size() - offset, 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + offset));
    z.avail_in = static_cast<uInt>(piece);
    offset += piece;
    const int mode = offset == in.size() ? flush : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      z.next_out = buffer.data();
      z.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&z, mode);
      if (rc == Z_STREAM_ERROR) return Error{Errc::io, 0, "zlib could not compress"};
      const std::size_t made = buffer.size() - z.avail_out;
      if (made > 0) DG_CHECK(out(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer.data()), made)));
    } while (z.avail_out == 0);
    if (mode == Z_FINISH && rc != Z_STREAM_END) return Error{Errc::io, 0, "zlib could not compress"};
  } while (offset < in.size());
  return ok_status();
}

Status GzipDeflater::feed(std::span<const std::byte> in, const ByteOutput& out) {
  if (in.empty()) return ok_status();
  return run(in, Z_NO_FLUSH, out);
}
Status GzipDeflater::finish(const ByteOutput& out) { return run({}, Z_FINISH, out); }

Result<std::string> gzip_compress(std::string_view data) {
  std::string out;
  const ByteOutput append = [&out](std::span<const std::byte> b) {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    return ok_status();
  };
  GzipDeflater deflater;
  DG_CHECK(deflater.feed(std::as_bytes(std::span<const char>(data.data(), data.size())), append));
  DG_CHECK(deflater.finish(append));
  return out;
}

}  // namespace dumpguard::relay
