#include "relay/forward.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
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

}  // namespace

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
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
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
