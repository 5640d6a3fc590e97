// A streaming parser for multipart bodies (RFC 2046 section 5.1, as multipart/form-data in
// RFC 7578 uses it): crash reporters upload a minidump as one part and their annotations as the
// others. Bytes are fed as they arrive; each part's header block is handed over whole (at most
// Limits::max_header_bytes) and its content in pieces, so memory stays bounded by the limits and
// never by a length the client declares. A body that ends before its closing delimiter is an
// error at finish().
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dumpguard/result.hpp"

namespace dumpguard::relay {

// What a part's header block says, parsed from Content-Disposition and Content-Type.
struct PartHeaders {
  std::string raw;                      // the header block as received, without the blank line
  std::string name;                     // Content-Disposition's name parameter (may be empty)
  std::optional<std::string> filename;  // its filename parameter, when there is one
  std::string content_type;             // empty when the part has none
};

// The boundary parameter of a multipart Content-Type (quoted or not), or nothing when it is
// missing or not 1 to 70 characters (RFC 2046 section 5.1.1).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Parses one header block (lines separated by CRLF); nothing when a line is malformed.
std::optional<PartHeaders> parse_part_headers(std::string_view block);

class MultipartParser {
 public:
  struct Limits {
    std::size_t max_header_bytes = 16 * 1024;  // one part's header block
    std::size_t max_parts = 256;
    std::size_t max_preamble = 64 * 1024;      // bytes before the first delimiter
  };
  struct Events {
    std::function<Status(const PartHeaders&)> begin;
    std::function<Status(std::span<const std::byte>)> data;
    std::function<Status()> end;
  };
  MultipartParser(std::string boundary, Limits limits, Events events);

  Status feed(std::span<const std::byte> in);
  // Ok only when the closing delimiter was seen.
  Status finish();
  std::size_t parts() const { return parts_; }

 private:
  enum class State { preamble, after_delimiter, headers, content, epilogue };
  Status step();
  Status fail(Errc code, std::string message);

  std::string delimiter_;  // CRLF "--" boundary
  Limits limits_;
  Events events_;
  State state_ = State::preamble;
  std::string buffer_;     // bytes not yet handled (bounded: see feed)
  std::uint64_t offset_ = 0;  // body offset of buffer_[0]
  std::size_t parts_ = 0;
  std::size_t preamble_seen_ = 0;
  std::optional<Error> failed_;
};

}  // namespace dumpguard::relay
