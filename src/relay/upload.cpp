#include "relay/upload.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace dumpguard::relay {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type alone: "multipart/form-data; boundary=x" -> "multipart/form-data".
std::string media_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return lower(t);
}

}  // namespace

Result<UniqueFd> make_memory_file(const char* name) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
  if (fd.get() < 0) return Error{Errc::io, 0, fmt::format("cannot make a memory file: {}", std::strerror(errno))};
  return fd;
}

Status write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{Errc::io, 0, fmt::format("cannot write a memory file: {}", std::strerror(errno))};
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return ok_status();
}

Result<std::string> read_all(int fd, std::uint64_t max) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Error{Errc::io, 0, fmt::format("cannot stat a memory file: {}", std::strerror(errno))};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max) return Error{Errc::limit, 0, fmt::format("{} bytes is more than the limit of {}", size, max)};
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{Errc::io, got, fmt::format("cannot read a memory file: {}", std::strerror(errno))};
    got += static_cast<std::size_t>(n);
  }
  return out;
}

Result<std::unique_ptr<UploadReader>> UploadReader::start(std::string_view content_type,
                                                          std::string_view content_encoding,
                                                          const UploadLimits& limits) {
  std::unique_ptr<UploadReader> made(new UploadReader());
  UploadReader& r = *made;
  r.limits_ = limits;
  r.upload_.content_type = std::string(content_type);
  const std::string encoding = lower(content_encoding);
  if (encoding == "gzip" || encoding == "x-gzip") {
    r.upload_.gzip = true;
    r.gzip_.emplace(limits.max_content);
  } else if (!encoding.empty() && encoding != "identity") {
    return Error{Errc::unsupported, 0, "Content-Encoding must be gzip or none"};
  }
  const std::string type = media_type(content_type);
  if (type == "multipart/form-data" || type == "multipart/mixed") {
    const std::optional<std::string> boundary = multipart_boundary(content_type);
    if (!boundary) return Error{Errc::bad_value, 0, "the multipart Content-Type has no usable boundary"};
    r.upload_.multipart = true;
    MultipartParser::Limits ml;
    ml.max_parts = limits.max_parts;
    UploadReader* self = &r;
    r.multipart_.emplace(*boundary, ml,
                         MultipartParser::Events{
                             [self](const PartHeaders& h) { return self->begin_part(h); },
                             [self](std::span<const std::byte> b) { return self->part_data(b); },
                             [] { return ok_status(); },
                         });
  } else if (type.empty() || type == "application/octet-stream" || type == "application/x-dmp" ||
             type == "application/x-minidump") {
    // A raw minidump body: one file part, named as the multipart field would be.
    UploadPart part;
    part.headers.name = std::string(kMinidumpField);
    part.file = true;
    DG_TRY(part.fd, make_memory_file("dumpguard-relay-upload"));
    r.upload_.parts.push_back(std::move(part));
  } else {
    return Error{Errc::unsupported, 0,
                 "Content-Type must be multipart/form-data, multipart/mixed or application/octet-stream"};
  }
  return made;
}

Status UploadReader::feed(std::span<const std::byte> bytes) {
  if (bytes.size() > limits_.max_body - upload_.body_bytes) {
    return Error{Errc::limit, upload_.body_bytes, fmt::format("the body is larger than the limit of {} bytes", limits_.max_body)};
  }
  upload_.body_bytes += bytes.size();
  if (gzip_) return gzip_->feed(bytes, [this](std::span<const std::byte> out) { return content(out); });
  return content(bytes);
}

Status UploadReader::content(std::span<const std::byte> bytes) {
  if (bytes.size() > limits_.max_content - upload_.content_bytes) {
    return Error{Errc::limit, upload_.content_bytes,
                 fmt::format("the upload is larger than the limit of {} bytes", limits_.max_content)};
  }
  upload_.content_bytes += bytes.size();
  if (!multipart_) {
    UploadPart& part = upload_.parts.front();
    part.size += bytes.size();
    return write_all(part.fd.get(), bytes);
  }
  return multipart_->feed(bytes);
}

Status UploadReader::begin_part(const PartHeaders& headers) {
  UploadPart part;
  part.headers = headers;
  part.file = headers.filename.has_value() || headers.name == kMinidumpField;
  if (part.file) {
    DG_TRY(part.fd, make_memory_file("dumpguard-relay-part"));
  }
  upload_.parts.push_back(std::move(part));
  return ok_status();
}

Status UploadReader::part_data(std::span<const std::byte> bytes) {
  UploadPart& part = upload_.parts.back();
  part.size += bytes.size();
  if (part.file) return write_all(part.fd.get(), bytes);
  if (part.value.size() + bytes.size() > limits_.max_field) {
    return Error{Errc::limit, 0, fmt::format("a form field is longer than {} bytes", limits_.max_field)};
  }
  part.value.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return ok_status();
}

Result<Upload> UploadReader::finish() {
  if (gzip_) DG_CHECK(gzip_->finish());
  if (multipart_) DG_CHECK(multipart_->finish());
  if (upload_.content_bytes == 0) return Error{Errc::truncated, 0, "the upload is empty"};
  return std::move(upload_);
}

}  // namespace dumpguard::relay
