#include "relay/multipart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dumpguard::relay {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The parameters after a header value's first ';' (RFC 2045 section 5.1, RFC 6266): name=token or
// name="quoted string" with backslash escapes. Calls `each(name, value)`; false on a malformed one.
template <class Each>
bool for_each_parameter(std::string_view value, Each each) {
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    if (i == value.size()) break;
    const std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return false;
    const std::string_view name = trim(value.substr(i, eq - i));
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string parsed;
    if (i < value.size() && value[i] == '"') {
      ++i;
      bool closed = false;
      while (i < value.size()) {
        const char c = value[i++];
        if (c == '\\' && i < value.size()) {
          parsed.push_back(value[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          parsed.push_back(c);
        }
      }
      if (!closed) return false;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      if (i < value.size() && value[i] != ';') return false;
    } else {
      const std::size_t end = std::min(value.find(';', i), value.size());
      parsed = std::string(trim(value.substr(i, end - i)));
      i = end;
    }
    if (name.empty()) return false;
    each(name, std::move(parsed));
    if (i >= value.size()) break;
    i = value.find(';', i);
  }
  return true;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::optional<std::string> boundary;
  const bool ok = for_each_parameter(content_type, [&](std::string_view name, std::string value) {
    if (iequals(name, "boundary") && !boundary) boundary = std::move(value);
  });
  if (!ok || !boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  for (const char c : *boundary) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
  }
  return boundary;
}

std::optional<PartHeaders> parse_part_headers(std::string_view block) {
  PartHeaders h;
  h.raw = std::string(block);
  bool seen_disposition = false;
  bool seen_type = false;
  std::size_t at = 0;
  while (at < block.size()) {
    std::size_t eol = block.find("\r\n", at);
    if (eol == std::string_view::npos) eol = block.size();
    const std::string_view line = block.substr(at, eol - at);
    at = eol + 2;
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return std::nullopt;  // no controls, no bare CR or LF
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) continue;  // a folded line: not ours
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      if (c == ' ' || c == '\t') return std::nullopt;
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      if (seen_disposition) return std::nullopt;  // two dispositions: which part is which is unclear
      seen_disposition = true;
      bool has_name = false;
      const bool ok = for_each_parameter(value, [&](std::string_view key, std::string v) {
        if (iequals(key, "name") && !has_name) {
          h.name = std::move(v);
          has_name = true;
        } else if (iequals(key, "filename") && !h.filename) {
          h.filename = std::move(v);
        }
      });
      if (!ok) return std::nullopt;
    } else if (iequals(name, "Content-Type")) {
      if (seen_type) return std::nullopt;
      seen_type = true;
      h.content_type = std::string(value);
    }
  }
  return h;
}

MultipartParser::MultipartParser(std::string boundary, Limits limits, Events events)
    : delimiter_("\r\n--" + boundary), limits_(limits), events_(std::move(events)) {
  // The first delimiter may open the body without the CRLF before it (RFC 2046 section 5.1.1):
  // as if the body began with one.
  buffer_ = "\r\n";
}

Status MultipartParser::fail(Errc code, std::string message) {
  const std::uint64_t at = offset_ >= 2 ? offset_ - 2 : 0;
  failed_ = Error{code, at, std::move(message)};
  return *failed_;
}

Status MultipartParser::feed(std::span<const std::byte> in) {
  if (failed_) return *failed_;
  buffer_.append(reinterpret_cast<const char*>(in.data()), in.size());
  std::size_t pos = 0;
  const auto as_bytes = [&](std::size_t from, std::size_t to) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer_.data() + from), to - from);
  };
  const std::size_t keep = delimiter_.size() - 1;  // a delimiter may start in these last bytes
  bool more = true;
  while (more) {
    switch (state_) {
      case State::preamble: {
        const std::size_t hit = buffer_.find(delimiter_, pos);
        const std::size_t upto = hit != std::string::npos ? hit : std::max(pos, buffer_.size() > keep ? buffer_.size() - keep : 0);
        preamble_seen_ += upto - pos;
        if (preamble_seen_ > limits_.max_preamble) {
          return fail(Errc::limit, fmt::format("no multipart delimiter in the first {} bytes", limits_.max_preamble));
        }
        pos = upto;
        if (hit == std::string::npos) {
          more = false;
        } else {
          pos += delimiter_.size();
          state_ = State::after_delimiter;
        }
        break;
      }
      case State::after_delimiter: {
        if (buffer_.size() - pos < 2) {
          more = false;
          break;
        }
        if (buffer_.compare(pos, 2, "--") == 0) {
          pos += 2;
          state_ = State::epilogue;
          break;
        }
        std::size_t i = pos;
        while (i < buffer_.size() && (buffer_[i] == ' ' || buffer_[i] == '\t') && i - pos < 64) ++i;
        if (i - pos >= 64) return fail(Errc::bad_value, "a multipart delimiter is followed by too much padding");
        if (buffer_.size() - i < 2) {
          more = false;
          break;
        }
        if (buffer_.compare(i, 2, "\r\n") != 0) {
          return fail(Errc::bad_value, "a multipart delimiter is followed by neither CRLF nor \"--\"");
        }
        pos = i + 2;
        if (++parts_ > limits_.max_parts) {
          return fail(Errc::limit, fmt::format("more than {} parts", limits_.max_parts));
        }
        state_ = State::headers;
        break;
      }
      case State::headers: {
        if (buffer_.size() - pos < 2) {
          more = false;
          break;
        }
        std::string_view block;
        std::size_t next = 0;
        if (buffer_.compare(pos, 2, "\r\n") == 0) {
          next = pos + 2;  // no header lines
        } else {
          const std::size_t end = buffer_.find("\r\n\r\n", pos);
          const std::size_t length = end == std::string::npos ? buffer_.size() - pos : end - pos;
          if (length > limits_.max_header_bytes) {
            return fail(Errc::limit, fmt::format("a part's header block is longer than {} bytes", limits_.max_header_bytes));
          }
          if (end == std::string::npos) {
            more = false;
            break;
          }
          block = std::string_view(buffer_).substr(pos, length);
          next = end + 4;
        }
        std::optional<PartHeaders> headers = parse_part_headers(block);
        if (!headers) return fail(Errc::bad_value, fmt::format("part {} has a malformed header block", parts_));
        if (events_.begin) {
          if (Status s = events_.begin(*headers); !s) {
            failed_ = s.error();
            return s;
          }
        }
        pos = next;
        state_ = State::content;
        break;
      }
      case State::content: {
        const std::size_t hit = buffer_.find(delimiter_, pos);
        const std::size_t upto = hit != std::string::npos ? hit : std::max(pos, buffer_.size() > keep ? buffer_.size() - keep : 0);
        if (upto > pos && events_.data) {
          if (Status s = events_.data(as_bytes(pos, upto)); !s) {
            failed_ = s.error();
            return s;
          }
        }
        pos = upto;
        if (hit == std::string::npos) {
          more = false;
          break;
        }
        if (events_.end) {
          if (Status s = events_.end(); !s) {
            failed_ = s.error();
            return s;
          }
        }
        pos += delimiter_.size();
        state_ = State::after_delimiter;
        break;
      }
      case State::epilogue:
        pos = buffer_.size();  // after the closing delimiter: ignored (RFC 2046)
        more = false;
        break;
    }
  }
  buffer_.erase(0, pos);
  offset_ += pos;
  return ok_status();
}

Status MultipartParser::finish() {
  if (failed_) return *failed_;
  if (state_ != State::epilogue) {
    return fail(Errc::truncated, parts_ == 0 ? "the body holds no multipart delimiter"
                                             : "the multipart body ends before its closing delimiter");
  }
  return ok_status();
}

}  // namespace dumpguard::relay
