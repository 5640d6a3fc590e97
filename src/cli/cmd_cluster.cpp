// `dumpguard cluster init` makes the work queue, its consumer, the state bucket and the audit
// stream (with the admin's credentials); `dumpguard cluster status` shows the queue, the dumps'
// verdicts and each worker's last heartbeat (docs/commands/cluster.md).
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cluster/cluster_admin.hpp"

namespace dumpguard::cli {

namespace {

std::optional<NatsClient> connect_or_report(const ClusterCliOptions& options, const char* name) {
  auto client = NatsClient::connect(with_name(options.nats, name));
  if (!client) {
    print_stderr("dumpguard: {}\n", client.error().message);
    return std::nullopt;
  }
  return std::move(*client);
}

}  // namespace

int run_cluster_init(const ClusterCliOptions& options) {
  auto client = connect_or_report(options, "dumpguard cluster init");
  if (!client) return kExitError;
  ClusterInitOptions init;
  init.ack_wait = options.ack_wait;
  init.max_deliver = options.max_deliver;
  init.duplicates = options.duplicates;
  init.replicas = options.replicas;
  std::vector<std::string> said;
  const Status done = init_cluster(*client, init, said);
  for (const std::string& line : said) fmt::print("{}\n", line);
  if (!done) {
    print_stderr("dumpguard: {}\n", done.error().message);
    return kExitError;
  }
  return kExitOk;
}

int run_cluster_status(const ClusterCliOptions& options) {
  auto client = connect_or_report(options, "dumpguard cluster status");
  if (!client) return kExitError;
  auto status = cluster_status(*client);
  if (!status) {
    print_stderr("dumpguard: {}\n", status.error().message);
    return kExitError;
  }
  const auto& s = *status;
  if (options.json) {
    fmt::print("{}\n", s.dump(2));
    return kExitOk;
  }
  const auto& q = s["queue"];
  const auto& d = s["dumps"];
  fmt::print("queue: {} waiting, {} in progress, {} redelivered, {} given up after the last delivery\n",
             q["waiting"].get<std::uint64_t>(), q["in_progress"].get<std::int64_t>(), q["redelivered"].get<std::int64_t>(),
             q["given_up"].get<std::int64_t>());
  fmt::print("dumps: {} claimed, {} released, {} quarantined, {} failed\n", d["claimed"].get<std::uint64_t>(),
             d["released"].get<std::uint64_t>(), d["quarantined"].get<std::uint64_t>(), d["failed"].get<std::uint64_t>());
  for (const auto& f : s["failed"]) {
    fmt::print("failed: {} ({})\n", f["sha256"].get<std::string>(), f["reason"].get<std::string>());
  }
  for (const auto& w : s["workers"]) {
    fmt::print("worker {}: last heartbeat {} ({} s ago){}\n", w["id"].get<std::string>(),
               w["last_heartbeat"].get<std::string>(), w["seconds_ago"].get<std::int64_t>(),
               w.contains("dump") ? ", working on " + w["dump"].get<std::string>() : std::string());
  }
  if (s.contains("audit")) fmt::print("audit stream: {} records\n", s["audit"]["records"].get<std::uint64_t>());
  return kExitOk;
}

}  // namespace dumpguard::cli
