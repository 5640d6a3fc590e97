// `dumpguard gate`: reads the policy ([gate] in --config), builds the scan options exactly as
// `dumpguard redact` does (with the policy's public keys supplied, so the hunts look for them),
// and runs the gate (src/gate/gate.cpp). Messages go to stderr, one line each, for the journal.
#include <fmt/format.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cluster/worker.hpp"
#include "gate/gate.hpp"
#include "gate/instance.hpp"
#include "gate/release_policy.hpp"
#include "user_files/config_file.hpp"
#include "redact/drop_policy.hpp"

namespace dumpguard::cli {

int run_gate_command(const GateCliOptions& given) {
  GateCliOptions options = given;
  // An inbox and its audit log, or a worker of the cluster's queue (--nats) whose dumps come
  // from the shared store and whose records go to the audit stream.
  const bool worker = !options.nats.empty();
  if (!worker && (options.inbox.empty() || options.audit.empty())) {
    print_stderr("dumpguard: gate: --inbox and --audit are required (or --nats and --shared-store, for a cluster worker)\n");
    return kExitError;
  }
  if (worker && (options.shared_store.empty() || !options.inbox.empty() || !options.audit.empty())) {
    print_stderr("dumpguard: gate --nats: --shared-store is required, and --inbox and --audit are not taken (the "
                 "dumps come from the queue, the records go to the audit stream)\n");
    return kExitError;
  }
  GateConfig config;
  if (!options.scan.config.empty()) {
    auto read = read_config_file(options.scan.config);
    if (!read) {
      print_stderr("dumpguard: {}\n", read.error().message);
      return kExitError;
    }
    config = read->gate;
  }
  auto policy = make_gate_policy(config);
  if (!policy) {
    print_stderr("dumpguard: {}\n", policy.error().message);
    return kExitError;
  }
  // An unknown drop policy stops the gate now, not at its first dump.
  if (auto dropped = drop_findings(DumpModel{}, policy->drop); !dropped) {
    print_stderr("dumpguard: {}: gate.drop: {}\n", options.scan.config, dropped.error().message);
    return kExitError;
  }
  options.scan.pubkeys.insert(options.scan.pubkeys.end(), policy->pubkey_files.begin(), policy->pubkey_files.end());
  std::optional<ScanOptions> scan = build_scan_options(options.scan);
  if (!scan) return kExitError;

  // Absolute paths: audit records and messages name places without a working directory.
  const auto absolute = [](const std::string& path) {
    std::string out = std::filesystem::absolute(path).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  };
  GateOptions gate;
  if (worker) options.inbox = options.shared_store;  // for the defaults below; a worker has no inbox
  gate.inbox = absolute(options.inbox);
  gate.release = absolute(options.release);
  gate.quarantine = absolute(options.quarantine);
  gate.work = options.work.empty() ? gate.inbox + "/.dumpguard-work" : absolute(options.work);
  gate.audit = worker ? std::string() : absolute(options.audit);
  gate.audit_key = options.audit_key;
  gate.checkpoint = options.checkpoint.empty() ? (worker ? std::string() : gate.audit + ".checkpoint") : absolute(options.checkpoint);
  // The head goes off the host through syslog wherever there is one: the anchor that a rewrite
  // on this host cannot reach.
  if (options.audit_syslog == "auto") {
    struct stat st {};
    gate.audit_syslog = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode) ? "/dev/log" : "";
  } else if (options.audit_syslog != "off") {
    gate.audit_syslog = options.audit_syslog;
  }
  gate.instance = fmt::format("{}-{}", host_name_for_gate(), options.instance);
  gate.once = options.once;
  gate.settle = options.settle;
  gate.poll = options.poll;
  gate.lease = options.lease;
  gate.scan = std::move(*scan);
  gate.open = to_open_options(options.scan.input);
  gate.policy = std::move(*policy);
  gate.fill = options.fill == "0defaced" ? defaced_fill() : zero_fill();
  const GateMessages say = [](const std::string& line) {
    print_stderr("dumpguard gate: {}\n", line);
    std::fflush(stderr);
  };
  Status ran = ok_status();
  if (worker) {
    ClusterWorkerOptions cluster{NatsOptions{options.nats, options.nats_creds, ""}, absolute(options.shared_store)};
    ran = run_cluster_worker(gate, cluster, say);
  } else {
    ran = run_gate(gate, say);
  }
  if (!ran) {
    print_stderr("dumpguard: gate stopped: {}\n", ran.error().message);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace dumpguard::cli
