// `dumpguard submit`: copies each dump into the shared store under its SHA-256 and queues a
// reference to it (docs/commands/submit.md). The dump itself never goes to the broker.
#include <filesystem>

#include "cli/commands.hpp"
#include "cluster/cluster_admin.hpp"

namespace dumpguard::cli {

int run_submit(const SubmitCliOptions& options) {
  const NatsOptions nats = with_name(options.nats, "dumpguard submit");
  auto client = NatsClient::connect(nats);
  if (!client) {
    print_stderr("dumpguard: {}\n", client.error().message);
    return kExitError;
  }
  const std::string store = std::filesystem::absolute(options.shared_store).lexically_normal().string();
  int code = kExitOk;
  for (const std::string& dump : options.dumps) {
    auto submitted = submit_dump(*client, store, dump);
    if (!submitted) {
      print_stderr("dumpguard: {}\n", submitted.error().message);
      code = kExitError;
      continue;
    }
    fmt::print("{} {} {}\n", submitted->item.sha256, submitted->queued ? "queued" : "already-queued", dump);
  }
  return code;
}

}  // namespace dumpguard::cli
