// The config file (`dumpguard scan --config FILE`): the scan options a gate is configured with
// once, in TOML (docs/config.md), and the gate's policy ([gate], docs/commands/gate.md).
// Anything the file says that dumpguard does not know is an error, so a typo fails closed
// instead of silently dropping a key from the search or a rule from the policy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "user_files/scan_settings.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

// One [[gate.key]] entry: a key named by a public key file or by its fingerprint, and what its
// presence in a dump does.
struct GateKeyRule {
  std::string pubkey;       // pubkey = "PATH" (every key in the file), resolved; or
  std::string fingerprint;  // fingerprint = "sha256:..." as `scan --json` names keys
  std::string action;       // action = "quarantine" | "redact"
};

// The [gate] table: the gate's policy (docs/commands/gate.md). Read by every command, used by
// `dumpguard gate` only, so that one file configures the scans and the gate.
struct GateConfig {
  // [gate.actions]: a finding kind (as `scan --json` names it) -> "redact" | "quarantine";
  // the key `default` sets the action of every kind not listed (default "redact").
  std::map<std::string, std::string> actions;
  std::optional<std::string> default_action;
  std::vector<GateKeyRule> keys;              // [[gate.key]]
  std::optional<std::uint64_t> max_size;      // max-size = bytes, or "64M", "8G", ...
  std::optional<std::vector<std::string>> formats;  // formats = ["elf-core", "minidump"]
  std::vector<std::string> drop;              // drop = ["env", "heap", KIND]: as redact --drop
};

// The [core-handler] table: where `dumpguard core-handler` puts each core and its limits (README,
// docs/core-handler.md). The kernel starts the handler with no environment and a command line of
// at most 128 bytes, so the installed line names this file and nothing else of the settings.
struct CoreHandlerConfig {
  std::optional<std::string> store;           // store = "DIR": redacted cores, systemd-coredump's names
  std::optional<std::string> inbox;           // inbox = "DIR": hand to the gate instead
  std::optional<std::vector<std::string>> exec;  // exec = ["NEXT", "ARG", ...]: chain; %P etc. as the kernel's
  std::optional<std::string> quarantine;      // quarantine = "DIR": sealed cores that could not be cleaned
  std::optional<std::string> quarantine_key;  // quarantine-key = "X25519 public key PEM"
  std::optional<std::string> work;            // work = "DIR": the handler's own (lock, staging)
  std::optional<std::string> tmpdir;          // tmpdir = "DIR": the encrypted spill file
  std::optional<std::string> audit;           // audit = "LOG"
  std::optional<std::string> audit_key;       // audit-key = "KEY"
  std::optional<std::string> checkpoint;      // checkpoint = "FILE"
  std::optional<std::string> audit_syslog;    // audit-syslog = "auto" | "off" | socket path
  std::optional<std::uint64_t> memory_cap;    // memory-cap = bytes or "256M"
  std::optional<std::uint64_t> max_size;      // max-size = bytes or "16G"
  std::optional<double> deadline;             // deadline = seconds
  std::optional<std::string> on_deadline;     // on-deadline = "quarantine" | "drop"
  std::optional<std::string> on_failure;      // on-failure = "quarantine" | "drop"
  std::optional<bool> compress;               // compress = true | false (zstd)
  std::vector<std::string> drop;              // drop = ["env", "heap", KIND]: as redact --drop
  std::optional<std::string> pause_after_spool;  // tests only: write the pid here and stop (SIGSTOP)
  // Or the cluster's queue (docs/cluster.md): each redacted core copied into the shared store and queued.
  std::optional<std::string> nats;            // nats = "tls://HOST:PORT" (user:password@ allowed: the file is 0600)
  std::optional<std::string> nats_creds;      // nats-creds = "FILE": a NATS credentials file
  std::optional<std::string> nats_ca;         // nats-ca = "FILE": CA certificates to trust for the server
  std::optional<std::string> shared_store;    // shared-store = "DIR" or "s3://BUCKET[/PREFIX]"
  std::optional<std::string> s3_endpoint;     // s3-endpoint = "https://HOST[:PORT]"
  std::optional<std::string> s3_region;       // s3-region = "us-east-1"
  std::optional<std::string> s3_ca;           // s3-ca = "FILE": CA certificates to trust for the S3 server
  std::optional<std::string> s3_credentials;  // s3-credentials = "FILE": an AWS credentials file (0600)
};

// The [relay] table: what `dumpguard relay` takes from the file besides [scan] and [gate]
// (docs/commands/relay.md). A command-line option wins over it.
struct RelayConfig {
  std::optional<unsigned> rate_limit;  // rate-limit = uploads per client address per minute
};

// The whole config file. In each table an unset optional or an empty list means the file did
// not mention it. Paths are already resolved against the config file's directory.
struct ConfigFile {
  ScanSettings scan;                           // the [scan] table (user_files/scan_settings.hpp)
  GateConfig gate;                             // the [gate] table (empty when absent)
  CoreHandlerConfig core_handler;              // the [core-handler] table (empty when absent)
  RelayConfig relay;                           // the [relay] table (empty when absent)
};

// Larger than any real config (a few keys and paths); the file is refused, not read in part.
inline constexpr std::size_t kMaxConfigFile = 1u << 20;
// A file nested deeper than this (io/toml.hpp, toml_nesting_depth) is refused before toml++
// recurses into it: 512 Ki levels overflow the stack, and a dumpguard config nests 3 deep.
inline constexpr std::size_t kMaxConfigNesting = 4096;

// Reads at most kMaxConfigFile bytes of the file and parses them. Errors are one line:
// "FILE:LINE:COL: problem", or "FILE: problem" where there is no position.
Result<ConfigFile> read_config_file(const std::string& path);
// The same, from the file's text; `path` names it in errors and anchors its relative paths.
Result<ConfigFile> parse_config(std::string_view text, const std::string& path);

}  // namespace dumpguard
