#include "relay/http_server.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

namespace dumpguard::relay {

struct HeldConnections {
  explicit HeldConnections(unsigned limit) : cap(limit) {}
  const unsigned cap;
  std::mutex mutex;
  std::condition_variable idle;
  unsigned live = 0;       // connections with a thread of their own
  std::set<int> sockets;   // their sockets, to end their reads when the server stops
  bool stopping = false;
  std::atomic<std::uint64_t> refused{0};

  bool admit() {
    std::lock_guard lock(mutex);
    if (live >= cap) return false;
    ++live;
    return true;
  }
  void finished() {
    std::lock_guard lock(mutex);
    if (--live == 0) idle.notify_all();
  }
  bool hold(int sock) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    sockets.insert(sock);
    return true;
  }
  // Under the lock, so that stop() never shuts down a descriptor number already reused.
  void forget_and_close(int sock) {
    std::lock_guard lock(mutex);
    sockets.erase(sock);
    ::close(sock);
  }
  // Reads end at once (a head or body being read fails, a kept-alive wait ends); an upload being
  // judged or forwarded goes on, and its answer can still be written.
  void stop() {
    std::unique_lock lock(mutex);
    stopping = true;
    for (int s : sockets) ::shutdown(s, SHUT_RD);
    idle.wait(lock, [this] { return live == 0; });
  }
};

namespace {

// The connection this thread serves, for the handlers httplib calls with a Request alone.
thread_local ConnectionStream* t_stream = nullptr;
// Set while the accept thread runs a connection's job itself, to refuse it.
thread_local bool t_refusing = false;

// httplib's accept loop hands each connection to a TaskQueue as an opaque job: here each job
// gets a thread of its own while fewer than the cap are live, and is run on the accept thread
// to be refused otherwise (RelayHttpServer::process_and_close_socket sees t_refusing).
class ConnectionThreads final : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(std::shared_ptr<HeldConnections> held) : held_(std::move(held)) {}

  void enqueue(std::function<void()> fn) override {
    if (held_->admit()) {
      auto job = std::make_shared<std::function<void()>>(std::move(fn));
      try {
        // The thread keeps the shared state alive past the server's wait in stop().
        std::thread([held = held_, job] {
          (*job)();
          held->finished();
        }).detach();
        return;
      } catch (const std::system_error&) {
        held_->finished();  // no thread to be had (a pid or memory limit): refused like one too many
        fn = std::move(*job);
      }
    }
    t_refusing = true;
    fn();
    t_refusing = false;
  }

  void shutdown() override { held_->stop(); }

 private:
  std::shared_ptr<HeldConnections> held_;
};

std::string plain_answer(int status, const char* reason, std::string_view body, std::string_view extra = "") {
  return fmt::format("HTTP/1.1 {} {}\r\n{}Connection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
                     status, reason, extra, body.size(), body);
}

Result<SSL_CTX*> tls_context(const TlsFiles& tls) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Error{Errc::io, 0, "OpenSSL could not make a TLS context"};
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // An idle connection keeps no read and write buffers (about 34 KiB each otherwise): many
  // clients may hold one at once.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return Error{Errc::bad_value, 0, fmt::format("cannot use the TLS certificate {} and key {}", tls.cert, tls.key)};
  }
  if (!tls.client_ca.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(ctx.get(), tls.client_ca.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      ERR_clear_error();
      return Error{Errc::bad_value, 0, fmt::format("cannot use {} as the clients' CA: it holds no PEM certificate", tls.client_ca)};
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    // Refused in the handshake: a client without a certificate, or with one this CA did not
    // sign, never gets to send a byte of HTTP.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx.release();
}

}  // namespace

Result<std::unique_ptr<RelayHttpServer>> RelayHttpServer::make(const ConnectionLimits& limits, unsigned max_connections,
                                                               const TlsFiles& tls) {
  SSL_CTX* ctx = nullptr;
  if (!tls.cert.empty()) {
    DG_TRY(ctx, tls_context(tls));
  }
  return std::unique_ptr<RelayHttpServer>(new RelayHttpServer(limits, max_connections, ctx));
}

RelayHttpServer::RelayHttpServer(const ConnectionLimits& limits, unsigned max_connections, SSL_CTX* ctx)
    : limits_(limits), ctx_(ctx), held_(std::make_shared<HeldConnections>(max_connections)) {
  new_task_queue = [held = held_] { return new ConnectionThreads(held); };
  // httplib answers a head it could not read with 400; when the stream says the head ran out
  // of time or of room, the answer says so.
  set_error_handler(HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (t_stream == nullptr || !t_stream->in_head() || t_stream->ended() == ConnectionStream::Ended::no) {
      return HandlerResponse::Unhandled;
    }
    const bool large = t_stream->ended() == ConnectionStream::Ended::head_too_large;
    res.status = large ? 431 : 408;
    res.set_header("Connection", "close");
    res.set_content(large ? "dumpguard relay: the request's head is too large\n"
                          : "dumpguard relay: the request's head did not arrive in time\n",
                    "text/plain");
    return HandlerResponse::Handled;
  }));
  // An answer that says "Connection: close" (a refused upload, whose body may be unread) ends
  // the connection: httplib would read what follows as the next request.
  set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (t_stream == nullptr || res.get_header_value("Connection") != "close") return;
    res.headers.erase("Keep-Alive");
    t_stream->close_after_answer();
  });
}

RelayHttpServer::~RelayHttpServer() { SSL_CTX_free(ctx_); }

void RelayHttpServer::set_backlog(int backlog) {
  const int sock = svr_sock_;
  if (sock >= 0) ::listen(sock, backlog);
}

ServerCounts RelayHttpServer::counts() const {
  return {held_->refused.load(), head_timeouts_.load(), tls_refused_.load()};
}

bool RelayHttpServer::body_deadline_passed() {
  return t_stream != nullptr && !t_stream->in_head() && t_stream->ended() == ConnectionStream::Ended::deadline;
}

void RelayHttpServer::refuse(int sock) {
  held_->refused.fetch_add(1);
  if (ctx_ == nullptr) {
    // Connections free up within a head's or an upload's time; a client that comes back after a
    // second may find room. Never waits: a full socket buffer loses the answer, not the thread.
    static const std::string busy = plain_answer(503, "Service Unavailable",
                                                 "dumpguard relay: too many connections at once; try again\n",
                                                 "Retry-After: 1\r\n");
    (void)::send(sock, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(sock, SHUT_WR);
  }
  ::close(sock);
}

bool RelayHttpServer::process_and_close_socket(socket_t sock) {
  if (t_refusing) {
    refuse(sock);
    return false;
  }
  if (!held_->hold(sock)) {
    ::close(sock);
    return false;
  }
  const ConnectionClock::time_point accepted = ConnectionClock::now();
  bool ok = false;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(ctx_ != nullptr ? SSL_new(ctx_) : nullptr, SSL_free);
  if (ctx_ == nullptr || (ssl && SSL_set_fd(ssl.get(), sock) == 1)) {
    ConnectionStream stream(sock, ssl.get(), limits_);
    ok = serve(stream, accepted);
    // One close_notify, not waiting for the client's: the socket is closed next.
    if (ssl && SSL_is_init_finished(ssl.get()) == 1) SSL_shutdown(ssl.get());
  }
  ssl.reset();
  held_->forget_and_close(sock);
  return ok;
}

bool RelayHttpServer::serve(ConnectionStream& stream, ConnectionClock::time_point accepted) {
  const auto head_time =
      std::chrono::duration_cast<ConnectionClock::duration>(std::chrono::duration<double>(limits_.header_timeout));
  if (stream.ssl() != nullptr && !stream.handshake(accepted + head_time)) {
    (stream.ended() == ConnectionStream::Ended::no ? tls_refused_ : head_timeouts_).fetch_add(1);
    return false;
  }
  ConnectionClock::time_point deadline = accepted + head_time;
  bool ok = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    if (left != keep_alive_max_count_) {
      if (!stream.next_request_starts()) break;
      deadline = ConnectionClock::now() + head_time;
    }
    stream.begin_head(deadline);
    bool closed = false;
    t_stream = &stream;
    ok = process_request(stream, left == 1, closed, [&stream](httplib::Request& req) {
      stream.begin_body();
      req.ssl = stream.ssl();
    });
    t_stream = nullptr;
    if (stream.in_head() && stream.ended() != ConnectionStream::Ended::no) {
      if (stream.ended() != ConnectionStream::Ended::head_too_large) head_timeouts_.fetch_add(1);
      // httplib says nothing when the request line itself did not arrive.
      if (stream.written() == 0) {
        const bool large = stream.ended() == ConnectionStream::Ended::head_too_large;
        const std::string answer =
            large ? plain_answer(431, "Request Header Fields Too Large", "dumpguard relay: the request's head is too large\n")
                  : plain_answer(408, "Request Timeout", "dumpguard relay: the request's head did not arrive in time\n");
        (void)stream.write(answer.data(), answer.size());
      }
      return false;
    }
    if (!ok || closed || stream.closing()) break;
  }
  return ok;
}

}  // namespace dumpguard::relay
