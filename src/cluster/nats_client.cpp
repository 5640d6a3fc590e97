#include "cluster/nats_client.hpp"

#include <fmt/format.h>

#include <utility>

namespace dumpguard {

namespace {

// USER:PASSWORD of a URL's first server, or empty.
std::string user_info(const std::string& url) {
  const auto scheme = url.find("://");
  const std::size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = url.find('@', from);
  const auto slash = url.find_first_of("/,", from);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return "";
  return url.substr(from, at - from);
}

}  // namespace

std::string printable_url(const std::string& url) {
  const std::string info = user_info(url);
  if (info.empty()) return url;
  const auto scheme = url.find("://");
  const std::size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  return url.substr(0, from) + url.substr(from + info.size() + 1);
}

std::string url_host(const std::string& url) {
  std::string first = url.substr(0, url.find(','));
  const auto scheme = first.find("://");
  if (scheme != std::string::npos) first = first.substr(scheme + 3);
  if (const auto at = first.rfind('@'); at != std::string::npos) first = first.substr(at + 1);
  if (!first.empty() && first.front() == '[') return first.substr(1, first.find(']') - 1);
  return first.substr(0, first.find_first_of(":/"));
}

Error nats_error(const std::string& doing, natsStatus status, jsErrCode code) {
  std::string text = natsStatus_GetText(status);
  if (code != 0) text += fmt::format(" (JetStream error {})", static_cast<int>(code));
  // A JetStream call the account's permissions refuse comes back as a timeout (no reply comes).
  if (status == NATS_TIMEOUT) text += "; refused by the account's permissions, or the server did not answer";
  return Error{Errc::io, 0, fmt::format("{}: {}", doing, text)};
}

Result<NatsClient> NatsClient::connect(const NatsOptions& o) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, o.url.c_str());
  if (s == NATS_OK && !o.name.empty()) s = natsOptions_SetName(opts, o.name.c_str());
  if (s == NATS_OK && !o.creds.empty()) s = natsOptions_SetUserCredentialsFromFiles(opts, o.creds.c_str(), nullptr);
  // The C client checks a TLS server's certificate against its trust store only, and its name
  // only when it is told one (its "expected hostname"): without it, any certificate the CA ever
  // signed would do. Set whether or not the URL asks for TLS, since a server may require it.
  const std::string host = url_host(o.url);
  if (s == NATS_OK && !host.empty()) s = natsOptions_SetExpectedHostname(opts, host.c_str());
  if (s == NATS_OK && !o.ca.empty()) s = natsOptions_SetSecure(opts, true);
  if (s == NATS_OK && !o.ca.empty()) s = natsOptions_LoadCATrustedCertificates(opts, o.ca.c_str());
  // A restarting server is waited for (every 250 ms, for ever): its clients carry on after it.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
  NatsClient client;
  client.url_ = printable_url(o.url);
  if (s == NATS_OK) s = natsConnection_Connect(&client.nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    // The client's own words say which: the certificate, the credentials, the address.
    natsStatus last = NATS_OK;
    const char* said = nats_GetLastError(&last);
    std::string why = said != nullptr ? said : "";
    for (char& c : why) c = c == '\n' || c == '\r' ? ' ' : c;
    // Its words may quote the URL: neither its user information nor the password alone stays.
    const std::string info = user_info(o.url);
    const auto colon = info.find(':');
    for (const std::string& secret : {info, colon == std::string::npos ? std::string() : info.substr(colon + 1)}) {
      if (secret.empty()) continue;
      for (auto at = why.find(secret); at != std::string::npos; at = why.find(secret)) why.replace(at, secret.size(), "...");
    }
    Error error = nats_error(fmt::format("cannot connect to {}", client.url_), s);
    if (!why.empty() && why != natsStatus_GetText(s)) error.message += fmt::format(" ({})", why);
    return error;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  s = natsConnection_JetStream(&client.js_, client.nc_, &jo);
  if (s != NATS_OK) return nats_error(fmt::format("{}: no JetStream context", client.url_), s);
  return client;
}

Result<kvStore*> NatsClient::state() {
  if (kv_ != nullptr) return kv_;
  const natsStatus s = js_KeyValue(&kv_, js_, kStateBucket);
  if (s != NATS_OK) {
    kv_ = nullptr;
    return nats_error(fmt::format("{}: cannot open the key-value bucket {} (run `dumpguard cluster init` with the "
                                  "admin's credentials first)",
                                  url_, kStateBucket),
                      s);
  }
  return kv_;
}

NatsClient::NatsClient(NatsClient&& o) noexcept
    : nc_(std::exchange(o.nc_, nullptr)), js_(std::exchange(o.js_, nullptr)), kv_(std::exchange(o.kv_, nullptr)),
      url_(std::move(o.url_)) {}

NatsClient& NatsClient::operator=(NatsClient&& o) noexcept {
  if (this != &o) {
    this->~NatsClient();
    nc_ = std::exchange(o.nc_, nullptr);
    js_ = std::exchange(o.js_, nullptr);
    kv_ = std::exchange(o.kv_, nullptr);
    url_ = std::move(o.url_);
  }
  return *this;
}

NatsClient::~NatsClient() {
  if (kv_ != nullptr) kvStore_Destroy(kv_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_FlushTimeout(nc_, 2000);
    natsConnection_Destroy(nc_);
  }
  kv_ = nullptr;
  js_ = nullptr;
  nc_ = nullptr;
}

}  // namespace dumpguard
