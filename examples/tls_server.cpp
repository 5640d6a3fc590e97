// An OpenSSL TLS server that keeps its private key out of its core dumps, with the protection
// library (docs/protect.md).
//
//   tls_server --key KEY.pem --cert CERT.pem [--port N] [--secure-heap-only | --no-protection]
//
// 1. First thing in main, before OpenSSL allocates anything: openssl_heap_init() sends every
//    allocation OpenSSL makes into an arena excluded from core dumps (MADV_DONTDUMP), so the
//    copies OpenSSL makes while it decodes and uses a key (decoder buffers it frees without
//    wiping, Montgomery contexts caching RSA's p and q) never reach a dump.
// 2. openssl_secure_heap_init() starts OpenSSL's secure heap and brings its arena under
//    MADV_DONTDUMP + MADV_WIPEONFORK, locked in RAM: the key's own components live there.
// 3. The PEM file is read with read(2) straight into a SecretBuffer: no stdio buffer (glibc's,
//    outside OpenSSL's allocator), no std::string, so the only plaintext copy of the file is in
//    excluded pages; it is zeroed when the buffer goes out of scope.
// 4. PEM_read_bio_PrivateKey parses from a memory BIO over that buffer.
// --secure-heap-only skips step 1 (enough for an EC key, not for RSA: docs/protect.md); --no-protection
// loads the key the usual way (SSL_CTX_use_PrivateKey_file), so a test can show the difference
// on a real dump. It serves "hello" to each TLS client, prints "ready port=N ..." once and a
// "served ..." line (the protection counters, never key bytes) after each connection, and runs
// until stdin closes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dumpguard/protect.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tls_server: %s\n", what);
  ERR_print_errors_fp(stderr);  // OpenSSL's error queue: reasons, never key bytes
  std::exit(1);
}

// Reads the whole PEM file into secret pages, and parses it there.
EVP_PKEY* load_key_into_secure_memory(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (1 << 16)) die("cannot read the key file");
  dumpguard::SecretBuffer pem(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < pem.size()) {
    const ssize_t got = read(fd, pem.data() + done, pem.size() - done);
    if (got <= 0) die("cannot read the key file");
    done += static_cast<std::size_t>(got);
  }
  close(fd);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) die("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) die("cannot parse the private key");
  return key;  // `pem` is zeroed and unmapped here
}

}  // namespace

int main(int argc, char** argv) {
  const char* key_path = nullptr;
  const char* cert_path = nullptr;
  int port = 0;
  enum class Protection { full, secure_heap_only, none } protection = Protection::full;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--key" && i + 1 < argc) {
      key_path = argv[++i];
    } else if (a == "--cert" && i + 1 < argc) {
      cert_path = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--secure-heap-only") {
      protection = Protection::secure_heap_only;
    } else if (a == "--no-protection") {
      protection = Protection::none;
    } else {
      std::fprintf(stderr,
                   "usage: tls_server --key KEY.pem --cert CERT.pem [--port N] [--secure-heap-only | --no-protection]\n");
      return 2;
    }
  }
  if (key_path == nullptr || cert_path == nullptr) die("--key and --cert are required");

  std::string why;
  // 64 MiB bounds OpenSSL's heap: this server, one connection at a time, commits 1 MiB of it.
  if (protection == Protection::full && !dumpguard::openssl_heap_init(std::size_t{64} << 20, &why)) die(why.c_str());
  const bool secure_heap = protection != Protection::none;
  // 128 KiB arena, 32-byte minimum blocks: ample for a few RSA and EC keys.
  if (secure_heap && !dumpguard::openssl_secure_heap_init(1 << 17, 32, &why)) die(why.c_str());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) die("SSL_CTX_new failed");
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) die("cannot load the certificate");
  if (secure_heap) {
    EVP_PKEY* key = load_key_into_secure_memory(key_path);
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1) die("SSL_CTX_use_PrivateKey failed");
    EVP_PKEY_free(key);  // the SSL_CTX holds its own reference
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
    die("cannot load the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) die("the key does not match the certificate");

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 8) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die("cannot listen on 127.0.0.1");
  }
  static const char* const kNames[] = {"full", "secure-heap-only", "none"};
  std::printf("ready port=%d protection=%s\n", ntohs(addr.sin_port), kNames[static_cast<int>(protection)]);
  std::fflush(stdout);

  pollfd fds[2] = {{listener, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  while (poll(fds, 2, -1) >= 0) {
    if (fds[1].revents != 0) {
      char buf[64];
      if (read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, client);
    if (SSL_accept(ssl) == 1) {
      SSL_write(ssl, "hello\n", 6);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(client);
    const dumpguard::ProtectStatus status = dumpguard::protect_status();
    std::printf("served openssl_heap_live=%zu openssl_heap_committed=%zu openssl_heap_refused=%llu\n",
                status.openssl_heap_live_bytes, status.openssl_heap_committed_bytes,
                static_cast<unsigned long long>(status.openssl_heap_refused));
    std::fflush(stdout);
  }
  SSL_CTX_free(ctx);
  close(listener);
  return 0;
}
