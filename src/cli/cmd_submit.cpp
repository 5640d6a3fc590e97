// `dumpguard submit`: copies each dump into the shared store under its SHA-256 and queues a
// reference to it (docs/commands/submit.md). The dump itself never goes to the broker.
#include <filesystem>

#include "cli/commands.hpp"
#include "cluster/cluster_admin.hpp"
#include "cluster/shared_store.hpp"

namespace dumpguard::cli {

int run_submit(const SubmitCliOptions& options) {
  NatsOptions nats{options.nats, options.nats_creds, "dumpguard submit"};
  auto client = NatsClient::connect(nats);
  if (!client) {
    print_stderr("dumpguard: {}\n", client.error().message);
    return kExitError;
  }
  const std::string store = std::filesystem::absolute(options.shared_store).lexically_normal().string();
  int code = kExitOk;
  for (const std::string& dump : options.dumps) {
    auto item = copy_into_shared_store(store, dump);
    if (!item) {
      print_stderr("dumpguard: {}\n", item.error().message);
      code = kExitError;
      continue;
    }
    auto queued = queue_dump(*client, *item);
    if (!queued) {
      // Stored but not queued: submitting it again queues it (the store keeps one copy).
      print_stderr("dumpguard: {}: stored as {}, but {}\n", dump, shared_store_path(store, item->sha256),
                   queued.error().message);
      code = kExitError;
      continue;
    }
    fmt::print("{} {} {}\n", item->sha256, *queued ? "queued" : "already-queued", dump);
  }
  return code;
}

}  // namespace dumpguard::cli
