// Claims, verdicts and heartbeats in the cluster's key-value bucket (kStateBucket):
//   dump.SHA256   {"state": "claimed"|"released"|"quarantined"|"failed", "worker", "run", "time", "target"?, "reason"?}
//   worker.ID     {"time", "pid", "host", "run", "dump"?}: the worker's heartbeat
// A worker id outlives its processes: a worker killed and started again under the same id
// heartbeats again at once. "run" names one process of a worker (WorkerRun), so a claim made by
// a process that is gone is not taken for a live one because its id heartbeats again.
// A claim is made with kvStore_Create (only when the key is absent) or kvStore_Update against the
// revision read (only when nobody wrote since), so two workers never both hold one dump; a
// verdict is final, and a redelivered message whose dump has one is only acknowledged.
#pragma once
#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

// One process of a worker: its id, and a token drawn when the process starts.
struct WorkerRun {
  std::string id;
  std::string run;
  static WorkerRun start(std::string id);
};

struct DumpState {
  std::string state;   // claimed, released, quarantined, failed
  std::string worker;
  std::string run;     // the process of `worker` that wrote it (empty in states older workers wrote)
  std::string time;    // ISO 8601 UTC
  std::string target;  // where it was published (released, quarantined)
  std::string reason;  // why it failed
  std::uint64_t revision = 0;
  bool final() const { return state == "released" || state == "quarantined" || state == "failed"; }
};

std::string dump_key(const std::string& sha256);
std::string worker_key(const std::string& worker_id);  // characters KV keys do not take become '_'

// The state of a dump, or nothing when the bucket has none (or it was deleted).
Result<std::optional<DumpState>> read_dump_state(kvStore* kv, const std::string& sha256);

enum class Claim {
  ours,     // this worker holds the claim now (new, taken over from a silent worker or a run that is
            // gone, or its own)
  decided,  // the dump has a verdict already: acknowledge the message
  busy,     // the run that claimed it still heartbeats: try again later
};
struct ClaimResult {
  Claim claim = Claim::busy;
  std::uint64_t revision = 0;  // of our claim
  std::optional<DumpState> seen;
};
// `silent_after`: seconds without a heartbeat after which a worker counts as gone. A claim by
// another worker is busy while that worker's heartbeat is fresh and comes from the run that
// claimed; a claim under our own id is from a run of ours that is gone (the instance lock lets
// one run of an id live at a time), and is taken over.
Result<ClaimResult> claim_dump(kvStore* kv, const std::string& sha256, const WorkerRun& me, double silent_after);

// The verdict, over our claim's revision; when another worker wrote since (it took the dump
// over), written anyway: both publish the same dump under the same name (cluster/once_store.hpp).
Status record_verdict(kvStore* kv, const std::string& sha256, std::uint64_t claim_revision, const DumpState& verdict);

Status put_heartbeat(kvStore* kv, const WorkerRun& me, const std::string& dump);

struct Heartbeat {
  double age = 0;   // seconds since it was written (by the server's timestamp)
  std::string run;  // the run that wrote it
};
// The worker's last heartbeat, or nothing.
Result<std::optional<Heartbeat>> read_heartbeat(kvStore* kv, const std::string& worker_id);

}  // namespace dumpguard
