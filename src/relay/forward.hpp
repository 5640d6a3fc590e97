// The way upstream: one POST with libcurl to the collector the relay stands in front of (Sentry's
// minidump endpoint, Socorro's /submit, BugSplat, Backtrace, any URL), and its answer, kept
// whole up to a cap so that it can go back to the client unchanged (Crashpad keeps the body as
// the report's id).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard::relay {

struct UpstreamAnswer {
  long status = 0;
  std::string body;
  std::string content_type;
};

struct UpstreamRequest {
  std::string url;                   // the upstream URL, with the client's query string appended
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  double timeout = 60;               // seconds for the whole exchange
  std::size_t max_answer = 1u << 20; // a longer answer is an error
};

// Once per process, before any thread posts (curl_global_init is not thread-safe).
void init_upstream_client();
// Once, after the last post (curl_global_cleanup).
void close_upstream_client();

// An error when the upstream cannot be reached or its answer is too long; any HTTP status is an answer.
Result<UpstreamAnswer> post_upstream(const UpstreamRequest& request);

// `url` without its query string and credentials: what audit records and messages name.
std::string upstream_for_records(const std::string& url);

}  // namespace dumpguard::relay
