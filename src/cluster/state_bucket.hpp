// Claims, verdicts and heartbeats in the cluster's key-value bucket (kStateBucket):
//   dump.SHA256   {"state": "claimed"|"released"|"quarantined"|"failed", "worker", "time", "target"?, "reason"?}
//   worker.ID     {"time", "pid", "host", "dump"?}: the worker's heartbeat
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

struct DumpState {
  std::string state;   // claimed, released, quarantined, failed
  std::string worker;
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
  ours,     // this worker holds the claim now (new, taken over from a silent worker, or its own)
  decided,  // the dump has a verdict already: acknowledge the message
  busy,     // another worker holds it and its heartbeat is fresh: try again later
};
struct ClaimResult {
  Claim claim = Claim::busy;
  std::uint64_t revision = 0;  // of our claim
  std::optional<DumpState> seen;
};
// `silent_after`: seconds without a heartbeat after which a worker counts as gone.
Result<ClaimResult> claim_dump(kvStore* kv, const std::string& sha256, const std::string& worker_id, double silent_after);

// The verdict, over our claim's revision; when another worker wrote since (it took the dump
// over), written anyway: both publish the same dump under the same name (cluster/once_store.hpp).
Status record_verdict(kvStore* kv, const std::string& sha256, std::uint64_t claim_revision, const DumpState& verdict);

Status put_heartbeat(kvStore* kv, const std::string& worker_id, const std::string& dump);

// Seconds since the worker's last heartbeat (by the server's timestamp), or nothing.
Result<std::optional<double>> heartbeat_age(kvStore* kv, const std::string& worker_id);

}  // namespace dumpguard
