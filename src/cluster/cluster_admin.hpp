// What the cluster's admin and submitters do in JetStream: make the streams, the consumer and
// the bucket once (`cluster init`), queue a stored dump (`submit`), and read the state of the
// queue and the workers (`cluster status`).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/nats_client.hpp"
#include "cluster/shared_store.hpp"
#include "cluster/work_item.hpp"

namespace dumpguard {

struct ClusterInitOptions {
  double ack_wait = 30;      // seconds a worker has before an unacknowledged message is offered again
  int max_deliver = 10;      // deliveries before the queue gives a dump up (it shows as failed)
  double duplicates = 86400; // seconds a SHA-256 is remembered, so a resubmitted dump is not queued twice
  int replicas = 1;          // 3 in a three-node JetStream cluster
};

// Creates what is missing (an existing stream, consumer or bucket is left as it is) and says
// what it did, one line each.
Status init_cluster(NatsClient& client, const ClusterInitOptions& options, std::vector<std::string>& said);

// Publishes the reference with its SHA-256 as Nats-Msg-Id. false: the queue had it already
// (within its duplicate window).
Result<bool> queue_dump(NatsClient& client, const WorkItem& item);

// One file submitted: copied into the shared store under its SHA-256, then queued. `queued` is
// false when the queue had it already. A copy stored but not queued is an error that says so
// (submitting the file again queues it: the store keeps one copy).
struct Submitted {
  WorkItem item;
  bool queued = false;
};
Result<Submitted> submit_dump(NatsClient& client, SharedStore& store, const std::string& path);

// {"queue": {"waiting", "in_progress", "redelivered", "given_up"}, "dumps": {"claimed",
// "released", "quarantined", "failed"}, "failed": [...], "workers": [{"id", "last_heartbeat",
// "seconds_ago", "dump"}], "audit": {"records", "first", "last"}}
Result<nlohmann::ordered_json> cluster_status(NatsClient& client);

}  // namespace dumpguard
