#include "relay/relay_server.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <httplib.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "audit/trail.hpp"
#include "crypto/digest.hpp"
#include "gate/directory_store.hpp"
#include "gate/durable_files.hpp"
#include "gate/names.hpp"
#include "io/private_process.hpp"
#include "io/whole_file.hpp"
#include "relay/forward.hpp"
#include "relay/http_server.hpp"
#include "relay/rate_limit.hpp"

namespace dumpguard::relay {
namespace {

using json = nlohmann::ordered_json;

// cpp-httplib (Debian's 0.11, built with zlib) inflates a gzip body and parses
// multipart/form-data itself before a content reader sees a byte, with no cap on what gzip grows
// to and no way to turn either off. The relay needs the body as sent, to keep its own limits and
// to forward it in the same shape: so before routing, the two headers are moved under names of
// our own (a client's copies of those names are dropped first), and httplib sees an opaque body.
constexpr const char* kStashedType = "X-Dumpguard-Relay-Content-Type";
constexpr const char* kStashedEncoding = "X-Dumpguard-Relay-Content-Encoding";

int status_of(const Error& e) {
  switch (e.code) {
    case Errc::limit: return 413;
    case Errc::unsupported: return 415;
    default: return 400;
  }
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{:%Y%m%dT%H%M%SZ}", tm);
}

// A value a client chose, as an audit record may hold it: printable and short.
std::string client_text(std::string_view text) {
  std::string out = printable(text.substr(0, 128));
  if (text.size() > 128) out += "...";
  return out;
}

json io_json(std::uint64_t size, const std::string& sha256) { return {{"size", size}, {"sha256", sha256}}; }

struct Relay {
  Relay(const RelayOptions& options, RelayMessages messages, AuditTrail trail, DirectoryStore q)
      : o(options), say(std::move(messages)), audit(std::move(trail)), quarantine(std::move(q)) {}
  const RelayOptions& o;
  RelayMessages say;
  AuditTrail audit;
  DirectoryStore quarantine;
  std::optional<DirectoryStore> release;
  std::mutex mutex;  // one upload judged, stored and recorded at a time: the scan uses every core
  std::atomic<std::uint64_t> seq{0};
  std::atomic<bool> failed{false};
  std::optional<Error> failure;
  httplib::Server* server = nullptr;
  std::atomic<std::uint64_t> held_bytes{0};  // see HeldBytes
  std::uint64_t byte_budget = 0;
  std::optional<RateLimit> rate;

  // One audit record. When it cannot be written the relay stops: nothing goes on unaudited.
  bool record(json data, const char* event = "relayed") {
    Status written = audit.record(event, std::move(data));
    if (written) return true;
    if (!failed.exchange(true)) {
      failure = written.error();
      say(fmt::format("the audit log cannot be written ({}); stopping", written.error().message));
      server->stop();
    }
    return false;
  }
};

struct Answer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
};

void answer(httplib::Response& res, const Answer& a) {
  res.status = a.status;
  res.set_content(a.body, a.content_type.c_str());
}

Answer refusal(int status, const std::string& why) { return {status, fmt::format("dumpguard relay: {}\n", why), "text/plain"}; }

// The annotation a reporter sends as a form field, else the one Crashpad puts in the query.
std::string annotation(const Upload& upload, const httplib::Request& req, std::string_view field, const char* param) {
  for (const UploadPart& p : upload.parts) {
    if (!p.file && p.headers.name == field) return client_text(p.value);
  }
  return req.has_param(param) ? client_text(req.get_param_value(param)) : std::string();
}

struct Judged {
  std::vector<CleanedPart> parts;  // one per part; empty entries for form fields
  json parts_json = json::array();
  json fields_json;
  std::string reason;  // empty: every part and field clean
  std::string message;
};

void remove_copies(const Judged& j) {
  for (const CleanedPart& p : j.parts) {
    if (!p.copy_path.empty()) ::unlink(p.copy_path.c_str());
  }
}

Result<Judged> judge(Relay& r, Upload& upload, std::uint64_t n) {
  Judged j;
  j.parts.resize(upload.parts.size());
  for (std::size_t i = 0; i < upload.parts.size(); ++i) {
    UploadPart& part = upload.parts[i];
    if (!part.file) continue;
    const bool dump = part.headers.name == kMinidumpField || looks_like_dump(part.fd.get());
    const std::string label = fmt::format("upload {} part {}", n, i + 1);
    DG_TRY(j.parts[i], clean_part(part.fd.get(), label, !dump, r.o.clean));
    const CleanedPart& c = j.parts[i];
    json entry = {{"name", client_text(part.headers.name)}, {"format", c.format}, {"input", io_json(c.input_size, c.input_sha256)}};
    if (part.headers.filename) entry["filename"] = client_text(*part.headers.filename);
    if (!c.findings.is_null()) entry["findings"] = c.findings;
    if (c.clean) entry["output"] = io_json(c.copy_size, c.copy_sha256);
    else entry["unclean"] = {{"reason", c.reason}, {"message", c.message}};
    j.parts_json.push_back(std::move(entry));
    if (!c.clean && j.reason.empty()) {
      j.reason = c.reason;
      j.message = fmt::format("part {} ({}): {}", i + 1, client_text(part.headers.name), c.message);
    }
  }
  std::vector<std::string*> values;
  for (UploadPart& part : upload.parts) {
    if (!part.file) values.push_back(&part.value);
  }
  if (!values.empty()) {
    DG_TRY(const CleanedFields fields, clean_fields(values, r.o.clean));
    j.fields_json = {{"count", values.size()}, {"redacted", fields.redacted}, {"findings", fields.findings}};
    if (!fields.clean && j.reason.empty()) {
      j.reason = "verification-failed";
      j.message = fields.message;
    }
  }
  return j;
}

// The upload's originals (mode 0600) and why, as QUARANTINE/NAME/: the gate's quarantine, one
// directory per upload.
Result<std::string> quarantine_upload(Relay& r, const Upload& upload, const Judged& j, const std::string& name,
                                      const json& record) {
  const std::string package = r.o.clean.work + "/" + name;
  DG_CHECK(remove_tree(package));
  if (mkdir(package.c_str(), 0700) != 0) return os_error(fmt::format("cannot create {}", package));
  for (std::size_t i = 0; i < upload.parts.size(); ++i) {
    const UploadPart& part = upload.parts[i];
    std::string content;
    if (part.file) {
      DG_TRY(content, read_all(part.fd.get(), r.o.limits.max_content));
    } else {
      content = part.value;  // as redacted where a rule matched
    }
    DG_CHECK(write_file_atomically(fmt::format("{}/part-{}", package, i + 1), content));
  }
  const json reason = {{"schema", "dumpguard-quarantine/1"},
                       {"dump", name},
                       {"reason", j.reason},
                       {"message", j.message},
                       {"upload", record}};
  DG_CHECK(write_file_atomically(package + "/" + name + ".reason.json", reason.dump(2) + "\n"));
  std::string target = name;
  for (int k = 1; r.quarantine.exists(target) && k < 10000; ++k) target = fmt::format("{}.{}", name, k);
  DG_TRY(const bool put, r.quarantine.put(package, target));
  if (!put) return Error{Errc::io, 0, fmt::format("cannot quarantine {}: the name is taken", name)};
  return r.quarantine.where() + "/" + target;
}

// The upload as it goes upstream, in the shape it came: the multipart framing and each part's
// header lines as received, each file part its verified copy (`copies`, read from disk as
// libcurl sends it), each field as cleaned; gzipped again, into an unnamed file of the work
// directory (`packed`), when it came gzipped. No more than a block of a dump is in memory at a
// time, where the whole body, and its gzip, used to be.
Result<Body> upstream_body(const Relay& r, const Upload& upload, const Judged& j, const std::vector<UniqueFd>& copies,
                           UniqueFd& packed) {
  Body body;
  const auto text = [&body](const std::string& s) {
    if (body.empty() || body.back().fd >= 0) body.emplace_back();
    body.back().bytes += s;
  };
  const std::string boundary = multipart_boundary(upload.content_type).value_or("");
  for (std::size_t i = 0; i < upload.parts.size(); ++i) {
    const UploadPart& part = upload.parts[i];
    if (upload.multipart) {
      text("--" + boundary + "\r\n" + (part.headers.raw.empty() ? "" : part.headers.raw + "\r\n") + "\r\n");
    }
    if (part.file) {
      body.push_back(BodyPiece{"", copies[i].get(), j.parts[i].copy_size});
    } else {
      text(part.value);
    }
    if (upload.multipart) text("\r\n");
  }
  if (upload.multipart) text("--" + boundary + "--\r\n");
  if (!upload.gzip) return body;
  packed = UniqueFd(::open(r.o.clean.work.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (packed.get() < 0) return os_error(fmt::format("cannot create an unnamed file in {}", r.o.clean.work));
  std::uint64_t size = 0;
  const ByteOutput to_file = [&](std::span<const std::byte> b) {
    size += b.size();
    return write_all(packed.get(), b);
  };
  GzipDeflater deflater;
  DG_CHECK(each_block(body, [&](std::span<const std::byte> b) { return deflater.feed(b, to_file); }));
  DG_CHECK(deflater.finish(to_file));
  return Body{BodyPiece{"", packed.get(), size}};
}

void handle_upload(Relay& r, Upload& upload, const httplib::Request& req, json record, httplib::Response& res) {
  const RelayOptions& o = r.o;
  const std::uint64_t n = r.seq.fetch_add(1) + 1;
  const std::string name = fmt::format("upload-{}-{}-{}", utc_stamp(), getpid(), n);
  record["upload"] = name;
  record["product"] = annotation(upload, req, "prod", "product");
  record["version"] = annotation(upload, req, "ver", "version");
  record["shape"] = {{"multipart", upload.multipart}, {"gzip", upload.gzip}, {"parts", upload.parts.size()},
                     {"body_bytes", upload.body_bytes}, {"content_bytes", upload.content_bytes}};

  std::unique_lock lock(r.mutex);
  Result<Judged> judged = [&]() -> Result<Judged> {
    try {
      return judge(r, upload, n);
    } catch (const std::exception& e) {
      return Error{Errc::io, 0, fmt::format("internal error: {}", e.what())};
    }
  }();
  if (!judged) {
    // Fail closed: nothing of this upload goes on.
    record["outcome"] = "failed";
    record["status"] = 500;
    record["message"] = printable(judged.error().message);
    r.say(fmt::format("{} from {}: failed ({})", name, req.remote_addr, printable(judged.error().message)));
    answer(res, refusal(r.record(record) ? 500 : 503, "the upload could not be judged; it was not forwarded"));
    return;
  }
  Judged& j = *judged;
  record["parts"] = j.parts_json;
  if (!j.fields_json.is_null()) record["fields"] = j.fields_json;

  if (!j.reason.empty()) {
    Result<std::string> target = quarantine_upload(r, upload, j, name, record);
    remove_copies(j);
    record["outcome"] = "quarantined";
    record["status"] = 422;
    record["reason"] = j.reason;
    record["message"] = j.message;
    if (target) {
      record["target"] = *target;
    } else {
      record["target"] = nullptr;
      record["quarantine_error"] = printable(target.error().message);
    }
    r.say(fmt::format("{} from {}: quarantined ({}: {})", name, req.remote_addr, j.reason, j.message));
    const bool recorded = r.record(record);
    answer(res, refusal(recorded ? 422 : 503,
                        fmt::format("the upload was not forwarded: it could not be proven free of secrets ({})", j.reason)));
    return;
  }

  if (!o.release.empty() || o.queue.submit) {
    // Into the release directory, or into the cluster's queue: the redacted, verified copies.
    json stored = json::array();
    // Dumps only; form fields and other files stay out.
    const auto is_dump = [&](std::size_t i) { return upload.parts[i].file && j.parts[i].format != "raw"; };
    std::size_t dumps = 0;
    for (std::size_t i = 0; i < upload.parts.size(); ++i) dumps += is_dump(i) ? 1 : 0;
    for (std::size_t i = 0; i < upload.parts.size(); ++i) {
      const CleanedPart& c = j.parts[i];
      if (!is_dump(i)) continue;
      std::string failure;
      if (o.queue.submit) {
        Result<std::string> queued = o.queue.submit(c.copy_path);
        if (queued) {
          stored.push_back("sha256:" + *queued);
        } else {
          failure = printable(queued.error().message);
        }
      } else {
        const std::string target = dumps == 1 ? name + ".dmp" : fmt::format("{}-{}.dmp", name, i + 1);
        Result<bool> put = r.release->put(c.copy_path, target);
        if (put && *put) {
          stored.push_back(r.release->where() + "/" + target);
        } else {
          failure = put ? "the release name is taken" : printable(put.error().message);
        }
      }
      if (!failure.empty()) {
        remove_copies(j);
        record["outcome"] = "failed";
        record["status"] = 500;
        record["message"] = failure;
        r.record(record);
        answer(res, refusal(500, "the upload could not be stored"));
        return;
      }
    }
    remove_copies(j);
    record["outcome"] = "released";
    record["status"] = 200;
    record["released"] = stored;
    if (o.queue.submit) record["queue"] = o.queue.where;
    r.say(fmt::format("{} from {}: released {} dumps to {}", name, req.remote_addr, stored.size(),
                      o.queue.submit ? o.queue.where : o.release));
    answer(res, r.record(record) ? Answer{200, name + "\n", "text/plain"} : refusal(503, "the audit log failed"));
    return;
  }

  // Upstream: the same shape, the parts replaced by their verified copies, the fields as cleaned.
  // The copies are opened before their names go: their bytes are read from disk as they are sent.
  std::vector<UniqueFd> copies(upload.parts.size());
  Status built = [&]() -> Status {
    for (std::size_t i = 0; i < upload.parts.size(); ++i) {
      if (!upload.parts[i].file) continue;
      copies[i] = UniqueFd(::open(j.parts[i].copy_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (copies[i].get() < 0) return os_error(fmt::format("cannot open {}", j.parts[i].copy_path));
    }
    return ok_status();
  }();
  remove_copies(j);
  lock.unlock();
  UpstreamRequest up;
  up.timeout = o.upstream_timeout;
  UniqueFd packed;
  std::string forwarded_sha;
  if (built) {
    Result<Body> body = upstream_body(r, upload, j, copies, packed);
    if (body) {
      up.body = std::move(*body);
      Sha256Stream digest;
      built = each_block(up.body, [&digest](std::span<const std::byte> b) {
        digest.update(b);
        return ok_status();
      });
      forwarded_sha = digest.finish();
    } else {
      built = body.error();
    }
  }
  if (!built) {
    std::lock_guard again(r.mutex);
    record["outcome"] = "failed";
    record["status"] = 500;
    record["message"] = printable(built.error().message);
    r.record(record);
    answer(res, refusal(500, "the upload could not be forwarded"));
    return;
  }
  up.url = o.upstream;
  if (!req.target.empty() && req.target.find('?') != std::string::npos) {
    up.url += (o.upstream.find('?') == std::string::npos ? "?" : "&") + req.target.substr(req.target.find('?') + 1);
  }
  up.headers.push_back("Content-Type: " + upload.content_type);
  if (upload.gzip) up.headers.push_back("Content-Encoding: gzip");
  if (req.has_header("User-Agent")) up.headers.push_back("User-Agent: " + client_text(req.get_header_value("User-Agent")));
  const Delivery delivery = deliver_upstream(up, o.retry);
  const Result<UpstreamAnswer>& got = delivery.answer;

  std::lock_guard again(r.mutex);
  record["forwarded_to"] = upstream_for_records(o.upstream);
  record["forwarded"] = io_json(body_length(up.body), forwarded_sha);
  record["attempts"] = delivery.attempts;
  if (!got) {
    record["outcome"] = "upstream-failed";
    record["status"] = 502;
    record["message"] = printable(got.error().message);
    r.say(fmt::format("{} from {}: upstream failed after {} attempts ({})", name, req.remote_addr, delivery.attempts,
                      printable(got.error().message)));
    answer(res, r.record(record) ? refusal(502, got.error().message) : refusal(503, "the audit log failed"));
    return;
  }
  const std::string body_sha = hex(sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(got->body.data()), got->body.size())));
  json upstream = {{"status", got->status}, {"size", got->body.size()}, {"sha256", body_sha}};
  if (got->body.size() <= 200) upstream["body"] = client_text(got->body);
  record["upstream"] = upstream;
  if (delivery.failed()) {
    // Still failing after every attempt: the client hears that the way to the collector
    // failed, and may try again later, as it would after a 5xx of the collector's own.
    const std::string why = fmt::format("the upstream answered HTTP {} to each of {} attempts", got->status, delivery.attempts);
    record["outcome"] = "upstream-failed";
    record["status"] = 502;
    record["message"] = why;
    r.say(fmt::format("{} from {}: upstream failed ({})", name, req.remote_addr, why));
    answer(res, r.record(record) ? refusal(502, why) : refusal(503, "the audit log failed"));
    return;
  }
  record["outcome"] = "forwarded";
  record["status"] = got->status;
  r.say(fmt::format("{} from {}: forwarded to {} (HTTP {}{})", name, req.remote_addr, upstream_for_records(o.upstream),
                    got->status, delivery.attempts > 1 ? fmt::format(", attempt {}", delivery.attempts) : ""));
  if (!r.record(record)) {
    answer(res, refusal(503, "the audit log failed"));
    return;
  }
  answer(res, Answer{static_cast<int>(got->status), got->body,
                     got->content_type.empty() ? std::string("text/plain") : got->content_type});
}

// Bytes of uploads the relay holds in memory files at once, inflated: a thousand clients each
// sending --max-upload would otherwise hold a thousand times it. Taken as they arrive, given
// back when the upload is done with.
class HeldBytes {
 public:
  HeldBytes(std::atomic<std::uint64_t>& total, std::uint64_t budget) : total_(total), budget_(budget) {}
  HeldBytes(const HeldBytes&) = delete;
  HeldBytes& operator=(const HeldBytes&) = delete;
  ~HeldBytes() { total_.fetch_sub(mine_); }
  // Up to `now` held by this upload; false when that passes the budget.
  bool grow_to(std::uint64_t now) {
    if (now <= mine_) return true;
    const std::uint64_t more = now - mine_;
    if (total_.fetch_add(more) + more > budget_) {
      total_.fetch_sub(more);
      return false;
    }
    mine_ = now;
    return true;
  }

 private:
  std::atomic<std::uint64_t>& total_;
  std::uint64_t budget_;
  std::uint64_t mine_ = 0;
};

// One record per address and window that saw refusals, once the window is over (or the relay
// stops): how many uploads it refused, not each of them.
void record_rate_refusals(Relay& r, bool all) {
  if (!r.rate) return;
  for (const RateRefusals& w : r.rate->ended(RateLimit::Clock::now(), all)) {
    std::tm tm{};
    const std::time_t start = w.window_start;
    gmtime_r(&start, &tm);
    std::lock_guard lock(r.mutex);
    r.say(fmt::format("{} was refused {} uploads over the limit of {} a minute", w.client, w.refused, w.limit));
    r.record({{"rate_limited", w.client},
              {"window_start", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm)},
              {"window_seconds", RateLimit::kWindow.count()},
              {"limit", w.limit},
              {"refused", w.refused}},
             "rate-limited");
  }
}

void handle_request(Relay& r, const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& reader) {
  json record = {{"client", req.remote_addr}, {"path", client_text(req.path)}};
  if (r.rate) {
    const RateLimit::Verdict verdict = r.rate->admit(req.remote_addr, RateLimit::Clock::now());
    record_rate_refusals(r, false);
    if (!verdict.allowed) {
      // Not read, not recorded one by one: a flood must not fill the audit log.
      res.set_header("Retry-After", std::to_string(verdict.retry_after));
      res.set_header("Connection", "close");
      return answer(res, refusal(429, fmt::format("more than {} uploads a minute from this address", r.o.rate_limit)));
    }
  }
  const auto reject = [&](int status, const std::string& why) {
    record["outcome"] = "rejected";
    record["status"] = status;
    record["message"] = printable(why);
    res.set_header("Connection", "close");
    if (status == 503) res.set_header("Retry-After", "1");
    std::lock_guard lock(r.mutex);
    r.say(fmt::format("upload from {}: rejected with HTTP {} ({})", req.remote_addr, status, printable(why)));
    answer(res, r.record(record) ? refusal(status, why) : refusal(503, "the audit log failed"));
  };
  if (r.failed) return answer(res, refusal(503, "the relay is stopping"));
  Result<std::unique_ptr<UploadReader>> made =
      UploadReader::start(req.get_header_value(kStashedType), req.get_header_value(kStashedEncoding), r.o.limits);
  if (!made) return reject(status_of(made.error()), made.error().message);
  std::optional<Error> failure;
  bool busy = false;
  HeldBytes held(r.held_bytes, r.byte_budget);
  const bool read = reader([&](const char* data, std::size_t size) {
    Status fed = (*made)->feed(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    if (!fed) {
      failure = fed.error();
      return false;
    }
    if (!held.grow_to(std::max((*made)->body_bytes(), (*made)->content_bytes()))) {
      busy = true;
      return false;
    }
    return true;
  });
  if (busy) return reject(503, "the relay holds as many uploads as it may; try again");
  if (failure) return reject(status_of(*failure), failure->message);
  if (!read) {
    if (RelayHttpServer::body_deadline_passed()) {
      return reject(408, fmt::format("the upload took longer than {} s", r.o.upload_timeout));
    }
    if (res.status == 413) {
      return reject(413, fmt::format("the declared Content-Length is larger than the limit of {} bytes", r.o.limits.max_body));
    }
    return reject(400, "the body did not arrive whole (shorter than its declared length, or the client went silent)");
  }
  Result<Upload> upload = (*made)->finish();
  if (!upload) return reject(status_of(upload.error()), upload.error().message);
  handle_upload(r, *upload, req, std::move(record), res);
}

}  // namespace

Status run_relay(const RelayOptions& given, const RelayMessages& say) {
  // The relay holds uploaded dumps in memory.
  make_process_private();
  // Many clients at once each hold a descriptor: as many as the hard limit allows.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  std::signal(SIGPIPE, SIG_IGN);

  RelayOptions o = given;
  // Each held connection is a descriptor, and an upload's parts, the scan and the audit log
  // take more: past the limit accept() fails and httplib's loop waits, so the cap stays below.
  constexpr rlim_t kSpareFiles = 256;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur < o.max_connections + 2 * kSpareFiles) {
    const auto fit = static_cast<unsigned>(files.rlim_cur > 2 * kSpareFiles ? files.rlim_cur - 2 * kSpareFiles : 1);
    say(fmt::format("at most {} connections at once, not {}: the limit of open files is {}", fit, o.max_connections,
                    files.rlim_cur));
    o.max_connections = fit;
  }
  for (const std::string* dir : {&o.quarantine, &o.release}) {
    if (!dir->empty()) DG_CHECK(make_private_dir(*dir));
  }
  // The verified copies wait here between their rescan and their way out (never the originals,
  // which stay in memory files).
  const char* tmp = std::getenv("TMPDIR");
  std::string work = fmt::format("{}/dumpguard-relay-XXXXXX", o.clean.open.tmpdir.empty() ? (tmp != nullptr && *tmp != 0 ? tmp : "/tmp") : o.clean.open.tmpdir);
  if (mkdtemp(work.data()) == nullptr) return os_error(fmt::format("cannot create a work directory like {}", work));
  o.clean.work = work;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)remove_tree(dir); }
  } cleanup{work};

  DG_TRY(AuditTrail audit, AuditTrail::open(o.audit, o.audit_key, o.checkpoint, o.audit_syslog));
  DG_TRY(DirectoryStore quarantine, DirectoryStore::open(o.quarantine, false, 0, "relay"));
  Relay r(o, say, std::move(audit), std::move(quarantine));
  if (!o.release.empty()) {
    DG_TRY(DirectoryStore release, DirectoryStore::open(o.release, false, 0, "relay"));
    r.release.emplace(std::move(release));
  }
  if (!o.upstream.empty()) init_upstream_client();

  ConnectionLimits limits;
  limits.header_timeout = o.header_timeout;
  limits.read_timeout = o.read_timeout;
  limits.upload_timeout = o.upload_timeout;
  limits.write_timeout = o.read_timeout;
  limits.keep_alive_timeout = std::min(5.0, o.read_timeout);
  DG_TRY(std::unique_ptr<RelayHttpServer> server,
         RelayHttpServer::make(limits, o.max_connections, TlsFiles{o.tls_cert, o.tls_key, o.tls_client_ca}));
  const bool tls = server->tls();
  r.server = server.get();
  const std::uint64_t per_upload = std::max(o.limits.max_body, o.limits.max_content);
  if (o.rate_limit > 0) r.rate.emplace(o.rate_limit);
  r.byte_budget = per_upload > UINT64_MAX / o.connections ? UINT64_MAX : per_upload * o.connections;
  server->set_payload_max_length(static_cast<std::size_t>(o.limits.max_body));
  server->set_expect_100_continue_handler([&o](const httplib::Request& req, httplib::Response& res) {
    // Refused before the client sends the body.
    if (req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > o.limits.max_body) {
      // httplib 0.11 writes res.status, not the value returned, for anything but 100 and 417.
      res.status = 413;
      res.set_header("Connection", "close");
      res.set_content(fmt::format("dumpguard relay: the body is larger than the limit of {} bytes\n", o.limits.max_body),
                      "text/plain");
      return 413;
    }
    return 100;
  });
  server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    // The Request is the server's own, non-const object: see kStashedType.
    httplib::Headers& headers = const_cast<httplib::Request&>(req).headers;
    headers.erase(kStashedType);
    headers.erase(kStashedEncoding);
    for (const char* name : {"Content-Type", "Content-Encoding"}) {
      const auto found = headers.find(name);
      if (found == headers.end()) continue;
      const std::string value = found->second;
      headers.erase(name);
      headers.emplace(std::string(name) == "Content-Type" ? kStashedType : kStashedEncoding, value);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server->Post(".*", [&r](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    try {
      handle_request(r, req, res, reader);
    } catch (const std::exception& e) {
      r.say(fmt::format("upload from {}: internal error ({})", req.remote_addr, printable(e.what())));
      answer(res, refusal(500, "internal error; the upload was not forwarded"));
    }
  });

  int port = o.port;
  if (port == 0) {
    port = server->bind_to_any_port(o.host);
    if (port <= 0) return Error{Errc::io, 0, fmt::format("cannot listen on {}: {}", o.host, std::strerror(errno))};
  } else if (!server->bind_to_port(o.host, port)) {
    return Error{Errc::io, 0, fmt::format("cannot listen on {}:{}: {}", o.host, port, std::strerror(errno))};
  }
  // httplib listens with a backlog of 5: clients connecting faster than the accept loop takes
  // them would wait for the kernel's retransmission, seconds, rather than for a thread.
  server->set_backlog(static_cast<int>(std::min(o.max_connections, 4096u)));

  // SIGTERM, SIGINT and SIGHUP stop the server from a thread of their own; blocked here first,
  // so that every thread the server starts inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int got = 0;
    sigwait(&stop_signals, &got);
    if (!done) server->stop();
  });

  const std::string where = fmt::format("{}://{}:{}", tls ? "https" : "http", o.host, port);
  json started = {{"pid", getpid()}, {"listen", where}, {"quarantine", o.quarantine}};
  if (!o.upstream.empty()) started["upstream"] = upstream_for_records(o.upstream);
  if (!o.release.empty()) started["release"] = o.release;
  if (o.queue.submit) started["queue"] = o.queue.where;
  Status ok = r.audit.record("relay-started", started);
  if (ok) {
    const std::string to = !o.upstream.empty() ? "forwarding to " + upstream_for_records(o.upstream)
                           : o.queue.submit    ? "queueing to " + o.queue.where
                                               : "releasing to " + o.release;
    say(fmt::format("listening on {}, {}", where, to));
    server->listen_after_bind();
  }
  done = true;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!o.upstream.empty()) close_upstream_client();
  if (!ok) return ok.error();
  if (r.failure) return *r.failure;
  record_rate_refusals(r, true);
  const ServerCounts counts = server->counts();
  DG_CHECK(r.audit.record("relay-stopped", {{"pid", getpid()},
                                            {"uploads", r.seq.load()},
                                            {"refused_busy", counts.refused_busy},
                                            {"head_timeouts", counts.head_timeouts},
                                            {"tls_refused", counts.tls_refused}}));
  say("stopped");
  return ok_status();
}

}  // namespace dumpguard::relay
