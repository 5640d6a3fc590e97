// One client connection of the relay, as cpp-httplib reads and writes it (an httplib::Stream),
// plain or TLS, with deadlines that httplib's own socket stream lacks: its read timeout applies
// to each read alone, so a client that trickles a byte now and then (slowloris) holds a
// connection for as long as it likes. Here the request's head (and the TLS handshake before it)
// must arrive by one deadline and its body by another; a wait that passes either fails the read,
// and the stream remembers why, so that the relay can answer 408 rather than 400.
#pragma once
#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <httplib.h>

namespace dumpguard::relay {

using ConnectionClock = std::chrono::steady_clock;

struct ConnectionLimits {
  double header_timeout = 10;      // accept (or a kept-alive request's first byte) to the end of the head
  double read_timeout = 10;        // the longest a client may send nothing
  double upload_timeout = 300;     // the end of the head to the end of the body
  double write_timeout = 10;       // the longest a client may take nothing of the answer
  double keep_alive_timeout = 5;   // the wait for a kept-alive connection's next request
  std::size_t max_head = 64 * 1024;  // request line and headers; httplib caps a line, not their number
};

class ConnectionStream final : public httplib::Stream {
 public:
  // Why the last read failed, when it was a wait that ended.
  enum class Ended { no, silent, deadline, head_too_large };

  // Takes neither `fd` nor `ssl`: the caller closes and frees them. `fd` is made non-blocking.
  ConnectionStream(int fd, SSL* ssl, const ConnectionLimits& limits);

  // TLS only: the handshake, by `deadline`. False when it failed or the deadline passed.
  bool handshake(ConnectionClock::time_point deadline);
  // Whether a kept-alive connection's next request starts within keep_alive_timeout.
  bool next_request_starts();
  // The phases of one request: its head must be read by `deadline`, then its body by
  // upload_timeout after the head.
  void begin_head(ConnectionClock::time_point deadline);
  void begin_body();

  void close_after_answer() { closing_ = true; }
  bool closing() const { return closing_; }
  bool in_head() const { return in_head_; }
  Ended ended() const { return ended_; }
  std::uint64_t written() const { return written_; }  // bytes of answer written for this request
  SSL* ssl() const { return ssl_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, std::size_t size) override;
  ssize_t write(const char* ptr, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

 private:
  ssize_t read_some(char* ptr, std::size_t size);
  // Waits for `events` on the socket for at most `seconds`, and never past the deadline when
  // `bounded`. False, with ended_ set, when the wait ended without them.
  bool wait(short events, double seconds, bool bounded);

  int fd_;
  SSL* ssl_;
  const ConnectionLimits& limits_;
  ConnectionClock::time_point deadline_;
  bool in_head_ = true;
  bool closing_ = false;
  std::size_t head_bytes_ = 0;
  Ended ended_ = Ended::no;
  std::uint64_t written_ = 0;
  // httplib reads a head one byte at a time: the socket is read in blocks instead.
  std::vector<char> buffer_;
  std::size_t buffer_at_ = 0;
  std::size_t buffer_end_ = 0;
};

}  // namespace dumpguard::relay
