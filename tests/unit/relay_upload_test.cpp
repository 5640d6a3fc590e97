// The relay's upload reader: multipart bodies built byte by byte from RFC 2046 and RFC 7578 (as
// Crashpad's HTTPMultipartBuilder writes them), fed in every piece size so that a delimiter or a
// header block split across two reads is found; gzip through zlib; and each limit holding while
// the body arrives.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "relay/gzip_stream.hpp"
#include "relay/upload.hpp"

namespace dumpguard::relay {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

const std::string kBoundary = "---MultipartBoundary-0123456789abcdefghijABCDEFGHIJ01---";

std::string crashpad_body(const std::string& dump) {
  std::string b;
  b += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"prod\"\r\n\r\nmy_app\r\n";
  b += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"ver\"\r\n\r\n1.0\r\n";
  b += "--" + kBoundary +
       "\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"a%22b.dmp\"\r\n"
       "Content-Type: application/octet-stream\r\n\r\n";
  b += dump + "\r\n--" + kBoundary + "--\r\n";
  return b;
}

std::string content_of(const UploadPart& p) {
  if (!p.file) return p.value;
  auto read = read_all(p.fd.get(), 1u << 20);
  return read ? *read : std::string("<unreadable>");
}

Result<Upload> read_in_pieces(const std::string& type, const std::string& encoding, const std::string& body,
                              std::size_t piece, UploadLimits limits = {}) {
  DG_TRY(auto reader, UploadReader::start(type, encoding, limits));
  for (std::size_t at = 0; at < body.size(); at += piece) {
    DG_CHECK(reader->feed(bytes_of(std::string_view(body).substr(at, piece))));
  }
  return reader->finish();
}

std::string gzip_of(const std::string& s) {
  auto packed = gzip_compress(s);
  return packed ? *packed : std::string();
}

TEST(RelayUpload, CrashpadBodyInEveryPieceSize) {
  // A dump whose bytes hold CRLF, "--" and most of the boundary: only the whole delimiter ends it.
  std::string dump = "MDMP\r\n--" + kBoundary.substr(0, 20) + "\r\n\r\n--" + std::string(1, '\0') + "x";
  for (int i = 0; i < 300; ++i) dump.push_back(static_cast<char>(i * 7));
  const std::string body = crashpad_body(dump);
  for (std::size_t piece = 1; piece <= body.size(); piece += (piece < 80 ? 1 : 97)) {
    auto upload = read_in_pieces("multipart/form-data; boundary=" + kBoundary, "", body, piece);
    ASSERT_TRUE(upload) << piece << ": " << upload.error().message;
    ASSERT_EQ(upload->parts.size(), 3u);
    EXPECT_EQ(upload->parts[0].headers.name, "prod");
    EXPECT_EQ(content_of(upload->parts[0]), "my_app");
    EXPECT_EQ(content_of(upload->parts[1]), "1.0");
    const UploadPart& file = upload->parts[2];
    EXPECT_TRUE(file.file);
    EXPECT_EQ(file.headers.name, "upload_file_minidump");
    EXPECT_EQ(file.headers.filename.value_or(""), "a%22b.dmp");
    EXPECT_EQ(file.headers.content_type, "application/octet-stream");
    EXPECT_EQ(content_of(file), dump);
    EXPECT_EQ(upload->content_bytes, body.size());
  }
}

TEST(RelayUpload, GzipAndQuotedBoundaryAndPreamble) {
  const std::string body = "a preamble\r\n" + crashpad_body("MDMP....");
  auto upload = read_in_pieces("multipart/mixed; boundary=\"" + kBoundary + "\"", "gzip", gzip_of(body), 7);
  ASSERT_TRUE(upload) << upload.error().message;
  EXPECT_TRUE(upload->gzip);
  EXPECT_EQ(content_of(upload->parts[2]), "MDMP....");
}

TEST(RelayUpload, RawBody) {
  auto upload = read_in_pieces("application/octet-stream", "", "MDMP raw", 3);
  ASSERT_TRUE(upload);
  ASSERT_EQ(upload->parts.size(), 1u);
  EXPECT_EQ(upload->parts[0].headers.name, kMinidumpField);
  EXPECT_EQ(content_of(upload->parts[0]), "MDMP raw");
}

TEST(RelayUpload, IncompleteBodiesAreErrors) {
  const std::string type = "multipart/form-data; boundary=" + kBoundary;
  const std::string body = crashpad_body("MDMP");
  // Without the closing delimiter, cut anywhere.
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, body.size() / 2, body.size() - kBoundary.size() - 6}) {
    auto upload = read_in_pieces(type, "", body.substr(0, cut), 5);
    EXPECT_FALSE(upload) << cut;
  }
  // A gzip stream cut before its trailer, and one with bytes after it.
  const std::string zipped = gzip_of(body);
  EXPECT_FALSE(read_in_pieces(type, "gzip", zipped.substr(0, zipped.size() - 4), 64));
  EXPECT_FALSE(read_in_pieces(type, "gzip", zipped + "x", 64));
  EXPECT_FALSE(read_in_pieces(type, "gzip", "not gzip at all", 64));
  // A delimiter followed by neither CRLF nor "--"; a part without a blank line after its headers.
  EXPECT_FALSE(read_in_pieces(type, "", "--" + kBoundary + "xx\r\n\r\nv\r\n--" + kBoundary + "--", 4));
  EXPECT_FALSE(read_in_pieces(type, "", "--" + kBoundary + "\r\nBroken header line\r\n\r\nv\r\n--" + kBoundary + "--", 4));
}

TEST(RelayUpload, LimitsHoldWhileReading) {
  const std::string type = "multipart/form-data; boundary=" + kBoundary;
  UploadLimits limits;
  limits.max_body = 4096;
  limits.max_content = 8192;
  limits.max_field = 16;
  limits.max_parts = 3;
  auto code_of = [](const Result<Upload>& r) { return r ? Errc::io : r.error().code; };
  // The body as sent.
  EXPECT_EQ(code_of(read_in_pieces("application/octet-stream", "", std::string(5000, 'x'), 100, limits)), Errc::limit);
  // Inflated past the limit, from a small body.
  EXPECT_EQ(code_of(read_in_pieces("application/octet-stream", "gzip", gzip_of(std::string(100000, '\0')), 100, limits)),
            Errc::limit);
  // A long field, too many parts, a header block that never ends.
  const std::string field = "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n";
  EXPECT_EQ(code_of(read_in_pieces(type, "", field + std::string(17, 'v') + "\r\n--" + kBoundary + "--", 8, limits)),
            Errc::limit);
  std::string many;
  for (int i = 0; i < 4; ++i) many += field + "v\r\n";
  EXPECT_EQ(code_of(read_in_pieces(type, "", many + "--" + kBoundary + "--", 8, limits)), Errc::limit);
  limits.max_body = 1u << 20;
  limits.max_content = 1u << 20;
  EXPECT_EQ(code_of(read_in_pieces(type, "", "--" + kBoundary + "\r\nX: " + std::string(20000, 'h'), 512, limits)),
            Errc::limit);
}

TEST(RelayUpload, WhatItDoesNotTake) {
  EXPECT_EQ(UploadReader::start("text/html", "", {}).error().code, Errc::unsupported);
  EXPECT_EQ(UploadReader::start("application/octet-stream", "br", {}).error().code, Errc::unsupported);
  EXPECT_FALSE(UploadReader::start("multipart/form-data", "", {}));  // no boundary
  EXPECT_FALSE(UploadReader::start("multipart/form-data; boundary=" + std::string(71, 'b'), "", {}));
  EXPECT_FALSE(read_in_pieces("application/octet-stream", "", "", 1));  // empty
}

}  // namespace
}  // namespace dumpguard::relay
