// The way upstream: one POST with libcurl to the collector the relay stands in front of (Sentry's
// minidump endpoint, Socorro's /submit, BugSplat, Backtrace, any URL), and its answer, kept
// whole up to a cap so that it can go back to the client unchanged (Crashpad keeps the body as
// the report's id).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard::relay {

struct UpstreamAnswer {
  long status = 0;
  std::string body;
  std::string content_type;
};

// A piece of the body posted upstream: bytes held here, or the first `size` bytes of a file,
// read as libcurl asks for them, so that a dump on its way is never held whole in memory.
struct BodyPiece {
  std::string bytes;
  int fd = -1;             // >= 0: the file's bytes instead (not owned)
  std::uint64_t size = 0;  // how many of the file's
  std::uint64_t length() const { return fd >= 0 ? size : bytes.size(); }
};
using Body = std::vector<BodyPiece>;

std::uint64_t body_length(const Body& body);
// Hands the body's bytes to `out` in order, in blocks of at most 64 KiB.
Status each_block(const Body& body, const std::function<Status(std::span<const std::byte>)>& out);

struct UpstreamRequest {
  std::string url;                   // the upstream URL, with the client's query string appended
  std::vector<std::string> headers;  // "Name: value"
  Body body;                         // sent with its length as Content-Length
  double timeout = 60;               // seconds for the whole exchange
  std::size_t max_answer = 1u << 20; // a longer answer is an error
};

// Once per process, before any thread posts (curl_global_init is not thread-safe).
void init_upstream_client();
// Once, after the last post (curl_global_cleanup).
void close_upstream_client();

// An error when the upstream cannot be reached or its answer is too long; any HTTP status is an answer.
Result<UpstreamAnswer> post_upstream(const UpstreamRequest& request);

// How often a failing upstream is tried before the client hears of it.
struct UpstreamRetry {
  unsigned attempts = 3;  // in all, the first included
  double backoff = 0.5;   // seconds before the second attempt, doubled before each next one
};

struct Delivery {
  Result<UpstreamAnswer> answer;  // the last attempt's
  unsigned attempts = 0;
  bool failed() const { return !answer || answer->status >= 500; }
};

// post_upstream, again after the backoff while the upstream cannot be reached or answers 5xx
// (a collector restarting, a proxy in front of one that is down), at most `retry.attempts`
// times. A 4xx is the collector's verdict on the upload and is not retried, and neither is an
// answer too long to keep. An upstream that took the upload and failed only in answering gets it
// again: collectors dedupe by the report's guid, as they must for a reporter's own retries.
Delivery deliver_upstream(const UpstreamRequest& request, const UpstreamRetry& retry);

// `url` without its query string and credentials: what audit records and messages name.
std::string upstream_for_records(const std::string& url);

}  // namespace dumpguard::relay
