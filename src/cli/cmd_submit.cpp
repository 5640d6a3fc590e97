// `dumpguard submit`: copies each dump into the shared store under its SHA-256 and queues a
// reference to it (docs/commands/submit.md), the dumps named or, with --watch, those that arrive
// in an inbox. The dump itself never goes to the broker.
#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "cluster/cluster_admin.hpp"
#include "cluster/inbox_submit.hpp"

namespace dumpguard::cli {

int run_submit(const SubmitCliOptions& options) {
  auto store = open_shared_store(shared_store_options(options.shared_store, options.s3));
  if (!store) {
    print_stderr("dumpguard: {}\n", store.error().message);
    return kExitError;
  }
  const NatsOptions nats = with_name(options.nats, "dumpguard submit");
  auto client = NatsClient::connect(nats);
  if (!client) {
    print_stderr("dumpguard: {}\n", client.error().message);
    return kExitError;
  }
  if (!options.watch.empty()) {
    InboxSubmitOptions inbox;
    inbox.inbox = absolute_path(options.watch);
    inbox.staging = options.work.empty() ? inbox.inbox + "/.dumpguard-submit" : absolute_path(options.work);
    inbox.settle = options.settle;
    inbox.poll = std::max(0.05, std::min(2.0, options.settle));
    inbox.once = options.once;
    const Status ran = submit_from_inbox(*client, **store, inbox, [](const std::string& line) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    });
    if (!ran) {
      print_stderr("dumpguard: submit --watch stopped: {}\n", ran.error().message);
      return kExitError;
    }
    return kExitOk;
  }
  int code = kExitOk;
  for (const std::string& dump : options.dumps) {
    auto submitted = submit_dump(*client, **store, dump);
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
