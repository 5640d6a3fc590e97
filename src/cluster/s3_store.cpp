#include "cluster/s3_store.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <span>

#include "crypto/digest.hpp"
#include "gate/durable_files.hpp"
#include "gate/names.hpp"
#include "io/path_names.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

// SHA-256 of nothing: the payload hash of a request without a body.
constexpr const char* kS3EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::size_t kS3MaxAnswer = 4096;  // of an error answer, kept for its Code and Message
constexpr std::size_t kS3MaxCredentialsFile = 4096;

bool s3_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool s3_bucket_char(char c) { return s3_lower_or_digit(c) || c == '.' || c == '-'; }
bool s3_key_char(char c) {
  return s3_lower_or_digit(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
}

std::string_view s3_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A key id or secret as S3 servers issue them: printable ASCII without spaces.
bool s3_credential_text(std::string_view s) {
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// The text of <TAG>...</TAG> in an S3 error answer (its Code and Message), made printable.
std::string s3_answer_field(const std::string& answer, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag);
  const std::string close = fmt::format("</{}>", tag);
  const auto from = answer.find(open);
  if (from == std::string::npos) return {};
  const auto to = answer.find(close, from + open.size());
  if (to == std::string::npos) return {};
  return printable(std::string_view(answer).substr(from + open.size(), std::min<std::size_t>(to - from - open.size(), 300)));
}

// Where an answer's body goes: an object's bytes to the download's file, hashed and never past
// the size its reference names; anything else (an error's XML) kept, up to kS3MaxAnswer bytes.
struct S3Sink {
  CURL* curl = nullptr;
  int fd = -1;  // -1: keep the body as the answer
  std::uint64_t limit = 0;
  std::uint64_t written = 0;
  Sha256Stream hash;
  bool too_long = false;
  int write_errno = 0;
  std::string answer;
};

std::size_t s3_receive(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<S3Sink*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
  if (sink->fd < 0 || status != 200) {
    sink->answer.append(data, std::min(n, kS3MaxAnswer - std::min(kS3MaxAnswer, sink->answer.size())));
    return n;
  }
  if (n > sink->limit - sink->written) {
    sink->too_long = true;
    return 0;  // stops the transfer
  }
  sink->hash.update(std::as_bytes(std::span<const char>(data, n)));
  for (std::size_t done = 0; done < n;) {
    const ssize_t w = ::write(sink->fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      sink->write_errno = w < 0 ? errno : EIO;
      return 0;
    }
    done += static_cast<std::size_t>(w);
  }
  sink->written += n;
  return n;
}

// An upload's body, read from the file as libcurl asks for it and hashed again on the way, so
// that a file changed while it is sent is caught.
struct S3Source {
  int fd = -1;
  std::uint64_t size = 0;
  std::uint64_t sent = 0;
  Sha256Stream hash;
};

std::size_t s3_send(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* source = static_cast<S3Source*>(user);
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size * count, source->size - source->sent));
  if (n == 0) return 0;
  for (;;) {
    const ssize_t got = ::pread(source->fd, buffer, n, static_cast<off_t>(source->sent));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return CURL_READFUNC_ABORT;  // shorter than it was: send nothing more
    source->hash.update(std::as_bytes(std::span<const char>(buffer, static_cast<std::size_t>(got))));
    source->sent += static_cast<std::uint64_t>(got);
    return static_cast<std::size_t>(got);
  }
}

// libcurl rewinds the body when it must send it again on a new connection.
int s3_rewind(void* user, curl_off_t to, int origin) {
  auto* source = static_cast<S3Source*>(user);
  if (origin != SEEK_SET || to != 0) return CURL_SEEKFUNC_CANTSEEK;
  source->sent = 0;
  source->hash = Sha256Stream();
  return CURL_SEEKFUNC_OK;
}

class S3Store final : public SharedStore {
 public:
  S3Store(S3Location location, std::string endpoint, const std::string& region, std::string ca,
          S3Credentials credentials, CURL* curl)
      : location_(std::move(location)),
        endpoint_(std::move(endpoint)),
        sigv4_(fmt::format("aws:amz:{}:s3", region)),
        ca_(std::move(ca)),
        credentials_(std::move(credentials)),
        curl_(curl, curl_easy_cleanup) {}
  S3Store(const S3Store&) = delete;
  S3Store& operator=(const S3Store&) = delete;
  ~S3Store() override {
    OPENSSL_cleanse(credentials_.secret_access_key.data(), credentials_.secret_access_key.size());
  }

  // Hashed first (the name and the signed payload hash are its SHA-256), then sent with its
  // length. No If-None-Match: not every S3 server honours it, and an object already under the
  // name holds the same bytes, so writing them again changes nothing.
  Result<WorkItem> put(const std::string& path) override {
    DG_TRY(const UniqueFd in, open_to_store(path));
    DG_TRY(const auto hashed, copy_hashing(in.get(), -1, path));
    WorkItem item{hashed.second, hashed.first, safe_submitted_name(path)};
    S3Source source;
    source.fd = in.get();
    source.size = item.size;
    S3Sink sink;
    const std::string doing = fmt::format("cannot store {} as {}", path, where(item.sha256));
    DG_TRY(const long status, exchange(doing, object_url(item.sha256), item.sha256, &source, sink));
    if (status != 200) return refused(doing, status, sink.answer);
    if (source.sent != item.size || source.hash.finish() != item.sha256) {
      // What was sent is not what its name says: it is not left under that name.
      (void)remove(item);
      return Error{Errc::bad_value, 0, fmt::format("{}: it changed while it was stored; not stored", path)};
    }
    return item;
  }

  Result<bool> get(const WorkItem& item, const std::string& dest) override {
    const std::string from = where(item.sha256);
    UniqueFd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.get() < 0) return os_error(fmt::format("cannot create {}", dest));
    S3Sink sink;
    sink.fd = out.get();
    sink.limit = item.size;
    auto status = exchange(fmt::format("cannot read {}", from), object_url(item.sha256), kS3EmptyPayload, nullptr, sink);
    const auto discard = [&] {
      out = UniqueFd();
      ::unlink(dest.c_str());
    };
    if (sink.too_long) {
      discard();
      return Error{Errc::bad_value, 0, changed_in_store(from)};
    }
    if (!status) {
      discard();
      return status.error();
    }
    if (*status == 404) {
      discard();
      return false;
    }
    if (*status != 200) {
      discard();
      return refused(fmt::format("cannot read {}", from), *status, sink.answer);
    }
    if (sink.written != item.size || sink.hash.finish() != item.sha256) {
      discard();
      return Error{Errc::bad_value, 0, changed_in_store(from)};
    }
    if (::fsync(out.get()) != 0) {
      const Error e = os_error(fmt::format("cannot fsync {}", dest));
      discard();
      return e;
    }
    DG_CHECK(fsync_at(AT_FDCWD, parent_of(dest)));
    return true;
  }

  Status remove(const WorkItem& item) override {
    S3Sink sink;
    const std::string doing = fmt::format("cannot remove {}", where(item.sha256));
    DG_TRY(const long status, exchange(doing, object_url(item.sha256), kS3EmptyPayload, nullptr, sink, "DELETE"));
    if (status != 200 && status != 204 && status != 404) return refused(doing, status, sink.answer);
    return ok_status();
  }

  // A GET of a name no dump has (not 64 hex digits): a server that takes the credentials and
  // lets them list the bucket answers 404. Anything else is said in the server's words.
  Status check() override {
    S3Sink sink;
    const std::string doing = fmt::format("cannot use the shared store {}", where(""));
    DG_TRY(const long status, exchange(doing, object_url(".dumpguard-check"), kS3EmptyPayload, nullptr, sink));
    if (status != 404 && status != 200) return refused(doing, status, sink.answer);
    return ok_status();
  }

  std::string where(const std::string& sha256) const override {
    return fmt::format("s3://{}/{}{}", location_.bucket, location_.prefix, sha256);
  }
  std::string name() const override {
    const std::string& prefix = location_.prefix;  // empty or ending in '/'
    return fmt::format("s3://{}{}{} at {}", location_.bucket, prefix.empty() ? "" : "/",
                       std::string_view(prefix).substr(0, prefix.empty() ? 0 : prefix.size() - 1), endpoint_);
  }

 private:
  std::string object_url(const std::string& key) const {
    return fmt::format("{}/{}/{}{}", endpoint_, location_.bucket, location_.prefix, key);
  }

  // One request, signed; the HTTP status, or an error (starting with `doing`) when no answer came.
  Result<long> exchange(const std::string& doing, const std::string& url, const std::string& payload_sha256,
                        S3Source* upload, S3Sink& sink, const char* method = nullptr) {
    CURL* c = curl_.get();
    curl_easy_reset(c);  // the connection stays open for the next request
    sink.curl = c;
    const std::string content = "x-amz-content-sha256: " + payload_sha256;
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(curl_slist_append(nullptr, content.c_str()),
                                                                        curl_slist_free_all);
    error_.fill('\0');
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_receive);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_.data());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    // No deadline for the whole exchange (a dump may be tens of GB); one that stalls stops.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    if (!ca_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_.c_str());
    if (upload != nullptr) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_send);
      curl_easy_setopt(c, CURLOPT_READDATA, upload);
      curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_rewind);
      curl_easy_setopt(c, CURLOPT_SEEKDATA, upload);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload->size));
    }
    if (method != nullptr) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      if (sink.write_errno != 0) {
        errno = sink.write_errno;
        return os_error(fmt::format("{}: cannot write the copy", doing));
      }
      return Error{Errc::io, 0,
                   fmt::format("{}: {} did not answer: {}", doing, endpoint_,
                               printable(error_[0] != '\0' ? error_.data() : curl_easy_strerror(rc)))};
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  // An answer other than the one hoped for, in the server's words (its Code and Message).
  Error refused(const std::string& doing, long status, const std::string& answer) const {
    std::string why = fmt::format("HTTP {}", status);
    const std::string code = s3_answer_field(answer, "Code");
    const std::string message = s3_answer_field(answer, "Message");
    if (!code.empty()) why += " " + code;
    if (!message.empty()) why += ": " + message;
    if (status == 401 || status == 403) why += " (check the S3 credentials and what the bucket's policy allows them)";
    return Error{Errc::io, 0, fmt::format("{}: {} refused it: {}", doing, endpoint_, why)};
  }

  S3Location location_;
  std::string endpoint_;
  std::string sigv4_;
  std::string ca_;
  S3Credentials credentials_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
  std::array<char, CURL_ERROR_SIZE> error_{};
};

}  // namespace

Result<S3Location> parse_s3_location(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return Error{Errc::bad_value, 0, fmt::format("--shared-store {}: {}", printable(url), why)};
  };
  if (url.substr(0, 5) != "s3://") return bad("not an s3://BUCKET[/PREFIX] URL");
  const std::string_view rest = url.substr(5);
  const auto slash = rest.find('/');
  const std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (bucket.size() < 3 || bucket.size() > 63 || !std::all_of(bucket.begin(), bucket.end(), s3_bucket_char) ||
      !s3_lower_or_digit(bucket.front()) || !s3_lower_or_digit(bucket.back())) {
    return bad("the bucket name must be 3 to 63 of a-z, 0-9, '.' and '-', starting and ending with a letter or digit");
  }
  if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.size() > 512) return bad("the prefix is longer than 512 bytes");
  // Each name between slashes, the last one included ("a/" leaves an empty last name).
  for (std::string_view left = prefix; !prefix.empty();) {
    const auto end = left.find('/');
    const std::string_view part = left.substr(0, end);
    if (part.empty() || part == "." || part == ".." || !std::all_of(part.begin(), part.end(), s3_key_char)) {
      return bad("the prefix must be names of A-Z, a-z, 0-9, '.', '_' and '-' (not '.' or '..') joined by single '/'");
    }
    if (end == std::string_view::npos) break;
    left.remove_prefix(end + 1);
  }
  return S3Location{std::string(bucket), prefix.empty() ? std::string() : std::string(prefix) + "/"};
}

Result<std::string> checked_s3_endpoint(std::string_view endpoint) {
  const auto bad = [&](std::string_view why) {
    return Error{Errc::bad_value, 0, fmt::format("--s3-endpoint {}: {}", printable(endpoint), why)};
  };
  if (endpoint.find('@') != std::string_view::npos) {
    // Not quoted: what stands before the '@' may be a password.
    return Error{Errc::bad_value, 0, "--s3-endpoint: no user or password belongs in it (requests are signed with the S3 credentials)"};
  }
  const bool tls = endpoint.substr(0, 8) == "https://";
  if (!tls && endpoint.substr(0, 7) != "http://") return bad("must be https://HOST[:PORT]");
  std::string_view rest = endpoint.substr(tls ? 8 : 7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host = rest;
  std::optional<std::string_view> port;
  bool ipv6 = false;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address without its ']'");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad("only a port may follow the host (no path, user or query)");
    if (!after.empty()) port = after.substr(1);
    ipv6 = true;
  } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  const auto host_char = [ipv6](char c) {
    if (ipv6) return c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return s3_key_char(c) && c != '_';
  };
  if (host.empty() || !std::all_of(host.begin(), host.end(), host_char)) {
    return bad("only a host and a port may follow the scheme (no path, user or query)");
  }
  if (port) {
    const bool digits = !port->empty() && port->size() <= 5 &&
                        std::all_of(port->begin(), port->end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned long number = digits ? std::stoul(std::string(*port)) : 0;
    if (number == 0 || number > 65535) return bad("the port must be 1 to 65535");
  }
  if (!tls) {
    // Plain HTTP carries the dumps unredacted: only to this host itself.
    const std::string h(host);
    unsigned char addr[4];
    const bool loopback = h == "localhost" || (ipv6 && h == "::1") ||
                          (!ipv6 && inet_pton(AF_INET, h.c_str(), addr) == 1 && addr[0] == 127);
    if (!loopback) return bad("plain http is refused except to a loopback address (the dumps travel unredacted); use https://");
  }
  return std::string(endpoint.substr(0, (tls ? 8 : 7) + rest.size()));
}

Result<S3Credentials> read_s3_credentials(const std::string& path) {
  const auto bad = [&](const std::string& why) {
    return Error{Errc::bad_value, 0, fmt::format("S3 credentials {}: {}", path, why)};
  };
  // As the fingerprint key is checked: a symbolic link is not followed, and a file others can
  // read is refused rather than used.
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return os_error(fmt::format("S3 credentials {}", path));
  if (!S_ISREG(st.st_mode)) return bad("not a regular file");
  if (st.st_mode & 0077) return bad(fmt::format("mode {:04o} lets others read it; chmod 600 it", st.st_mode & 07777));
  std::array<char, kS3MaxCredentialsFile + 1> bytes{};
  struct Wipe {
    std::array<char, kS3MaxCredentialsFile + 1>& b;
    ~Wipe() { OPENSSL_cleanse(b.data(), b.size()); }
  } wipe{bytes};
  DG_TRY(const std::size_t got, read_file_into(path, bytes));
  if (got > kS3MaxCredentialsFile) return bad("larger than 4 KiB: not a credentials file");
  S3Credentials out;
  bool have_id = false;
  bool have_secret = false;
  int profiles = 0;
  int number = 0;
  for (std::string_view left(bytes.data(), got); !left.empty();) {
    const auto end = left.find('\n');
    const std::string_view line = s3_trim(left.substr(0, end));
    left.remove_prefix(end == std::string_view::npos ? left.size() : end + 1);
    ++number;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return bad(fmt::format("line {}: a profile's name must end with ']'", number));
      if (++profiles > 1) return bad(fmt::format("line {}: a second profile (the file must hold one)", number));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return bad(fmt::format("line {}: expected KEY = VALUE", number));
    const std::string_view key = s3_trim(line.substr(0, eq));
    const std::string_view value = s3_trim(line.substr(eq + 1));
    const bool id = key == "aws_access_key_id";
    if (!id && key != "aws_secret_access_key") {
      if (key == "aws_session_token") return bad(fmt::format("line {}: temporary credentials (aws_session_token) are not supported", number));
      return bad(fmt::format("line {}: an unknown key (the keys are aws_access_key_id and aws_secret_access_key)", number));
    }
    if (id ? have_id : have_secret) return bad(fmt::format("line {}: {} is given twice", number, key));
    if (!s3_credential_text(value)) return bad(fmt::format("line {}: the value of {} is not printable ASCII without spaces", number, key));
    (id ? out.access_key_id : out.secret_access_key) = std::string(value);
    (id ? have_id : have_secret) = true;
  }
  if (!have_id || !have_secret) return bad("it needs aws_access_key_id and aws_secret_access_key");
  return out;
}

Result<S3Credentials> s3_credentials_from_environment() {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0') {
    return Error{Errc::bad_value, 0,
                 "no S3 credentials: give --s3-credentials FILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"};
  }
  const char* token = std::getenv("AWS_SESSION_TOKEN");
  if (token != nullptr && *token != '\0') {
    return Error{Errc::unsupported, 0, "AWS_SESSION_TOKEN is set: temporary S3 credentials are not supported"};
  }
  if (!s3_credential_text(id) || !s3_credential_text(secret)) {
    return Error{Errc::bad_value, 0, "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not printable ASCII without spaces"};
  }
  return S3Credentials{id, secret};
}

Result<std::unique_ptr<SharedStore>> open_s3_store(std::string_view location, const S3Options& options) {
  DG_TRY(S3Location where, parse_s3_location(location));
  if (options.endpoint.empty()) {
    return Error{Errc::bad_value, 0,
                 fmt::format("--shared-store {}: an s3:// store needs --s3-endpoint https://HOST[:PORT]", printable(location))};
  }
  DG_TRY(std::string endpoint, checked_s3_endpoint(options.endpoint));
  const std::string region = options.region.empty() ? "us-east-1" : options.region;
  if (region.size() > 32 || !std::all_of(region.begin(), region.end(), [](char c) { return s3_lower_or_digit(c) || c == '-'; })) {
    return Error{Errc::bad_value, 0, fmt::format("--s3-region {}: expected a region name such as us-east-1", printable(region))};
  }
  DG_TRY(S3Credentials credentials,
         options.credentials.empty() ? s3_credentials_from_environment() : read_s3_credentials(options.credentials));
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Error{Errc::io, 0, "libcurl could not be initialised"};
  return std::unique_ptr<SharedStore>(
      std::make_unique<S3Store>(std::move(where), std::move(endpoint), region, options.ca, std::move(credentials), curl));
}

}  // namespace dumpguard
