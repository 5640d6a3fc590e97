// `dumpguard audit export`: the cluster's audit stream written as a log file, which `audit
// verify` and `audit show` read like the gate's own (docs/commands/audit.md); `audit verify
// --nats` reads the stream the same way.
#include <sys/stat.h>

#include "cli/commands.hpp"
#include "cluster/audit_stream.hpp"
#include "io/whole_file.hpp"

namespace dumpguard::cli {

std::optional<std::string> read_cluster_audit(const NatsOptions& nats, const char* name) {
  auto client = NatsClient::connect(with_name(nats, name));
  if (!client) {
    print_stderr("dumpguard: {}\n", client.error().message);
    return std::nullopt;
  }
  auto text = read_audit_stream(*client);
  if (!text) {
    print_stderr("dumpguard: {}\n", text.error().message);
    return std::nullopt;
  }
  return std::move(*text);
}

int run_audit_export(const AuditExportOptions& options) {
  auto text = read_cluster_audit(options.nats, "dumpguard audit export");
  if (!text) return kExitError;
  // Mode 0600, as the gate's own log.
  const mode_t old = umask(077);
  const Status written = write_file_atomically(options.output, *text);
  umask(old);
  if (!written) {
    print_stderr("dumpguard: {}: {}\n", options.output, written.error().message);
    return kExitError;
  }
  std::size_t lines = 0;
  for (const char c : *text) lines += c == '\n' ? 1 : 0;
  fmt::print("{} records written to {}\n", lines, options.output);
  return kExitOk;
}

}  // namespace dumpguard::cli
