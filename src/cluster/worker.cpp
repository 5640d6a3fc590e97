#include "cluster/worker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fmt/format.h>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/audit_stream.hpp"
#include "cluster/once_store.hpp"
#include "cluster/shared_store.hpp"
#include "cluster/state_bucket.hpp"
#include "cluster/work_item.hpp"
#include "gate/directory_store.hpp"
#include "gate/durable_files.hpp"
#include "gate/instance.hpp"
#include "gate/names.hpp"
#include "gate/pipeline.hpp"
#include "gate/private_path.hpp"
#include "gate/stop_signal.hpp"
#include "io/private_process.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

bool present(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Removes what an earlier run of this worker left in its inbox: copies made before their claim,
// whose messages come again.
Status empty_inbox(const std::string& dir) {
  DG_CHECK(remove_tree(dir));
  return make_private_dir(dir);
}

// The work directories of this host's dead workers: no process holds their lock, their pid is
// gone, their lease has expired, and their heartbeat has been silent as long. What they left
// (copies of dumps, claims, half-made outputs) is removed: their dumps are redone by the others,
// from the shared store, whose copy goes only after a verdict. The directory itself, its lock and
// its subdirectories stay: a worker starting under that id makes them before it waits for the
// lock that this check holds, and finds them there when it gets it.
Status remove_dead_workers(const GateOptions& o, const std::string& own_id, kvStore* kv, AuditTrail& audit,
                           const GateMessages& say) {
  constexpr std::array<const char*, 4> kKept = {"claims", "out", "decided", "inbox"};
  for (StaleInstance& stale : find_stale_instances(o.work, own_id, o.lease)) {
    std::vector<std::string> left;
    for (const std::string& name : names_in(stale.dir)) {
      if (name == "lock" || name == "lease") continue;
      if (std::find(kKept.begin(), kKept.end(), name) == kKept.end()) {
        left.push_back(stale.dir + "/" + name);
        continue;
      }
      for (const std::string& inner : names_in(stale.dir + "/" + name)) {
        left.push_back(stale.dir + "/" + name + "/" + inner);
      }
    }
    if (left.empty()) continue;
    // A heartbeat that cannot be read now (the server restarting) is asked for at the next check.
    const Result<std::optional<Heartbeat>> silent = read_heartbeat(kv, stale.id);
    if (!silent || (*silent && (*silent)->age < o.lease)) continue;
    DG_CHECK(audit.record("work-removed", {{"instance", stale.id},
                                           {"by", own_id},
                                           {"dir", stale.dir},
                                           {"entries", left.size()},
                                           {"why", "its worker is gone: no process holds its lock, and its lease and "
                                                   "heartbeat expired"}}));
    for (const std::string& path : left) DG_CHECK(remove_tree(path));
    say(fmt::format("worker {}: removed what dead worker {} left in {} ({} entries)", own_id, stale.id, stale.dir,
                    left.size()));
  }
  return ok_status();
}

// While a dump is scanned, tells the server every few seconds that the message is still in
// hand ("+WPI": its ack deadline starts again) and renews the worker's heartbeat, so that
// neither the queue nor the other workers take a long scan for a dead worker.
class KeepAlive {
 public:
  KeepAlive(natsMsg* msg, kvStore* kv, WorkerRun worker, std::string dump, std::chrono::milliseconds every)
      : msg_(msg), kv_(kv), worker_(std::move(worker)), dump_(std::move(dump)), every_(every) {
    thread_ = std::thread([this] { run(); });
  }
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;
  ~KeepAlive() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, every_, [this] { return stopping_; })) {
      if (msg_ != nullptr) natsMsg_InProgress(msg_, nullptr);
      (void)put_heartbeat(kv_, worker_, dump_);
    }
  }
  natsMsg* msg_;
  kvStore* kv_;
  WorkerRun worker_;
  std::string dump_;
  std::chrono::milliseconds every_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

struct Worker {
  const GateOptions& o;
  const ClusterWorkerOptions& c;
  const GateMessages& say;
  NatsClient& client;
  kvStore* kv;
  Pipeline& pipeline;
  const WorkDirs& own;
  std::string inbox_dir;
  OnceStore& release;
  OnceStore& quarantine;
  AuditTrail& audit;
  WorkerRun me;
  std::chrono::milliseconds keep_alive_every;
  SharedStore& store;

  // One message: claim, process, verdict, acknowledge. An error is the worker's own failure.
  Status handle(natsMsg* msg) {
    const std::string_view text(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    auto item = parse_work_message(text);
    if (!item) {
      // Not something a submitter writes: never redelivered, and the audit trail says so.
      DG_CHECK(audit.record("failed", {{"instance", me.id},
                                       {"message", natsMsg_GetSequence(msg)},
                                       {"why", item.error().message}}));
      natsMsg_Term(msg, nullptr);
      say(fmt::format("work message {}: {}; dropped", natsMsg_GetSequence(msg), item.error().message));
      return ok_status();
    }
    const std::string name = work_file_name(*item);
    auto claimed = claim_dump(kv, item->sha256, me, std::max(3.0, o.lease));
    if (!claimed) {
      say(fmt::format("{}: {}; offered again later", name, claimed.error().message));
      natsMsg_NakWithDelay(msg, 2000, nullptr);
      return ok_status();
    }
    if (claimed->claim == Claim::busy) {
      natsMsg_NakWithDelay(msg, static_cast<std::int64_t>(std::max(1.0, o.lease / 2) * 1000), nullptr);
      return ok_status();
    }
    if (claimed->claim == Claim::decided) {
      // Redelivered after its verdict was recorded (the acknowledgement was lost).
      DG_CHECK(drop_shared(*item));
      natsMsg_AckSync(msg, nullptr, nullptr);
      say(fmt::format("{}: already {} by {}", name, claimed->seen->state, claimed->seen->worker));
      return ok_status();
    }
    DumpState verdict{"", me.id, me.run, audit_time_now(), "", "", 0};
    DG_CHECK(judge(msg, *item, name, verdict));
    DG_CHECK(record_verdict(kv, item->sha256, claimed->revision, verdict));
    DG_CHECK(drop_shared(*item));
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus acked = natsMsg_AckSync(msg, nullptr, &jerr);
    if (acked != NATS_OK) {
      // The verdict is recorded: a redelivery is acknowledged without a second look.
      say(fmt::format("{}: {} (the acknowledgement was lost: {}; its redelivery will only be acknowledged)", name,
                      verdict.state, natsStatus_GetText(acked)));
    }
    return ok_status();
  }

  // Copies the dump out of the shared store and takes it through the gate's steps, telling the
  // queue it is in progress meanwhile; `verdict` says where it went.
  Status judge(natsMsg* msg, const WorkItem& item, const std::string& name, DumpState& verdict) {
    KeepAlive keep(msg, kv, me, name, keep_alive_every);
    const std::string local = inbox_dir + "/" + name;
    ::unlink(local.c_str());  // a copy an earlier run of this worker left before its claim
    auto copied = store.get(item, local);
    // The worker's own failure (its disk, the store's mount or server, its credentials) stops it;
    // the message comes again.
    if (!copied && copied.error().code != Errc::bad_value) return copied.error();
    if (!copied || !*copied) {
      // Released or quarantined under its name already (by a worker that died before its
      // verdict), or gone from the store, or changed there: nothing to do here but say so.
      if (present(release.where() + "/" + name)) {
        verdict.state = "released";
        verdict.target = release.where() + "/" + name;
      } else if (present(quarantine.where() + "/" + name)) {
        verdict.state = "quarantined";
        verdict.target = quarantine.where() + "/" + name;
      } else {
        verdict.state = "failed";
        verdict.reason = copied ? "not in the shared store" : printable(copied.error().message);
        DG_CHECK(audit.record("failed", {{"dump", name}, {"instance", me.id}, {"why", verdict.reason}}));
      }
    } else {
      DG_TRY(const bool taken, pipeline.take(own, name));
      if (taken && release.published(name)) {
        verdict.state = "released";
        verdict.target = release.where() + "/" + name;
      } else if (taken && quarantine.published(name)) {
        verdict.state = "quarantined";
        verdict.target = quarantine.where() + "/" + name;
      } else {
        verdict.state = "failed";
        verdict.reason = "the gate did not publish it (see the audit trail)";
      }
    }
    return ok_status();
  }

  // The shared store's copy goes once the dump has its verdict: a released dump's original is
  // deleted, as the gate deletes it, and a quarantined one is kept in the quarantine package.
  Status drop_shared(const WorkItem& item) { return store.remove(item); }

  // --once: nothing waiting in the queue and nothing in any worker's hands.
  Result<bool> queue_drained() {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetConsumerInfo(&info, client.js(), kWorkStream, kWorkConsumer, nullptr, &jerr);
    if (s != NATS_OK) return false;  // the server is away: not drained as far as we know
    const bool drained = info->NumPending == 0 && info->NumAckPending == 0;
    jsConsumerInfo_Destroy(info);
    return drained;
  }
};

}  // namespace

Status run_cluster_worker(const GateOptions& o, const ClusterWorkerOptions& c, const GateMessages& say) {
  make_process_private();
  DG_TRY(const std::unique_ptr<SharedStore> store, open_shared_store(c.shared_store));
  // As the gate refuses them: released copies and quarantined originals never share a directory,
  // and neither is the shared store when it is a directory, where unredacted dumps wait.
  const std::string shared_dir = store->directory();
  std::vector<std::pair<const std::string*, const std::string*>> apart = {{&o.release, &o.quarantine},
                                                                          {&o.quarantine, &o.release}};
  if (!shared_dir.empty()) {
    apart.insert(apart.end(), {{&o.release, &shared_dir}, {&o.quarantine, &shared_dir},
                               {&shared_dir, &o.release}, {&shared_dir, &o.quarantine}});
  }
  for (const auto& [a, b] : apart) {
    DG_TRY(const bool inside, lies_within(*a, *b));
    if (inside) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{} is {} or inside it: --release, --quarantine and --shared-store must not overlap", *a, *b)};
    }
  }
  for (const std::string* dir : {&o.release, &o.quarantine}) DG_CHECK(make_private_dir(*dir));
  Result<UniqueFd> work_dir = open_private_dir(o.work);
  if (!work_dir) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the work directory {} is not the worker's alone: {}", o.work, work_dir.error().message)};
  }
  // Wrong credentials or an unreachable store stop the worker before it takes a dump.
  DG_CHECK(store->check());
  const std::string refused = o.work + "/refused";
  DG_TRY(const UniqueFd refused_dir, open_private_dir(refused));
  DG_TRY(std::unique_ptr<Instance> instance, Instance::start(o.work, o.instance, o.lease));
  const std::string inbox_dir = instance->dir() + "/inbox";
  DG_CHECK(empty_inbox(inbox_dir));

  NatsOptions nats = c.nats;
  nats.name = "dumpguard worker " + instance->id();
  DG_TRY(NatsClient client, NatsClient::connect(nats));
  DG_TRY(kvStore * kv, client.state());
  DG_TRY(std::unique_ptr<AuditStream> stream, AuditStream::open(client, o.audit_key, o.checkpoint));
  AuditTrail audit = AuditTrail::to_sink(std::move(stream));

  DG_TRY(DirectoryStore inbox, DirectoryStore::open(inbox_dir, false, 0, o.instance));
  DG_TRY(DirectoryStore release_dir, DirectoryStore::open(o.release, false, 0, o.instance));
  DG_TRY(DirectoryStore quarantine_dir, DirectoryStore::open(o.quarantine, false, 0, o.instance));
  OnceStore release(release_dir);
  OnceStore quarantine(quarantine_dir);
  Pipeline pipeline(o, instance->id(), inbox, release, quarantine, audit, refused, say);
  const WorkDirs own = work_dirs_of(instance->dir(), instance->id());

  // Bound to the consumer the admin made (`cluster init`), never made here: a consumer that a
  // pull subscription creates is deleted when that subscription closes.
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = kWorkStream;
  so.Consumer = kWorkConsumer;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub, client.js(), kWorkSubject, kWorkConsumer, nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return nats_error(fmt::format("cannot bind to the work queue's consumer {} of {} (run `dumpguard cluster init` "
                                  "with the admin's credentials first)",
                                  kWorkConsumer, kWorkStream),
                      s, jerr);
  }
  std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> subscription(sub, natsSubscription_Destroy);

  // The consumer's ack wait: "in progress" goes at a third of it.
  std::chrono::milliseconds keep_alive_every(10000);
  {
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, client.js(), kWorkStream, kWorkConsumer, nullptr, &jerr) == NATS_OK) {
      keep_alive_every = std::chrono::milliseconds(std::max<std::int64_t>(200, info->Config->AckWait / 3'000'000));
      jsConsumerInfo_Destroy(info);
    }
  }
  keep_alive_every = std::min(keep_alive_every, std::chrono::milliseconds(static_cast<long>(o.lease * 1000 / 3)));

  watch_stop_signals();
  DG_CHECK(audit.record("started", {{"instance", instance->id()},
                                    {"pid", static_cast<long>(getpid())},
                                    {"nats", client.url()},
                                    {"shared_store", store->name()},
                                    {"release", o.release},
                                    {"quarantine", o.quarantine},
                                    {"once", o.once}}));
  say(fmt::format("worker {}: taking dumps from {} ({}), releasing to {}, quarantining to {}", instance->id(),
                  client.url(), kWorkStream, o.release, o.quarantine));
  DG_CHECK(pipeline.recover_own(own));
  DG_CHECK(remove_dead_workers(o, instance->id(), kv, audit, say));

  const WorkerRun me = WorkerRun::start(instance->id());
  Worker worker{o, c, say, client, kv, pipeline, own, inbox_dir, release, quarantine, audit, me, keep_alive_every,
                *store};
  auto last_heartbeat = std::chrono::steady_clock::time_point{};
  auto last_dead_check = std::chrono::steady_clock::now();
  const auto dead_check_every = std::chrono::duration<double>(std::max(1.0, o.lease));
  while (!stop_signalled()) {
    if (std::chrono::steady_clock::now() - last_heartbeat >= keep_alive_every) {
      (void)put_heartbeat(kv, me, "");
      last_heartbeat = std::chrono::steady_clock::now();
    }
    if (std::chrono::steady_clock::now() - last_dead_check >= dead_check_every) {
      DG_CHECK(remove_dead_workers(o, instance->id(), kv, audit, say));
      last_dead_check = std::chrono::steady_clock::now();
    }
    natsMsgList list{};
    s = natsSubscription_Fetch(&list, subscription.get(), 1, 1000, &jerr);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
      natsMsgList_Destroy(&list);
      if (o.once) {
        DG_TRY(const bool drained, worker.queue_drained());
        if (drained) break;
      }
      continue;
    }
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      // The server restarting, or the connection lost: the client reconnects; wait for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    Status handled = ok_status();
    for (int i = 0; i < list.Count && handled; ++i) handled = worker.handle(list.Msgs[i]);
    natsMsgList_Destroy(&list);
    if (!handled) return handled.error();
  }
  DG_CHECK(audit.record("stopped", {{"instance", instance->id()},
                                    {"why", stop_signalled() ? "a signal" : "--once: the queue is empty"}}));
  say(fmt::format("worker {}: stopped", instance->id()));
  return ok_status();
}

}  // namespace dumpguard
