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
  const bool worker = !options.nats.url.empty();
  if (!worker && (options.inbox.empty() || options.audit.empty())) {
    print_stderr("dumpguard: gate: --inbox and --audit are required (or --nats and --shared-store, for a cluster worker)\n");
    return kExitError;
  }
  if (worker && (options.shared_store.empty() || !options.inbox.empty() || !options.audit.empty())) {
    print_stderr("dumpguard: gate --nats: --shared-store is required, and --inbox and --audit are not taken (the "
                 "dumps come from the queue, the records go to the audit stream)\n");
    return kExitError;
  }
  const bool in_bucket = worker && is_s3_location(options.shared_store);
  if (in_bucket && options.work.empty()) {
    print_stderr("dumpguard: gate --nats: an s3:// --shared-store needs --work DIR (by default the work directory "
                 "lies in the shared store's directory)\n");
    return kExitError;
  }
  if (!worker && options.s3.given()) {
    print_stderr("dumpguard: gate: the --s3-* options are for a worker (--nats) whose --shared-store is s3://...\n");
    return kExitError;
  }
  std::optional<ReleaseSetup> setup = release_setup(options.scan);
  if (!setup) return kExitError;

  GateOptions gate;
  // For the defaults below; a worker has no inbox.
  if (worker) options.inbox = in_bucket ? options.work : options.shared_store;
  gate.inbox = absolute_path(options.inbox);
  gate.release = absolute_path(options.release);
  gate.quarantine = absolute_path(options.quarantine);
  gate.work = options.work.empty() ? gate.inbox + "/.dumpguard-work" : absolute_path(options.work);
  gate.audit = worker ? std::string() : absolute_path(options.audit);
  gate.audit_key = options.audit_key;
  gate.checkpoint = options.checkpoint.empty() ? (worker ? std::string() : gate.audit + ".checkpoint") : absolute_path(options.checkpoint);
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
  gate.scan = std::move(setup->scan);
  gate.open = to_open_options(options.scan.input);
  gate.policy = std::move(setup->policy);
  gate.fill = options.fill == "0defaced" ? defaced_fill() : zero_fill();
  const GateMessages say = [](const std::string& line) {
    print_stderr("dumpguard gate: {}\n", line);
    std::fflush(stderr);
  };
  Status ran = ok_status();
  if (worker) {
    ClusterWorkerOptions cluster{options.nats, shared_store_options(options.shared_store, options.s3)};
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
