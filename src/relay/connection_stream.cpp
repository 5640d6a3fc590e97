#include "relay/connection_stream.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

namespace dumpguard::relay {
namespace {

constexpr std::size_t kBlock = 4096;

int milliseconds(double seconds) {
  if (seconds <= 0) return 0;
  return static_cast<int>(std::min(seconds * 1000.0 + 0.999, static_cast<double>(INT_MAX)));
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  char host[NI_MAXHOST] = {0};
  char serv[NI_MAXSERV] = {0};
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(serv);
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, SSL* ssl, const ConnectionLimits& limits)
    : fd_(fd), ssl_(ssl), limits_(limits), deadline_(ConnectionClock::now()) {
  const int flags = fcntl(fd_, F_GETFL, 0);
  if (flags >= 0) fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

bool ConnectionStream::wait(short events, double seconds, bool bounded) {
  for (;;) {
    double allowed = seconds;
    if (bounded) {
      const double left = std::chrono::duration<double>(deadline_ - ConnectionClock::now()).count();
      if (left <= 0) {
        ended_ = Ended::deadline;
        return false;
      }
      allowed = std::min(allowed, left);
    }
    pollfd p{fd_, events, 0};
    const int rc = ::poll(&p, 1, milliseconds(allowed));
    if (rc < 0 && errno == EINTR) continue;
    if (rc > 0) return true;
    if (rc < 0) {
      ended_ = Ended::silent;
      return false;
    }
    // Timed out: the deadline if that is what bounded the wait, else the client's silence.
    ended_ = bounded && ConnectionClock::now() >= deadline_ ? Ended::deadline : Ended::silent;
    return false;
  }
}

bool ConnectionStream::handshake(ConnectionClock::time_point deadline) {
  deadline_ = deadline;
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_accept(ssl_);
    if (rc == 1) return true;
    const int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ) {
      if (!wait(POLLIN, limits_.read_timeout, true)) return false;
    } else if (e == SSL_ERROR_WANT_WRITE) {
      if (!wait(POLLOUT, limits_.write_timeout, true)) return false;
    } else {
      return false;  // no certificate, a wrong one, not TLS at all
    }
  }
}

bool ConnectionStream::next_request_starts() {
  if (buffer_at_ < buffer_end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
  return wait(POLLIN, limits_.keep_alive_timeout, false);
}

void ConnectionStream::begin_head(ConnectionClock::time_point deadline) {
  deadline_ = deadline;
  in_head_ = true;
  head_bytes_ = 0;
  ended_ = Ended::no;
  written_ = 0;
}

void ConnectionStream::begin_body() {
  in_head_ = false;
  deadline_ = ConnectionClock::now() +
              std::chrono::duration_cast<ConnectionClock::duration>(std::chrono::duration<double>(limits_.upload_timeout));
}

bool ConnectionStream::is_readable() const {
  if (buffer_at_ < buffer_end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
  const double left = std::chrono::duration<double>(deadline_ - ConnectionClock::now()).count();
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, milliseconds(std::min(limits_.read_timeout, left))) > 0;
}

bool ConnectionStream::is_writable() const {
  pollfd p{fd_, POLLOUT, 0};
  return ::poll(&p, 1, milliseconds(limits_.write_timeout)) > 0;
}

ssize_t ConnectionStream::read_some(char* ptr, std::size_t size) {
  const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  for (;;) {
    short want = POLLIN;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int rc = SSL_read(ssl_, ptr, chunk);
      if (rc > 0) return rc;
      const int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if (e == SSL_ERROR_WANT_WRITE) {
        want = POLLOUT;
      } else if (e != SSL_ERROR_WANT_READ) {
        return -1;
      }
    } else {
      const ssize_t n = ::recv(fd_, ptr, static_cast<std::size_t>(chunk), 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
    if (!wait(want, limits_.read_timeout, true)) return -1;
  }
}

ssize_t ConnectionStream::read(char* ptr, std::size_t size) {
  if (in_head_) {
    if (head_bytes_ >= limits_.max_head) {
      ended_ = Ended::head_too_large;
      return -1;
    }
    size = std::min(size, limits_.max_head - head_bytes_);
  }
  if (buffer_at_ == buffer_end_) {
    if (size >= kBlock) {
      const ssize_t n = read_some(ptr, size);
      if (n > 0 && in_head_) head_bytes_ += static_cast<std::size_t>(n);
      return n;
    }
    if (buffer_.empty()) buffer_.resize(kBlock);
    const ssize_t n = read_some(buffer_.data(), buffer_.size());
    if (n <= 0) return n;
    buffer_at_ = 0;
    buffer_end_ = static_cast<std::size_t>(n);
  }
  const std::size_t n = std::min(size, buffer_end_ - buffer_at_);
  std::copy_n(buffer_.data() + buffer_at_, n, ptr);
  buffer_at_ += n;
  if (in_head_) head_bytes_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, std::size_t size) {
  const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  for (;;) {
    short want = POLLOUT;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int rc = SSL_write(ssl_, ptr, chunk);
      if (rc > 0) {
        written_ += static_cast<std::uint64_t>(rc);
        return rc;
      }
      const int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_WANT_READ) {
        want = POLLIN;
      } else if (e != SSL_ERROR_WANT_WRITE) {
        return -1;
      }
    } else {
      const ssize_t n = ::send(fd_, ptr, static_cast<std::size_t>(chunk), MSG_NOSIGNAL);
      if (n >= 0) {
        written_ += static_cast<std::uint64_t>(n);
        return n;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
    // An answer is written whatever the request's deadlines: a client that reads nothing of it
    // for write_timeout is dropped.
    pollfd p{fd_, want, 0};
    int rc = 0;
    do {
      rc = ::poll(&p, 1, milliseconds(limits_.write_timeout));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) return -1;
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const { address_of(fd_, true, ip, port); }
void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const { address_of(fd_, false, ip, port); }

}  // namespace dumpguard::relay
