// The relay's HTTP(S) server: cpp-httplib parses and routes each request, but the connections
// are the relay's. Each is served by a thread of its own, at most `max_connections` at once
// (more are answered 503 with Retry-After, or closed during TLS, at once), through a
// ConnectionStream whose deadlines bound how long a client can hold one: a thousand clients that
// trickle their headers hold a thousand idle threads for header_timeout, not the relay.
// TLS is the relay's own OpenSSL context (httplib's SSLServer hides its connection loop),
// with client certificates required when a CA is given.
#pragma once
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <httplib.h>

#include "dumpguard/result.hpp"
#include "relay/connection_stream.hpp"

namespace dumpguard::relay {

struct HeldConnections;  // the connections being served, shared with their threads

struct TlsFiles {
  std::string cert;       // empty: plain HTTP
  std::string key;
  std::string client_ca;  // set: a client must show a certificate this CA signed
};

struct ServerCounts {
  std::uint64_t refused_busy = 0;   // connections past max_connections
  std::uint64_t head_timeouts = 0;  // heads (or TLS handshakes) that missed header_timeout
  std::uint64_t tls_refused = 0;    // handshakes that failed (a missing or foreign client certificate, ...)
};

class RelayHttpServer final : public httplib::Server {
 public:
  static Result<std::unique_ptr<RelayHttpServer>> make(const ConnectionLimits& limits, unsigned max_connections,
                                                       const TlsFiles& tls);
  ~RelayHttpServer() override;
  RelayHttpServer(const RelayHttpServer&) = delete;
  RelayHttpServer& operator=(const RelayHttpServer&) = delete;

  bool tls() const { return ctx_ != nullptr; }
  // After binding: a listen backlog for many clients connecting at once (httplib's is 5).
  void set_backlog(int backlog);
  ServerCounts counts() const;

  // On a thread serving a request: whether its body missed upload_timeout.
  static bool body_deadline_passed();

 private:
  RelayHttpServer(const ConnectionLimits& limits, unsigned max_connections, SSL_CTX* ctx);
  bool process_and_close_socket(socket_t sock) override;
  bool serve(ConnectionStream& stream, ConnectionClock::time_point accepted);
  void refuse(int sock);

  ConnectionLimits limits_;
  SSL_CTX* ctx_;
  std::shared_ptr<HeldConnections> held_;
  std::atomic<std::uint64_t> head_timeouts_{0};
  std::atomic<std::uint64_t> tls_refused_{0};
};

}  // namespace dumpguard::relay
