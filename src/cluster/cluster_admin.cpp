#include "cluster/cluster_admin.hpp"

#include <chrono>
#include <map>
#include <fmt/format.h>

#include "cluster/state_bucket.hpp"

namespace dumpguard {

namespace {

constexpr std::int64_t kNanos = 1'000'000'000;

bool stream_exists(NatsClient& client, const char* name) {
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, client.js(), name, nullptr, &jerr);
  if (info != nullptr) jsStreamInfo_Destroy(info);
  return s == NATS_OK;
}

Status add_stream(NatsClient& client, jsStreamConfig& cfg, std::vector<std::string>& said) {
  if (stream_exists(client, cfg.Name)) {
    said.push_back(fmt::format("stream {}: exists, left as it is", cfg.Name));
    return ok_status();
  }
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, client.js(), &cfg, nullptr, &jerr);
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) return nats_error(fmt::format("cannot create stream {}", cfg.Name), s, jerr);
  said.push_back(fmt::format("stream {}: created", cfg.Name));
  return ok_status();
}

std::string entry_text(kvEntry* e) {
  const int len = kvEntry_ValueLen(e);
  if (len <= 0 || len > 4096) return "{}";
  return std::string(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(len));
}

}  // namespace

Status init_cluster(NatsClient& client, const ClusterInitOptions& o, std::vector<std::string>& said) {
  const char* work_subjects[] = {kWorkSubject};
  jsStreamConfig work;
  jsStreamConfig_Init(&work);
  work.Name = kWorkStream;
  work.Subjects = work_subjects;
  work.SubjectsLen = 1;
  work.Retention = js_WorkQueuePolicy;  // a message is gone once a worker acknowledges it
  work.Storage = js_FileStorage;
  work.Replicas = o.replicas;
  work.Duplicates = static_cast<std::int64_t>(o.duplicates * kNanos);
  work.MaxMsgSize = 4096;  // references only: a dump never fits
  DG_CHECK(add_stream(client, work, said));

  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (js_GetConsumerInfo(&ci, client.js(), kWorkStream, kWorkConsumer, nullptr, &jerr) == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    said.push_back(fmt::format("consumer {} of {}: exists, left as it is", kWorkConsumer, kWorkStream));
  } else {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = kWorkConsumer;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = static_cast<std::int64_t>(o.ack_wait * kNanos);
    cc.MaxDeliver = o.max_deliver;
    cc.MaxAckPending = 1000;
    ci = nullptr;
    const natsStatus s = js_AddConsumer(&ci, client.js(), kWorkStream, &cc, nullptr, &jerr);
    if (ci != nullptr) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) return nats_error(fmt::format("cannot create consumer {} of {}", kWorkConsumer, kWorkStream), s, jerr);
    said.push_back(fmt::format("consumer {} of {}: created (explicit acks, ack wait {} s, at most {} deliveries)",
                               kWorkConsumer, kWorkStream, o.ack_wait, o.max_deliver));
  }

  kvStore* kv = nullptr;
  if (js_KeyValue(&kv, client.js(), kStateBucket) == NATS_OK) {
    said.push_back(fmt::format("bucket {}: exists, left as it is", kStateBucket));
  } else {
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = kStateBucket;
    kc.History = 5;
    kc.StorageType = js_FileStorage;
    kc.Replicas = o.replicas;
    kc.MaxValueSize = 4096;
    const natsStatus s = js_CreateKeyValue(&kv, client.js(), &kc);
    if (s != NATS_OK) return nats_error(fmt::format("cannot create bucket {}", kStateBucket), s);
    said.push_back(fmt::format("bucket {}: created", kStateBucket));
  }
  if (kv != nullptr) kvStore_Destroy(kv);

  const char* audit_subjects[] = {kAuditSubject};
  jsStreamConfig audit;
  jsStreamConfig_Init(&audit);
  audit.Name = kAuditStream;
  audit.Subjects = audit_subjects;
  audit.SubjectsLen = 1;
  audit.Retention = js_LimitsPolicy;
  audit.Storage = js_FileStorage;
  audit.Replicas = o.replicas;
  audit.DenyDelete = true;  // no message can be removed, and the stream cannot be purged
  audit.DenyPurge = true;
  audit.Duplicates = 2 * 60 * kNanos;  // the window in which a second record N is refused
  audit.MaxMsgSize = 1 << 20;
  return add_stream(client, audit, said);
}

Result<bool> queue_dump(NatsClient& client, const WorkItem& item) {
  const std::string message = work_message(item);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = item.sha256.c_str();
  po.ExpectStream = kWorkStream;
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_Publish(&ack, client.js(), kWorkSubject, message.data(), static_cast<int>(message.size()), &po, &jerr);
  const bool duplicate = ack != nullptr && ack->Duplicate;
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (s != NATS_OK) return nats_error(fmt::format("cannot queue {}", item.sha256), s, jerr);
  return !duplicate;
}

Result<Submitted> submit_dump(NatsClient& client, SharedStore& store, const std::string& path) {
  DG_TRY(WorkItem item, store.put(path));
  auto queued = queue_dump(client, item);
  if (!queued) {
    return Error{queued.error().code, 0,
                 fmt::format("{}: stored as {}, but {}", path, store.where(item.sha256), queued.error().message)};
  }
  return Submitted{std::move(item), *queued};
}

Result<nlohmann::ordered_json> cluster_status(NatsClient& client) {
  nlohmann::ordered_json out;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, client.js(), kWorkStream, kWorkConsumer, nullptr, &jerr);
  if (s != NATS_OK) return nats_error(fmt::format("cannot read consumer {} of {}", kWorkConsumer, kWorkStream), s, jerr);
  const std::uint64_t waiting = ci->NumPending;
  const std::int64_t in_progress = ci->NumAckPending;
  const std::int64_t redelivered = ci->NumRedelivered;
  jsConsumerInfo_Destroy(ci);
  jsStreamInfo* si = nullptr;
  s = js_GetStreamInfo(&si, client.js(), kWorkStream, nullptr, &jerr);
  if (s != NATS_OK) return nats_error(fmt::format("cannot read stream {}", kWorkStream), s, jerr);
  const std::uint64_t in_stream = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  // What the stream still holds that is neither waiting nor in a worker's hands: messages the
  // consumer gave up on after its last delivery.
  const std::int64_t given_up =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(in_stream) - static_cast<std::int64_t>(waiting) - in_progress);
  out["queue"] = {{"waiting", waiting}, {"in_progress", in_progress}, {"redelivered", redelivered}, {"given_up", given_up}};

  DG_TRY(kvStore * kv, client.state());
  kvKeysList keys{};
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = 5000;
  s = kvStore_Keys(&keys, kv, &wo);
  if (s != NATS_OK && s != NATS_NOT_FOUND) return nats_error(fmt::format("cannot list bucket {}", kStateBucket), s);
  std::map<std::string, std::uint64_t> counts{{"claimed", 0}, {"released", 0}, {"quarantined", 0}, {"failed", 0}};
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();
  nlohmann::ordered_json workers = nlohmann::ordered_json::array();
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 0; i < keys.Count && i < 1'000'000; ++i) {
    const std::string key = keys.Keys[i];
    kvEntry* raw = nullptr;
    if (kvStore_Get(&raw, kv, key.c_str()) != NATS_OK) continue;
    KvEntryPtr entry(raw);
    const auto j = nlohmann::json::parse(entry_text(entry.get()), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (key.rfind("dump.", 0) == 0) {
      const std::string state = j.value("state", "");
      if (counts.count(state) > 0) ++counts[state];
      if (state == "failed" && failed.size() < 100) {
        failed.push_back({{"sha256", key.substr(5)}, {"reason", j.value("reason", "")}, {"worker", j.value("worker", "")}});
      }
    } else if (key.rfind("worker.", 0) == 0) {
      const double created = static_cast<double>(kvEntry_Created(entry.get())) / 1e9;
      nlohmann::ordered_json w = {{"id", key.substr(7)},
                                  {"host", j.value("host", "")},
                                  {"pid", j.value("pid", 0)},
                                  {"last_heartbeat", j.value("time", "")},
                                  {"seconds_ago", static_cast<std::int64_t>(now - created)}};
      if (j.contains("dump")) w["dump"] = j.value("dump", "");
      workers.push_back(std::move(w));
    }
  }
  if (s == NATS_OK) kvKeysList_Destroy(&keys);
  out["dumps"] = counts;
  out["failed"] = failed;
  out["workers"] = workers;
  s = js_GetStreamInfo(&si, client.js(), kAuditStream, nullptr, &jerr);
  if (s == NATS_OK) {
    out["audit"] = {{"records", si->State.Msgs}, {"first", si->State.FirstSeq}, {"last", si->State.LastSeq}};
    jsStreamInfo_Destroy(si);
  }
  return out;
}

}  // namespace dumpguard
