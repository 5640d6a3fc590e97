#include "io/decompress.hpp"

#include <lz4frame.h>
#include <lzma.h>
#include <zstd.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "io/temp_file.hpp"

namespace dumpguard {

const char* to_string(Compression c) {
  switch (c) {
    case Compression::none: return "";
    case Compression::zstd: return "zstd";
    case Compression::lz4: return "lz4";
    case Compression::xz: return "xz";
  }
  return "";
}

namespace {
bool starts_with(std::span<const std::byte> head, std::initializer_list<unsigned> magic) {
  if (head.size() < magic.size()) return false;
  std::size_t i = 0;
  for (unsigned m : magic) {
    if (static_cast<unsigned>(head[i++]) != m) return false;
  }
  return true;
}

constexpr std::size_t kOutChunk = 1u << 20;
constexpr std::size_t kInChunk = 1u << 20;

// What each codec loop reports back: how far into the input it got and why it stopped.
struct Progress {
  std::uint64_t consumed = 0;
  bool finished = false;              // the codec saw a complete end of stream
  std::optional<std::string> error;   // corrupt data at `consumed`
};

Result<Progress> run_zstd(CompressedInput& in, TempWriter& out) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) return Error{Errc::io, 0, "zstd: out of memory"};
  ZSTD_initDStream(ds.get());
  // The decoder allocates the window a frame header asks for: cap it at zstd's own default
  // limit (2^27 = 128 MiB, what every level up to 19 and systemd-coredump use), so a crafted
  // header cannot size an allocation. Frames made with --long=31 are refused with an error.
  ZSTD_DCtx_setParameter(ds.get(), ZSTD_d_windowLogMax, 27);
  std::vector<std::byte> buf(kOutChunk);
  ZSTD_inBuffer ib{nullptr, 0, 0};
  std::uint64_t base = 0;  // input offset of ib's first byte
  bool eof = false;
  Progress p;
  std::size_t last = 1;  // 0 once a frame is complete and fully flushed
  bool flushed = false;  // the last call left room in the output: nothing is held back
  for (;;) {
    if (ib.pos == ib.size) {
      if (!eof) {
        DG_TRY(auto piece, in.next());
        eof = piece.empty();
        base = in.offset() - piece.size();
        ib = ZSTD_inBuffer{piece.data(), piece.size(), 0};
      }
      // Several frames may follow each other (zstd concatenates them); stop once the input
      // is used up and the decoder has nothing more to flush. Calling it again here would
      // start an empty new frame and lose the "frame complete" answer.
      if (eof && flushed) break;
    }
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds.get(), &ob, &ib);
    if (ZSTD_isError(last)) {
      p.consumed = base + ib.pos;
      p.error = ZSTD_getErrorName(last);
      return p;
    }
    DG_CHECK(out.write({buf.data(), ob.pos}, base + ib.pos));
    flushed = last == 0 || ob.pos < ob.size;
  }
  p.consumed = base + ib.pos;
  p.finished = last == 0;
  return p;
}

Result<Progress> run_lz4(CompressedInput& in, TempWriter& out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return Error{Errc::io, 0, "lz4: cannot create a decompression context"};
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(raw, LZ4F_freeDecompressionContext);
  std::vector<std::byte> buf(kOutChunk);
  Progress p;
  std::size_t hint = 1;
  std::span<const std::byte> piece;
  std::size_t at = 0;
  bool eof = false;
  bool flushed = false;  // the last call left room in the output: nothing is held back
  for (;;) {
    if (at == piece.size()) {
      if (!eof) {
        DG_TRY(piece, in.next());
        at = 0;
        eof = piece.empty();
      }
      if (eof && flushed) break;  // another call would start reading a new frame header
    }
    std::size_t out_size = buf.size();
    std::size_t in_size = piece.size() - at;
    hint = LZ4F_decompress(ctx.get(), buf.data(), &out_size, piece.data() + at, &in_size, nullptr);
    if (LZ4F_isError(hint)) {
      p.consumed = in.offset() - piece.size() + at;
      p.error = LZ4F_getErrorName(hint);
      return p;
    }
    at += in_size;
    p.consumed = in.offset() - piece.size() + at;
    DG_CHECK(out.write({buf.data(), out_size}, p.consumed));
    flushed = out_size < buf.size();
  }
  p.finished = hint == 0;  // 0: a frame ended exactly here
  return p;
}

Result<Progress> run_xz(CompressedInput& in, TempWriter& out) {
  lzma_stream strm = LZMA_STREAM_INIT;
  // A memory limit for the decoder, which allocates the dictionary the stream header names:
  // 128 MiB covers every xz preset (-9e needs about 65 MiB) and bounds a crafted header.
  if (lzma_stream_decoder(&strm, 128ull << 20, LZMA_CONCATENATED) != LZMA_OK) {
    return Error{Errc::io, 0, "xz: cannot create a decoder"};
  }
  std::unique_ptr<lzma_stream, decltype(&lzma_end)> guard(&strm, lzma_end);
  std::vector<std::byte> buf(kOutChunk);
  bool eof = false;
  Progress p;
  for (;;) {
    if (strm.avail_in == 0 && !eof) {
      DG_TRY(auto piece, in.next());
      eof = piece.empty();
      strm.next_in = reinterpret_cast<const std::uint8_t*>(piece.data());
      strm.avail_in = piece.size();
    }
    strm.next_out = reinterpret_cast<std::uint8_t*>(buf.data());
    strm.avail_out = buf.size();
    const lzma_ret ret = lzma_code(&strm, eof ? LZMA_FINISH : LZMA_RUN);
    const std::size_t produced = buf.size() - strm.avail_out;
    DG_CHECK(out.write({buf.data(), produced}, strm.total_in));
    if (ret == LZMA_STREAM_END) {
      p.finished = true;
      break;
    }
    if (ret == LZMA_BUF_ERROR && eof) break;  // input ended early
    if (ret != LZMA_OK) {
      p.consumed = strm.total_in;
      p.error = ret == LZMA_MEMLIMIT_ERROR ? std::string("the stream needs more than 128 MiB of decoder memory")
                                           : fmt::format("xz decoder error {}", static_cast<int>(ret));
      return p;
    }
  }
  p.consumed = strm.total_in;
  return p;
}
}  // namespace

Compression detect_compression(std::span<const std::byte> head) {
  if (starts_with(head, {0x28, 0xB5, 0x2F, 0xFD})) return Compression::zstd;
  if (starts_with(head, {0x04, 0x22, 0x4D, 0x18})) return Compression::lz4;
  if (starts_with(head, {0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00})) return Compression::xz;
  return Compression::none;
}

CompressedInput::CompressedInput(std::span<const std::byte> bytes) : span_(bytes), size_(bytes.size()) {}

CompressedInput::CompressedInput(int fd, std::uint64_t size) : fd_(fd), size_(size), buffer_(kInChunk) {}

Result<std::span<const std::byte>> CompressedInput::next() {
  const std::uint64_t left = size_ - offset_;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kInChunk));
  if (fd_ < 0) {
    auto piece = span_.subspan(static_cast<std::size_t>(offset_), n);
    offset_ += n;
    return piece;
  }
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, buffer_.data() + got, n - got, static_cast<off_t>(offset_ + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error{Errc::io, offset_ + got, fmt::format("reading the compressed dump: {}", std::strerror(errno))};
    if (r == 0) break;  // the file shrank under us: what we have is what there is
    got += static_cast<std::size_t>(r);
  }
  offset_ += got;
  return std::span<const std::byte>(buffer_.data(), got);
}

Result<Decompressed> decompress(CompressedInput& input, Compression kind, const DecompressLimits& limits) {
  const std::string dir = limits.tmpdir.empty() ? default_tmpdir() : limits.tmpdir;
  DG_TRY(UniqueFd fd, make_unnamed_temp(dir));
  TempWriter writer(std::move(fd), dir, limits.max_size, limits.min_free);
  Result<Progress> progress = Error{Errc::unsupported, 0, "not compressed"};
  switch (kind) {
    case Compression::zstd: progress = run_zstd(input, writer); break;
    case Compression::lz4: progress = run_lz4(input, writer); break;
    case Compression::xz: progress = run_xz(input, writer); break;
    case Compression::none: break;
  }
  if (!progress) return progress.error();
  const Progress& p = *progress;
  const char* name = to_string(kind);
  Decompressed result;
  if (p.error) {
    if (writer.written() == 0) {
      return Error{Errc::bad_value, p.consumed, fmt::format("{} data is corrupt: {}", name, *p.error)};
    }
    result.warning = Warning{writer.written(), fmt::format("{} data is corrupt at compressed offset {:#x} ({}); "
                                                           "only the {} bytes decompressed before it are modelled",
                                                           name, p.consumed, *p.error, writer.written())};
  } else if (!p.finished) {
    if (writer.written() == 0) {
      return Error{Errc::truncated, p.consumed, fmt::format("{} stream ends before any data", name)};
    }
    result.warning = Warning{writer.written(), fmt::format("{} stream is truncated at compressed offset {:#x}; "
                                                           "only the {} bytes decompressed before it are modelled",
                                                           name, p.consumed, writer.written())};
  }
  result.size = writer.written();
  result.fd = writer.finish();
  return result;
}

}  // namespace dumpguard
