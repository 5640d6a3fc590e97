// `dumpguard gate --nats`: a worker of the cluster-wide queue. It takes dump references from the
// work queue's durable pull consumer, claims each dump in the key-value bucket, copies it from
// the shared store into its own inbox and hands it to the gate's pipeline (gate/pipeline.hpp):
// the same steps, decisions and crash recovery as the single-host gate, with its audit records
// going to the audit stream. Its verdict goes to the bucket, then the message is acknowledged.
#pragma once
#include <string>

#include "cluster/nats_client.hpp"
#include "cluster/shared_store.hpp"
#include "gate/gate.hpp"

namespace dumpguard {

struct ClusterWorkerOptions {
  NatsOptions nats;
  SharedStoreOptions shared_store;  // a directory every worker and submitter mounts, or an s3:// bucket
};

// Runs until SIGTERM, SIGINT or SIGHUP, or with `gate.once` until the queue has nothing left
// (nothing waiting, nothing in any worker's hands). An error is the worker's own failure (exit 2).
Status run_cluster_worker(const GateOptions& gate, const ClusterWorkerOptions& cluster, const GateMessages& say);

}  // namespace dumpguard
