// `dumpguard relay`: reads the policy ([gate] in --config) and the scan options as the gate does,
// checks the command line's combinations, and runs the relay (src/relay/relay_server.cpp).
// Messages go to stderr, one line each, for the journal.
#include <fmt/format.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "gate/release_policy.hpp"
#include "redact/drop_policy.hpp"
#include "relay/relay_server.hpp"
#include "user_files/config_file.hpp"

namespace dumpguard::cli {

int run_relay_command(const RelayCliOptions& given) {
  RelayCliOptions options = given;
  const auto usage = [](const std::string& message) {
    print_stderr("dumpguard relay: {}\n", message);
    return kExitError;
  };
  const int destinations = (options.upstream.empty() ? 0 : 1) + (options.release.empty() ? 0 : 1) +
                           (options.nats.url.empty() ? 0 : 1);
  if (destinations != 1) return usage("give exactly one of --upstream URL, --release DIR and --nats URL");
  if (options.nats.url.empty() != options.shared_store.empty()) {
    return usage("--nats and --shared-store go together (each redacted dump is copied into the shared store and "
                 "queued)");
  }
  if (!options.upstream.empty() && options.upstream.rfind("http://", 0) != 0 && options.upstream.rfind("https://", 0) != 0) {
    return usage("--upstream must be an http:// or https:// URL");
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) return usage("--tls-cert and --tls-key go together");
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) return usage("--tls-client-ca needs --tls-cert and --tls-key");
  const std::size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return usage("--listen must be HOST:PORT");
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(options.listen.substr(colon + 1), &used);
    if (used != options.listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return usage("--listen must be HOST:PORT with a port from 0 to 65535");

  std::optional<ReleaseSetup> setup = release_setup(options.scan);
  if (!setup) return kExitError;

  relay::RelayOptions o;
  o.host = host;
  o.port = port;
  o.upstream = options.upstream;
  o.release = options.release.empty() ? "" : absolute_path(options.release);
  if (!options.nats.url.empty()) {
    o.queue = cluster_queue(with_name(options.nats, "dumpguard relay"),
                            shared_store_options(options.shared_store, options.s3));
  }
  o.quarantine = absolute_path(options.quarantine);
  if (!o.release.empty() && o.release == o.quarantine) return usage("--release and --quarantine must differ");
  o.audit = absolute_path(options.audit);
  o.audit_key = options.audit_key;
  o.checkpoint = options.checkpoint.empty() ? o.audit + ".checkpoint" : absolute_path(options.checkpoint);
  if (options.audit_syslog == "auto") {
    struct stat st {};
    o.audit_syslog = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode) ? "/dev/log" : "";
  } else if (options.audit_syslog != "off") {
    o.audit_syslog = options.audit_syslog;
  }
  o.tls_cert = options.tls_cert;
  o.tls_key = options.tls_key;
  o.tls_client_ca = options.tls_client_ca;
  o.limits.max_body = options.max_upload;
  o.limits.max_content = options.max_upload;
  o.header_timeout = options.header_timeout;
  o.read_timeout = options.read_timeout;
  o.upload_timeout = options.upload_timeout;
  o.upstream_timeout = options.upstream_timeout;
  o.connections = options.connections;
  o.rate_limit = options.rate_limit > 0 ? options.rate_limit : setup->relay.rate_limit.value_or(0);
  o.retry.attempts = options.upstream_attempts;
  o.retry.backoff = options.upstream_backoff;
  o.max_connections = options.max_connections;
  o.clean.scan = std::move(setup->scan);
  o.clean.open = to_open_options(options.scan.input);
  o.clean.policy = std::move(setup->policy);
  const Status ran = relay::run_relay(o, [](const std::string& line) {
    print_stderr("dumpguard relay: {}\n", line);
    std::fflush(stderr);
  });
  if (!ran) {
    print_stderr("dumpguard: relay stopped: {}\n", ran.error().message);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace dumpguard::cli
