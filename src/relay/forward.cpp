#include "relay/forward.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

namespace dumpguard::relay {
namespace {

struct Collected {
  UpstreamAnswer* answer;
  std::size_t max;
  bool too_long = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<Collected*>(user);
  const std::size_t n = size * count;
  if (n > c->max - c->answer->body.size()) {
    c->too_long = true;
    return 0;  // stops the transfer
  }
  c->answer->body.append(data, n);
  return n;
}

// The body as libcurl reads it: where the next byte is.
struct BodyCursor {
  const Body* body;
  std::size_t piece = 0;
  std::uint64_t offset = 0;  // within the piece
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<BodyCursor*>(user);
  const std::size_t room = size * count;
  std::size_t filled = 0;
  while (filled < room && c->piece < c->body->size()) {
    const BodyPiece& p = (*c->body)[c->piece];
    const std::uint64_t left = p.length() - c->offset;
    if (left == 0) {
      ++c->piece;
      c->offset = 0;
      continue;
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, room - filled));
    if (p.fd >= 0) {
      const ssize_t got = ::pread(p.fd, buffer + filled, n, static_cast<off_t>(c->offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return CURL_READFUNC_ABORT;  // the file is shorter than it was: send nothing more
      filled += static_cast<std::size_t>(got);
      c->offset += static_cast<std::uint64_t>(got);
    } else {
      std::memcpy(buffer + filled, p.bytes.data() + c->offset, n);
      filled += n;
      c->offset += n;
    }
  }
  return filled;
}

// libcurl rewinds the body when it must send it again on a new connection.
int seek_body(void* user, curl_off_t to, int origin) {
  auto* c = static_cast<BodyCursor*>(user);
  if (origin != SEEK_SET || to < 0) return CURL_SEEKFUNC_CANTSEEK;
  auto left = static_cast<std::uint64_t>(to);
  c->piece = 0;
  while (c->piece < c->body->size() && left >= (*c->body)[c->piece].length()) {
    left -= (*c->body)[c->piece].length();
    ++c->piece;
  }
  c->offset = left;
  return left == 0 || c->piece < c->body->size() ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

}  // namespace

std::uint64_t body_length(const Body& body) {
  std::uint64_t n = 0;
  for (const BodyPiece& p : body) n += p.length();
  return n;
}

Status each_block(const Body& body, const std::function<Status(std::span<const std::byte>)>& out) {
  std::vector<char> block(64 * 1024);
  BodyCursor cursor{&body};
  for (;;) {
    const std::size_t n = read_body(block.data(), 1, block.size(), &cursor);
    if (n == CURL_READFUNC_ABORT) return Error{Errc::io, 0, "a verified copy could not be read again"};
    if (n == 0) return ok_status();
    DG_CHECK(out(std::as_bytes(std::span<const char>(block.data(), n))));
  }
}

void init_upstream_client() { curl_global_init(CURL_GLOBAL_DEFAULT); }
void close_upstream_client() { curl_global_cleanup(); }

Result<UpstreamAnswer> post_upstream(const UpstreamRequest& request) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{Errc::io, 0, "libcurl could not be initialised"};
  struct curl_slist* list = nullptr;
  for (const std::string& h : request.headers) list = curl_slist_append(list, h.c_str());
  // curl would send "Expect: 100-continue" for a large body and wait for the answer first.
  list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, curl_slist_free_all);
  UpstreamAnswer answer;
  Collected collected{&answer, request.max_answer};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  BodyCursor cursor{&request.body};
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(c, CURLOPT_READDATA, &cursor);
  curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_body);
  curl_easy_setopt(c, CURLOPT_SEEKDATA, &cursor);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_length(request.body)));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &collected);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout * 1000));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  // No content decoding: the answer goes back to the client as the upstream sent it.
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  if (collected.too_long) {
    return Error{Errc::limit, 0, fmt::format("the upstream's answer is longer than {} bytes", request.max_answer)};
  }
  if (rc != CURLE_OK) {
    return Error{Errc::io, 0,
                 fmt::format("the upstream {} did not answer: {}", upstream_for_records(request.url),
                             error[0] != 0 ? error : curl_easy_strerror(rc))};
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) answer.content_type = type;
  return answer;
}

Delivery deliver_upstream(const UpstreamRequest& request, const UpstreamRetry& retry) {
  Delivery d{post_upstream(request), 1};
  double wait = retry.backoff;
  while (d.failed() && d.attempts < retry.attempts && (d.answer || d.answer.error().code != Errc::limit)) {
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    wait *= 2;
    d.answer = post_upstream(request);
    ++d.attempts;
  }
  return d;
}

std::string upstream_for_records(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  // scheme://user:password@host/...: the credentials are not recorded.
  const std::size_t scheme = out.find("://");
  const std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t path = out.find('/', host_start);
  const std::size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  return out;
}

}  // namespace dumpguard::relay
