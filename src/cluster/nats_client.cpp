#include "cluster/nats_client.hpp"

#include <fmt/format.h>

#include <utility>

namespace dumpguard {

std::string printable_url(const std::string& url) {
  const auto scheme = url.find("://");
  const std::size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = url.find('@', from);
  const auto slash = url.find('/', from);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  return url.substr(0, from) + url.substr(at + 1);
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
  // A restarting server is waited for (every 250 ms, for ever): its clients carry on after it.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
  NatsClient client;
  client.url_ = printable_url(o.url);
  if (s == NATS_OK) s = natsConnection_Connect(&client.nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return nats_error(fmt::format("cannot connect to {}", client.url_), s);
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
