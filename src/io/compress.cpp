#include "io/compress.hpp"

#include <lz4frame.h>
#include <lzma.h>
#include <zstd.h>

#include <fmt/format.h>
#include <vector>

namespace dumpguard {

namespace {

Error codec_error(std::string_view codec, std::string_view what) {
  return Error{Errc::io, 0, fmt::format("{} compression failed: {}", codec, what)};
}

std::span<const std::byte> as_span(const std::vector<std::uint8_t>& v, std::size_t n) {
  return std::as_bytes(std::span(v.data(), n));
}

class Zstd final : public Compressor {
 public:
  explicit Zstd(CompressedSink sink) : sink_(std::move(sink)), ctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
    if (ctx_ != nullptr) ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, 3);
  }
  ~Zstd() override { ZSTD_freeCCtx(ctx_); }
  Status write(std::span<const std::byte> bytes) override { return run(bytes, ZSTD_e_continue); }
  Status finish() override { return run({}, ZSTD_e_end); }

 private:
  Status run(std::span<const std::byte> bytes, ZSTD_EndDirective mode) {
    if (ctx_ == nullptr) return codec_error("zstd", "no context");
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(ctx_, &out, &in, mode);
      if (ZSTD_isError(left)) return codec_error("zstd", ZSTD_getErrorName(left));
      if (out.pos > 0) DG_CHECK(sink_(as_span(out_, out.pos)));
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return std::monostate{};
    }
  }
  CompressedSink sink_;
  ZSTD_CCtx* ctx_;
  std::vector<std::uint8_t> out_;
};

class Lz4 final : public Compressor {
 public:
  explicit Lz4(CompressedSink sink) : sink_(std::move(sink)) {
    if (LZ4F_isError(LZ4F_createCompressionContext(&ctx_, LZ4F_VERSION))) ctx_ = nullptr;
  }
  ~Lz4() override { LZ4F_freeCompressionContext(ctx_); }
  Status write(std::span<const std::byte> bytes) override {
    if (ctx_ == nullptr) return codec_error("lz4", "no context");
    if (!started_) {
      out_.resize(LZ4F_HEADER_SIZE_MAX);
      const std::size_t n = LZ4F_compressBegin(ctx_, out_.data(), out_.size(), nullptr);
      if (LZ4F_isError(n)) return codec_error("lz4", LZ4F_getErrorName(n));
      DG_CHECK(sink_(as_span(out_, n)));
      started_ = true;
    }
    constexpr std::size_t kPiece = 1 << 20;
    for (std::size_t at = 0; at < bytes.size(); at += kPiece) {
      const std::size_t len = std::min(kPiece, bytes.size() - at);
      out_.resize(LZ4F_compressBound(len, nullptr));
      const std::size_t n = LZ4F_compressUpdate(ctx_, out_.data(), out_.size(), bytes.data() + at, len, nullptr);
      if (LZ4F_isError(n)) return codec_error("lz4", LZ4F_getErrorName(n));
      if (n > 0) DG_CHECK(sink_(as_span(out_, n)));
    }
    return std::monostate{};
  }
  Status finish() override {
    if (!started_) DG_CHECK(write({}));
    out_.resize(LZ4F_compressBound(0, nullptr));
    const std::size_t n = LZ4F_compressEnd(ctx_, out_.data(), out_.size(), nullptr);
    if (LZ4F_isError(n)) return codec_error("lz4", LZ4F_getErrorName(n));
    return sink_(as_span(out_, n));
  }

 private:
  CompressedSink sink_;
  LZ4F_cctx* ctx_ = nullptr;
  bool started_ = false;
  std::vector<std::uint8_t> out_;
};

class Xz final : public Compressor {
 public:
  explicit Xz(CompressedSink sink) : sink_(std::move(sink)), out_(1 << 20) {
    ok_ = lzma_easy_encoder(&stream_, 6, LZMA_CHECK_CRC64) == LZMA_OK;
  }
  ~Xz() override { lzma_end(&stream_); }
  Status write(std::span<const std::byte> bytes) override { return run(bytes, LZMA_RUN); }
  Status finish() override { return run({}, LZMA_FINISH); }

 private:
  Status run(std::span<const std::byte> bytes, lzma_action action) {
    if (!ok_) return codec_error("xz", "no encoder");
    stream_.next_in = reinterpret_cast<const std::uint8_t*>(bytes.data());
    stream_.avail_in = bytes.size();
    for (;;) {
      stream_.next_out = out_.data();
      stream_.avail_out = out_.size();
      const lzma_ret ret = lzma_code(&stream_, action);
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) return codec_error("xz", fmt::format("lzma error {}", static_cast<int>(ret)));
      const std::size_t n = out_.size() - stream_.avail_out;
      if (n > 0) DG_CHECK(sink_(as_span(out_, n)));
      if (action == LZMA_FINISH ? ret == LZMA_STREAM_END : stream_.avail_in == 0) return std::monostate{};
    }
  }
  CompressedSink sink_;
  lzma_stream stream_ = LZMA_STREAM_INIT;
  bool ok_ = false;
  std::vector<std::uint8_t> out_;
};

}  // namespace

std::unique_ptr<Compressor> make_compressor(std::string_view compression, CompressedSink sink) {
  if (compression == "zstd") return std::make_unique<Zstd>(std::move(sink));
  if (compression == "lz4") return std::make_unique<Lz4>(std::move(sink));
  if (compression == "xz") return std::make_unique<Xz>(std::move(sink));
  return nullptr;
}

}  // namespace dumpguard
