#include "serve/server.hpp"

#include <httplib.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "crypto/digest.hpp"
#include "audit/trail.hpp"
#include "gate/directory_store.hpp"
#include "gate/names.hpp"
#include "io/private_process.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"
#include "serve/api_token.hpp"
#include "serve/download_window.hpp"
#include "serve/retention.hpp"
#include "serve/users_file.hpp"

extern char** environ;

namespace dumpguard {

namespace {

constexpr std::size_t kMaxReason = 200;
constexpr std::size_t kMaxRequestShown = 300;
// One TLS record's worth: a write cut off by the client loses at most this much from the
// count of bytes sent (a piece is counted only once its write has completed).
constexpr std::size_t kChunk = 1u << 14;

std::string utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Appends records for every thread of the server, one at a time. The first failure stops the
// server: nothing is served that the log does not hold.
class SerialAudit {
 public:
  SerialAudit(AuditTrail trail, std::function<void()> on_failure)
      : trail_(std::move(trail)), on_failure_(std::move(on_failure)) {}
  bool record(const std::string& event, nlohmann::ordered_json data) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.empty()) return false;
    const Status s = trail_.record(event, std::move(data));
    if (s) return true;
    error_ = s.error().message.empty() ? "the audit log cannot be written" : s.error().message;
    on_failure_();
    return false;
  }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  AuditTrail trail_;
  std::function<void()> on_failure_;
  std::string error_;
};

// The users file, read again whenever it changes (a `users remove` takes effect at the next
// request). A file that no longer parses lets nobody in until it is fixed: failing closed.
class UsersSource {
 public:
  explicit UsersSource(std::string path) : path_(std::move(path)) {}
  Status load_first() {
    auto users = load_users_file(path_);
    if (!users) return users.error();
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) stamp_ = stamp_of(st);
    users_ = std::make_shared<const std::vector<UserEntry>>(std::move(*users));
    return ok_status();
  }
  std::shared_ptr<const std::vector<UserEntry>> current() {
    std::lock_guard<std::mutex> lock(mu_);
    struct stat st {};
    const std::string stamp = ::stat(path_.c_str(), &st) == 0 ? stamp_of(st) : "missing";
    if (stamp != stamp_) {
      stamp_ = stamp;
      auto users = load_users_file(path_);
      if (users) {
        users_ = std::make_shared<const std::vector<UserEntry>>(std::move(*users));
      } else {
        std::string line = fmt::format("dumpguard serve: {}; nobody is let in until it is fixed\n", users.error().message);
        (void)std::fwrite(line.data(), 1, line.size(), stderr);
        users_ = std::make_shared<const std::vector<UserEntry>>();
      }
    }
    return users_;
  }

 private:
  static std::string stamp_of(const struct stat& st) {
    return fmt::format("{}:{}:{}:{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  std::mutex mu_;
  std::string path_;
  std::string stamp_;
  std::shared_ptr<const std::vector<UserEntry>> users_;
};

// The alert command, run by /bin/sh -c with the user and count in its environment (never on
// its command line, where another user's ps would see them). Its exit is reaped by a thread.
class AlertRunner {
 public:
  explicit AlertRunner(std::string command) : command_(std::move(command)) {}
  ~AlertRunner() { join(); }
  // The child's pid, or -1 when it could not be started.
  pid_t run(const std::string& user, std::uint64_t downloads, std::uint64_t limit) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::string_view(*e).substr(0, 16) != "DUMPGUARD_ALERT_") env.emplace_back(*e);
    }
    env.push_back("DUMPGUARD_ALERT_USER=" + user);
    env.push_back(fmt::format("DUMPGUARD_ALERT_DOWNLOADS={}", downloads));
    env.push_back(fmt::format("DUMPGUARD_ALERT_LIMIT={}", limit));
    env.push_back("DUMPGUARD_ALERT_WINDOW_SECONDS=3600");
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c", cmd = command_;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    std::lock_guard<std::mutex> lock(mu_);
    reapers_.emplace_back([pid] {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        const std::string line = fmt::format("dumpguard serve: the alert command (pid {}) failed\n", pid);
        (void)std::fwrite(line.data(), 1, line.size(), stderr);
      }
    });
    return pid;
  }
  void join() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done.swap(reapers_);
    }
    for (auto& t : done) t.join();
  }

 private:
  std::string command_;
  std::mutex mu_;
  std::vector<std::thread> reapers_;
};

struct Transfer {
  UniqueFd fd;
  std::uint64_t size = 0;
  std::atomic<std::uint64_t> sent{0};
};

enum class Source { release, quarantine };
std::string_view source_name(Source s) { return s == Source::release ? "release" : "quarantine"; }

class Service {
 public:
  Service(const ServeOptions& options, UniqueFd release, UniqueFd quarantine, SerialAudit& audit)
      : options_(options),
        release_(std::move(release)),
        quarantine_(std::move(quarantine)),
        audit_(audit),
        users_(options.users),
        window_(DownloadLimits{options.rate_limit, options.alert_downloads, 3600}),
        alerts_(options.alert_command) {}

  Status load_users() { return users_.load_first(); }
  // The counts of the hour before this process, from the log: a restart must not reset them.
  Status recall_downloads() {
    if (options_.rate_limit == 0 && options_.alert_downloads == 0) return ok_status();
    std::lock_guard<std::mutex> lock(mu_);
    return dumpguard::recall_downloads(window_, options_.audit, steady_seconds(), std::time(nullptr));
  }
  SerialAudit& audit() { return audit_; }
  int release_fd() const { return release_.get(); }
  AlertRunner& alerts() { return alerts_; }

  void list(const httplib::Request& req, httplib::Response& res, Source source) {
    auto user = authorize(req, res, Role(source == Source::release ? Role::list : Role::quarantine), "");
    if (!user) return;
    nlohmann::ordered_json dumps = nlohmann::ordered_json::array();
    const int dir_fd = source == Source::release ? release_.get() : quarantine_.get();
    for (const auto& [name, st] : entries(dir_fd, source)) {
      nlohmann::ordered_json d;
      d["name"] = printable(name);
      d["size"] = static_cast<std::uint64_t>(st.st_size);
      d["mtime"] = utc_time(st.st_mtim.tv_sec);
      if (source == Source::release && options_.retention_days > 0) {
        d["expires"] = utc_time(st.st_mtim.tv_sec + static_cast<std::time_t>(options_.retention_days * 86400.0));
      }
      dumps.push_back(std::move(d));
    }
    nlohmann::ordered_json data = base(req, user->name);
    data["source"] = source_name(source);
    data["count"] = dumps.size();
    if (!audit_.record("listed", std::move(data))) return unavailable(res);
    nlohmann::ordered_json body;
    body["dumps"] = std::move(dumps);
    res.status = 200;
    res.set_content(body.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
  }

  void download(const httplib::Request& req, httplib::Response& res, Source source) {
    const std::string name = req.matches.size() > 1 ? req.matches[1].str() : std::string();
    auto user = authorize(req, res, source == Source::release ? Role::download : Role::quarantine, name);
    if (!user) return;
    if (!plain_file_name(name) || DirectoryStore::skipped_name(name)) {
      return deny(req, res, user->name, name, 400, "bad-name", "not a dump's name");
    }
    std::string reason = req.get_header_value("X-Dumpguard-Reason");
    if (reason.empty()) reason = req.get_param_value("reason");
    if (reason.size() > kMaxReason || (!reason.empty() && !acceptable_name(reason))) {
      return deny(req, res, user->name, name, 400, "bad-reason",
                  fmt::format("the reason must be clean text of at most {} bytes", kMaxReason));
    }
    if (reason.empty() && options_.require_reason) {
      return deny(req, res, user->name, name, 400, "no-reason",
                  "a reason is required: X-Dumpguard-Reason: TICKET, or ?reason=TICKET");
    }
    UniqueFd fd = open_dump(source, name);
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      if (source == Source::release && was_expired(name)) {
        return deny(req, res, user->name, name, 410, "expired", "the dump is past its retention and was deleted");
      }
      return deny(req, res, user->name, name, 404, "not-found", "no such dump");
    }
    if (source == Source::release && past_retention(st, options_.retention_days, std::time(nullptr))) {
      fd.reset();
      expire(name);
      return deny(req, res, user->name, name, 410, "expired", "the dump is past its retention and was deleted");
    }
    DownloadDecision decision;
    {
      std::lock_guard<std::mutex> lock(mu_);
      decision = window_.admit(user->name, steady_seconds());
    }
    if (!decision.allowed) {
      res.set_header("Retry-After", "3600");
      return deny(req, res, user->name, name, 429, "rate-limit",
                  fmt::format("{} downloads in the last hour: the limit", decision.in_window));
    }
    auto digest = sha256_of_fd(fd.get());
    if (!digest) return deny(req, res, user->name, name, 500, "unreadable", "the dump cannot be read");
    nlohmann::ordered_json data = base(req, user->name);
    data["dump"] = printable(name);
    data["source"] = source_name(source);
    data["sha256"] = *digest;
    data["size"] = static_cast<std::uint64_t>(st.st_size);
    data["reason"] = reason.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(reason);
    data["downloads_in_hour"] = decision.in_window;
    // Recorded before any byte leaves: a download the log does not hold never happens.
    if (!audit_.record("downloading", data)) return unavailable(res);
    if (decision.alert && !options_.alert_command.empty()) raise_alert(user->name, decision.in_window);

    auto transfer = std::make_shared<Transfer>();
    transfer->fd = std::move(fd);
    transfer->size = static_cast<std::uint64_t>(st.st_size);
    res.status = 200;
    res.set_header("X-Dumpguard-Sha256", *digest);
    res.set_content_provider(
        static_cast<std::size_t>(st.st_size), "application/octet-stream",
        [transfer](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          std::vector<char> buffer(std::min(length, kChunk));
          ssize_t n = -1;
          do {
            n = ::pread(transfer->fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
          } while (n < 0 && errno == EINTR);
          if (n <= 0) return false;  // the file shrank or failed: the transfer ends short
          if (!sink.write(buffer.data(), static_cast<std::size_t>(n))) return false;
          transfer->sent += static_cast<std::uint64_t>(n);
          return true;
        },
        [this, transfer, data](bool success) mutable {
          nlohmann::ordered_json done;
          for (const char* k : {"user", "client", "dump", "source", "sha256", "size"}) done[k] = data[k];
          done["bytes_sent"] = transfer->sent.load();
          done["complete"] = success && transfer->sent.load() == transfer->size;
          audit_.record("downloaded", std::move(done));
        });
  }

  // Every dump of the release past retention; run at start and then periodically.
  Status expire_all() {
    std::lock_guard<std::mutex> lock(expire_mu_);
    DG_TRY(const std::uint64_t n, expire_release(release_.get(), options_.retention_days, recorder()));
    (void)n;
    return ok_status();
  }

 private:
  AuditRecorder recorder() {
    return [this](const std::string& event, nlohmann::ordered_json data) {
      if (event == "expired") {
        std::lock_guard<std::mutex> lock(mu_);
        if (expired_.size() < 100000) expired_.insert(data["dump"].get<std::string>());
      }
      return audit_.record(event, std::move(data));
    };
  }
  void expire(const std::string& name) {
    std::lock_guard<std::mutex> lock(expire_mu_);
    (void)expire_dump(release_.get(), name, options_.retention_days, recorder());
  }
  bool was_expired(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return expired_.count(printable(name)) > 0;
  }

  void raise_alert(const std::string& user, std::uint64_t downloads) {
    const pid_t pid = alerts_.run(user, downloads, options_.alert_downloads);
    nlohmann::ordered_json data;
    data["user"] = user;
    data["downloads_in_hour"] = downloads;
    data["alert_downloads"] = options_.alert_downloads;
    data["command_pid"] = pid > 0 ? nlohmann::ordered_json(pid) : nlohmann::ordered_json();
    data["started"] = pid > 0;
    audit_.record("alert", std::move(data));
  }

  nlohmann::ordered_json base(const httplib::Request& req, const std::string& user) const {
    nlohmann::ordered_json data;
    data["user"] = user.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(user);
    data["client"] = printable(req.remote_addr);
    return data;
  }

  static std::string request_line(const httplib::Request& req) {
    std::string shown = printable(req.method + " " + req.path);
    if (shown.size() > kMaxRequestShown) shown = shown.substr(0, kMaxRequestShown - 3) + "...";
    return shown;
  }

  void deny(const httplib::Request& req, httplib::Response& res, const std::string& user, const std::string& name,
            int status, const std::string& why, const std::string& message) {
    nlohmann::ordered_json data = base(req, user);
    data["request"] = request_line(req);
    if (!name.empty()) data["dump"] = printable(name.substr(0, 256));
    data["why"] = why;
    data["status"] = status;
    if (!audit_.record("denied", std::move(data))) return unavailable(res);
    res.status = status;
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"dumpguard\"");
    res.set_content(fmt::format("{}: {}\n", why, message), "text/plain");
  }

  // SHA-256 (hex) of the client certificate the handshake verified, or "" when there is none.
  static std::string peer_certificate_sha256(const httplib::Request& req) {
    if (req.ssl == nullptr) return {};
    X509* cert = SSL_get1_peer_certificate(req.ssl);
    if (cert == nullptr) return {};
    std::unique_ptr<X509, decltype(&X509_free)> owned(cert, &X509_free);
    if (SSL_get_verify_result(req.ssl) != X509_V_OK) return {};
    unsigned char* der = nullptr;
    const int n = i2d_X509(cert, &der);
    if (n <= 0) return {};
    const std::string digest = hex(sha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(n))));
    OPENSSL_free(der);
    return digest;
  }

  static void unavailable(httplib::Response& res) {
    res.status = 503;
    res.set_content("the audit log cannot be written; nothing is served\n", "text/plain");
  }

  // The caller, when their token is known and their role allows `needed`; otherwise the
  // refusal is recorded and answered, and nothing is returned.
  std::optional<UserEntry> authorize(const httplib::Request& req, httplib::Response& res, Role needed,
                                     const std::string& name) {
    const std::string header = req.get_header_value("Authorization");
    const auto users = users_.current();
    const UserEntry* user = nullptr;
    if (header.empty()) {
      // No token: a client certificate that the handshake verified against --client-ca stands
      // for one, when its SHA-256 is a user's.
      const std::string cert = peer_certificate_sha256(req);
      if (cert.empty()) {
        deny(req, res, "", name, 401, "no-token", "an API token is required: Authorization: Bearer TOKEN");
        return std::nullopt;
      }
      user = find_certificate_user(*users, cert);
      if (user == nullptr) {
        deny(req, res, "", name, 401, "bad-certificate", "the client certificate is not a current user's");
        return std::nullopt;
      }
      return check_role(req, res, *user, needed, name);
    }
    std::string_view token;
    if (header.size() > 7 && (header.compare(0, 7, "Bearer ") == 0 || header.compare(0, 7, "bearer ") == 0)) {
      token = std::string_view(header).substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    }
    user = token.empty() ? nullptr : find_token_user(*users, token);
    if (user == nullptr) {
      deny(req, res, "", name, 401, "bad-token", "the token is not a current user's");
      return std::nullopt;
    }
    return check_role(req, res, *user, needed, name);
  }

  std::optional<UserEntry> check_role(const httplib::Request& req, httplib::Response& res, const UserEntry& user,
                                      Role needed, const std::string& name) {
    const UserEntry* u = &user;
    if (!role_allows(u->role, needed)) {
      deny(req, res, u->name, name, 403, "role",
           fmt::format("role {} may not do this (needs {})", to_string(u->role), to_string(needed)));
      return std::nullopt;
    }
    return *u;
  }

  UniqueFd open_dump(Source source, const std::string& name) const {
    constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    if (source == Source::release) return UniqueFd(::openat(release_.get(), name.c_str(), kFlags));
    // QUARANTINE/NAME/NAME: the original, beside its reason file.
    UniqueFd dir(::openat(quarantine_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) return UniqueFd();
    return UniqueFd(::openat(dir.get(), name.c_str(), kFlags));
  }

  std::vector<std::pair<std::string, struct stat>> entries(int dir_fd, Source source) const {
    std::vector<std::pair<std::string, struct stat>> out;
    const int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (list_fd < 0) return out;
    DIR* dir = ::fdopendir(list_fd);
    if (dir == nullptr) {
      ::close(list_fd);
      return out;
    }
    while (const dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (DirectoryStore::skipped_name(name) || !plain_file_name(name)) continue;
      struct stat st {};
      if (source == Source::release) {
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      } else {
        UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub.get() < 0 || ::fstatat(sub.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
          continue;
        }
      }
      out.emplace_back(name, st);
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }

  const ServeOptions& options_;
  UniqueFd release_;
  UniqueFd quarantine_;
  SerialAudit& audit_;
  UsersSource users_;
  std::mutex mu_;         // window_, expired_
  std::mutex expire_mu_;  // one expiry pass at a time
  DownloadWindow window_;
  std::set<std::string> expired_;
  AlertRunner alerts_;
};

Result<UniqueFd> open_dir(const std::string& path, const char* what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return os_error(fmt::format("cannot open the {} directory {}", what, path));
  return fd;
}

}  // namespace

Status run_serve(const ServeOptions& options, const std::function<void(const std::string&)>& announce) {
  make_process_private();  // it holds the audit key

  DG_TRY(UniqueFd release, open_dir(options.release, "release"));
  UniqueFd quarantine;
  if (!options.quarantine.empty()) {
    DG_TRY(UniqueFd q, open_dir(options.quarantine, "quarantine"));
    quarantine = std::move(q);
  }
  // Signals are taken by one thread (sigwait), so every other thread, httplib's included, is
  // made with them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  httplib::SSLServer server([&options](SSL_CTX& ctx) {
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, options.tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&ctx, options.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      return false;
    }
    if (!options.client_ca.empty()) {
      // Asked for, not required: a client without a certificate may still bring a token. One
      // that presents a certificate the CA did not sign fails the handshake.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca.c_str());
      if (names == nullptr || SSL_CTX_load_verify_locations(&ctx, options.client_ca.c_str(), nullptr) != 1) {
        if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
        return false;
      }
      SSL_CTX_set_client_CA_list(&ctx, names);
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
      static const unsigned char kSessionContext[] = "dumpguard-serve";
      SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof(kSessionContext) - 1);
    }
    return true;
  });
  ERR_clear_error();
  if (!server.is_valid()) {
    return Error{Errc::bad_value, 0,
                 fmt::format("cannot load the TLS certificate {}, its key {} (PEM, unencrypted, the certificate's){}",
                             options.tls_cert, options.tls_key,
                             options.client_ca.empty() ? "" : fmt::format(", or the client CA {}", options.client_ca))};
  }

  DG_TRY(AuditTrail trail, AuditTrail::open(options.audit, options.audit_key, options.checkpoint));
  SerialAudit audit(std::move(trail), [&server] { server.stop(); });
  Service service(options, std::move(release), std::move(quarantine), audit);
  DG_CHECK(service.load_users());
  DG_CHECK(service.recall_downloads());

  server.set_payload_max_length(1u << 16);  // requests are GETs: no body worth reading
  server.set_read_timeout(10, 0);
  server.set_write_timeout(60, 0);
  server.set_keep_alive_timeout(5);
  server.Get("/dumps", [&](const httplib::Request& req, httplib::Response& res) { service.list(req, res, Source::release); });
  server.Get(R"(/dumps/([^/]+))",
             [&](const httplib::Request& req, httplib::Response& res) { service.download(req, res, Source::release); });
  if (!options.quarantine.empty()) {
    server.Get("/quarantine",
               [&](const httplib::Request& req, httplib::Response& res) { service.list(req, res, Source::quarantine); });
    server.Get(R"(/quarantine/([^/]+))",
               [&](const httplib::Request& req, httplib::Response& res) { service.download(req, res, Source::quarantine); });
  }
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", "text/plain");
  });

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port <= 0) return Error{Errc::io, 0, fmt::format("cannot listen on {} (not an address of this host?)", options.host)};
  } else if (!server.bind_to_port(options.host, port)) {
    return Error{Errc::io, 0, fmt::format("cannot listen on {}:{} (in use, or not an address of this host)", options.host, port)};
  }

  nlohmann::ordered_json started;
  started["pid"] = static_cast<std::int64_t>(::getpid());
  started["listen"] = fmt::format("{}:{}", options.host, port);
  started["release"] = options.release;
  started["quarantine"] = options.quarantine.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(options.quarantine);
  started["users"] = options.users;
  started["client_ca"] = options.client_ca.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(options.client_ca);
  started["retention_days"] = options.retention_days;
  started["require_reason"] = options.require_reason;
  started["rate_limit"] = options.rate_limit;
  started["alert_downloads"] = options.alert_downloads;
  if (!audit.record("serve-started", std::move(started))) return Error{Errc::io, 0, audit.error()};
  if (auto expired = service.expire_all(); !expired) return expired.error();

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::string stopped_by = "audit-failure";
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    {
      std::lock_guard<std::mutex> lock(stop_mu);
      if (!stopping) stopped_by = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "stop";
      stopping = true;
    }
    stop_cv.notify_all();
    server.stop();
  });
  std::thread retention_thread([&] {
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stopping) {
      stop_cv.wait_for(lock, std::chrono::seconds(60));
      if (stopping) break;
      lock.unlock();
      (void)service.expire_all();
      lock.lock();
    }
  });

  announce(fmt::format("listening on https://{}:{}", options.host, port));
  server.listen_after_bind();

  {
    std::lock_guard<std::mutex> lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  // The signal thread waits in sigwait until a signal comes: send it one if none has.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  retention_thread.join();
  service.alerts().join();

  const std::string failure = audit.error();
  if (!failure.empty()) return Error{Errc::io, 0, fmt::format("{}; serve stopped", failure)};
  nlohmann::ordered_json stopped;
  stopped["pid"] = static_cast<std::int64_t>(::getpid());
  stopped["why"] = stopped_by;
  audit.record("serve-stopped", std::move(stopped));
  return ok_status();
}

}  // namespace dumpguard
