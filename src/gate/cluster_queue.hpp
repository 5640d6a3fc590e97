// The cluster's queue as a producer of clean dumps sees it (the core handler, the relay):
// `submit` copies a redacted, verified file into the shared store and queues a reference to it
// (returning its SHA-256), as `dumpguard submit` does. The CLI supplies it, so that the layers
// that produce dumps link no broker client, and connect to the broker only when a clean dump is
// there to queue.
#pragma once
#include <functional>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

struct ClusterQueue {
  std::string where;  // for audit records: the shared store and the server, no credentials
  std::function<Result<std::string>(const std::string& path)> submit;
};

}  // namespace dumpguard
