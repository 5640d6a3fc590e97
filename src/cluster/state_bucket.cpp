#include "cluster/state_bucket.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cluster/nats_client.hpp"
#include "audit/log.hpp"
#include "gate/instance.hpp"

namespace dumpguard {

namespace {

constexpr int kMaxStateBytes = 4096;

std::string encode(const DumpState& s) {
  nlohmann::ordered_json j = {{"state", s.state}, {"worker", s.worker}, {"run", s.run}, {"time", s.time}};
  if (!s.target.empty()) j["target"] = s.target;
  if (!s.reason.empty()) j["reason"] = s.reason;
  return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string field(const nlohmann::json& j, const char* name) {
  return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string();
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

WorkerRun WorkerRun::start(std::string id) {
  std::array<unsigned char, 8> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    if (n < 0 && errno != EINTR) break;  // the pid and the start time below still tell runs apart
  }
  std::string token = fmt::format("{}-{}-", ::getpid(), std::chrono::steady_clock::now().time_since_epoch().count());
  for (const unsigned char b : bytes) token += fmt::format("{:02x}", b);
  return WorkerRun{std::move(id), std::move(token)};
}

std::string dump_key(const std::string& sha256) { return "dump." + sha256; }

std::string worker_key(const std::string& worker_id) {
  std::string out = "worker.";
  for (const char c : worker_id.substr(0, 200)) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out.push_back(plain ? c : '_');
  }
  return out;
}

Result<std::optional<DumpState>> read_dump_state(kvStore* kv, const std::string& sha256) {
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, kv, dump_key(sha256).c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND) return std::optional<DumpState>();
  if (s != NATS_OK) return nats_error("cannot read a dump's state", s);
  const int len = kvEntry_ValueLen(entry.get());
  if (len <= 0 || len > kMaxStateBytes) {
    return Error{Errc::bad_value, 0, fmt::format("the state of dump {} in the bucket is not what workers write", sha256)};
  }
  const auto j = nlohmann::json::parse(std::string(static_cast<const char*>(kvEntry_Value(entry.get())), static_cast<std::size_t>(len)),
                                       nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{Errc::bad_value, 0, fmt::format("the state of dump {} in the bucket is not what workers write", sha256)};
  }
  DumpState st{field(j, "state"),  field(j, "worker"), field(j, "run"), field(j, "time"),
               field(j, "target"), field(j, "reason"), kvEntry_Revision(entry.get())};
  return std::optional<DumpState>(st);
}

Result<std::optional<Heartbeat>> read_heartbeat(kvStore* kv, const std::string& worker_id) {
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, kv, worker_key(worker_id).c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND) return std::optional<Heartbeat>();
  if (s != NATS_OK) return nats_error("cannot read a worker's heartbeat", s);
  Heartbeat beat;
  beat.age = now_seconds() - static_cast<double>(kvEntry_Created(entry.get())) / 1e9;
  const int len = kvEntry_ValueLen(entry.get());
  if (len > 0 && len <= kMaxStateBytes) {
    const auto j = nlohmann::json::parse(
        std::string(static_cast<const char*>(kvEntry_Value(entry.get())), static_cast<std::size_t>(len)), nullptr, false);
    if (!j.is_discarded() && j.is_object()) beat.run = field(j, "run");
  }
  return std::optional<Heartbeat>(beat);
}

Result<ClaimResult> claim_dump(kvStore* kv, const std::string& sha256, const WorkerRun& me, double silent_after) {
  const DumpState mine{"claimed", me.id, me.run, audit_time_now(), "", "", 0};
  const std::string value = encode(mine);
  const std::string key = dump_key(sha256);
  DG_TRY(const std::optional<DumpState> seen, read_dump_state(kv, sha256));
  ClaimResult result;
  result.seen = seen;
  if (seen && seen->final()) {
    result.claim = Claim::decided;
    return result;
  }
  if (seen && seen->worker != me.id) {
    DG_TRY(const std::optional<Heartbeat> beat, read_heartbeat(kv, seen->worker));
    // busy: the run that claimed it is alive (a claim from before runs were named counts as its
    // worker's, as it did then)
    if (beat && beat->age < silent_after && (seen->run.empty() || beat->run == seen->run)) return result;
  }
  std::uint64_t rev = 0;
  const natsStatus s = seen ? kvStore_Update(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()), seen->revision)
                            : kvStore_Create(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK) {
    result.claim = Claim::ours;
    result.revision = rev;
    return result;
  }
  // The server away (restarting): an error, and the message is offered again later.
  if (s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED || s == NATS_NO_SERVER || s == NATS_NO_RESPONDERS) {
    return nats_error(fmt::format("cannot claim dump {}", sha256), s);
  }
  // Another worker wrote first (wrong last sequence, key exists): busy, look again later.
  return result;
}

Status record_verdict(kvStore* kv, const std::string& sha256, std::uint64_t claim_revision, const DumpState& verdict) {
  const std::string value = encode(verdict);
  const std::string key = dump_key(sha256);
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Update(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()), claim_revision);
  if (s != NATS_OK) s = kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) return nats_error(fmt::format("cannot record the verdict on dump {}", sha256), s);
  return ok_status();
}

Status put_heartbeat(kvStore* kv, const WorkerRun& me, const std::string& dump) {
  nlohmann::ordered_json j = {
      {"time", audit_time_now()}, {"pid", static_cast<long>(::getpid())}, {"host", host_name_for_gate()}, {"run", me.run}};
  if (!dump.empty()) j["dump"] = dump;
  const std::string value = j.dump();
  std::uint64_t rev = 0;
  const natsStatus s = kvStore_Put(&rev, kv, worker_key(me.id).c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) return nats_error("cannot write the worker's heartbeat", s);
  return ok_status();
}

}  // namespace dumpguard
