#include "io/decompress.hpp"

#include <lz4frame.h>
#include <lzma.h>
#include <zstd.h>

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

// What each codec loop reports back: how far into the input it got and why it stopped.
struct Progress {
  std::uint64_t consumed = 0;
  bool finished = false;              // the codec saw a complete end of stream
  std::optional<std::string> error;   // corrupt data at `consumed`
};

Result<Progress> run_zstd(std::span<const std::byte> in, TempWriter& out) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) return Error{Errc::io, 0, "zstd: out of memory"};
  ZSTD_initDStream(ds.get());
  // The decoder allocates the window a frame header asks for: cap it at zstd's own default
  // limit (2^27 = 128 MiB, what every level up to 19 and systemd-coredump use), so a crafted
  // header cannot size an allocation. Frames made with --long=31 are refused with an error.
  ZSTD_DCtx_setParameter(ds.get(), ZSTD_d_windowLogMax, 27);
  std::vector<std::byte> buf(kOutChunk);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  Progress p;
  std::size_t last = 1;  // 0 once a frame is complete and fully flushed
  for (;;) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds.get(), &ob, &ib);
    if (ZSTD_isError(last)) {
      p.consumed = ib.pos;
      p.error = ZSTD_getErrorName(last);
      return p;
    }
    DG_CHECK(out.write({buf.data(), ob.pos}, ib.pos));
    // Several frames may follow each other (zstd concatenates them); stop once the input
    // is used up and the decoder has nothing more to flush (it left room in the buffer).
    if (ib.pos == ib.size && (last == 0 || ob.pos < ob.size)) break;
  }
  p.consumed = ib.pos;
  p.finished = last == 0;
  return p;
}

Result<Progress> run_lz4(std::span<const std::byte> in, TempWriter& out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return Error{Errc::io, 0, "lz4: cannot create a decompression context"};
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(raw, LZ4F_freeDecompressionContext);
  std::vector<std::byte> buf(kOutChunk);
  Progress p;
  size_t hint = 1;
  std::uint64_t pos = 0;
  while (pos < in.size()) {
    size_t out_size = buf.size();
    size_t in_size = in.size() - pos;
    hint = LZ4F_decompress(ctx.get(), buf.data(), &out_size, in.data() + pos, &in_size, nullptr);
    if (LZ4F_isError(hint)) {
      p.consumed = pos;
      p.error = LZ4F_getErrorName(hint);
      return p;
    }
    pos += in_size;
    DG_CHECK(out.write({buf.data(), out_size}, pos));
    if (in_size == 0 && out_size == 0) break;
  }
  p.consumed = pos;
  p.finished = !LZ4F_isError(hint) && hint == 0;  // 0: a frame ended exactly here
  return p;
}

Result<Progress> run_xz(std::span<const std::byte> in, TempWriter& out) {
  lzma_stream strm = LZMA_STREAM_INIT;
  // A memory limit for the decoder, which allocates the dictionary the stream header names:
  // 128 MiB covers every xz preset (-9e needs about 65 MiB) and bounds a crafted header.
  if (lzma_stream_decoder(&strm, 128ull << 20, LZMA_CONCATENATED) != LZMA_OK) {
    return Error{Errc::io, 0, "xz: cannot create a decoder"};
  }
  std::unique_ptr<lzma_stream, decltype(&lzma_end)> guard(&strm, lzma_end);
  std::vector<std::byte> buf(kOutChunk);
  strm.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  strm.avail_in = in.size();
  Progress p;
  for (;;) {
    strm.next_out = reinterpret_cast<std::uint8_t*>(buf.data());
    strm.avail_out = buf.size();
    const lzma_action action = strm.avail_in == 0 ? LZMA_FINISH : LZMA_RUN;
    const lzma_ret ret = lzma_code(&strm, action);
    const std::size_t produced = buf.size() - strm.avail_out;
    DG_CHECK(out.write({buf.data(), produced}, strm.total_in));
    if (ret == LZMA_STREAM_END) {
      p.finished = true;
      break;
    }
    if (ret == LZMA_BUF_ERROR && strm.avail_in == 0) break;  // input ended early
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

Result<Decompressed> decompress(std::span<const std::byte> input, Compression kind,
                                const DecompressLimits& limits) {
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
