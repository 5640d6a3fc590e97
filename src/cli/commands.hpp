// The subcommands' options and entry points. main.cpp parses the command line (CLI11 lives
// there alone) and calls these; each run_* only calls the library and prints.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cluster/nats_client.hpp"
#include "cluster/shared_store.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"
#include "gate/cluster_queue.hpp"
#include "io/path_names.hpp"
#include "report/text_table.hpp"
#include "gate/release_policy.hpp"
#include "user_files/config_file.hpp"
#include "user_files/scan_settings.hpp"

namespace dumpguard::cli {

// Stable exit codes (README, "Exit codes"; dumpguard(1), "EXIT STATUS").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitError = 2;

// Options every command that reads dumps takes.
struct InputOptions {
  std::vector<std::string> dumps;  // paths, or "-" for standard input
  bool raw = false;                // --format raw / --raw
  std::string tmpdir;
  std::uint64_t max_decompressed = 0;
};

OpenOptions to_open_options(const InputOptions& in);

// The text reports' colour: --color always or never, or auto: only when stdout is a terminal
// and NO_COLOR is not set to something (https://no-color.org).
TextStyle text_style(const std::string& color);

// A message for a person on stderr. A stderr that cannot be written (2>/dev/full, a full disk)
// loses the message and nothing else: fmt::print(stderr, ...) throws there, which ended every
// command with SIGABRT. The result of a command never depends on stderr.
template <class... Args>
void print_stderr(fmt::format_string<Args...> format, Args&&... args) {
  const std::string line = fmt::format(format, std::forward<Args>(args)...);
  (void)std::fwrite(line.data(), 1, line.size(), stderr);
}

// "dumpguard: FILE: offset 0x..: problem" on stderr: one line a person can act on.
void print_error(const std::string& file, const Error& error);
// Each warning of a partly sound dump, on stderr.
void print_warnings(const Dump& dump);
// The installation's fingerprint key (--fingerprint-key, else the default path; made on first
// use), or nothing after a one-line error on stderr.
std::optional<std::vector<std::uint8_t>> load_fingerprint_key_or_report(const std::string& option);

// The path made absolute and normal, without a trailing slash: audit records and messages name
// places without a working directory.
std::string absolute_path(const std::string& path);

// --shared-store (a directory, made absolute, or s3://BUCKET[/PREFIX]) and its --s3-* options,
// their files made absolute.
SharedStoreOptions shared_store_options(const std::string& location, const S3Options& s3);
// The cluster's queue for a producer of clean dumps (the core handler, the relay): each submit
// opens the store and connects, as `dumpguard submit` does, only when a dump is there to queue.
ClusterQueue cluster_queue(const NatsOptions& nats, const SharedStoreOptions& store);


struct InfoOptions {
  InputOptions input;
  bool json = false;
};
int run_info(const InfoOptions& options);

// The scan settings (user_files/scan_settings.hpp) are its base: a scalar is unset unless the
// command line gave it, so that the config file's value, else the default, applies.
struct ScanCliOptions : ScanSettings {
  InputOptions input;
  bool json = false;
  bool sarif = false;
  std::string color = "auto";  // --color auto|always|never, for the text report
  bool no_progress = false;    // --no-progress: no bar on stderr, even on a terminal
  std::string config;  // --config FILE: the options below from a TOML file (docs/config.md)
  std::vector<std::string> rules;  // --rules FILE ...: text rules added to (or replacing) the built-in set
  bool rules_only = false;         // --rules-only: no built-in rules
  unsigned threads = 0;             // --threads N; 0: every core
  std::uint64_t chunk_size = 0;     // --chunk-size (hidden, for tests): bytes per chunk; 0: default
  std::vector<std::string> detectors;  // --detectors A,B: run only these (scan only; default all)
  bool stats = false;                  // --stats: each detector's CPU time on stderr (scan only)
};
int run_scan(const ScanCliOptions& options);

// The ScanOptions asked for: the config file merged into `options` (docs/config.md), the fingerprint key loaded, key, token, baseline and fingerprint files read, text
// rules compiled. Nothing after a one-line error on stderr. `scan` and `redact` share it.
std::optional<ScanOptions> build_scan_options(ScanCliOptions& options);

// What a command that releases dumps (gate, relay) needs before its first dump: the [gate]
// policy of the config file, checked whole (an unknown drop policy stops it now), and the
// scan options, its listed keys' files among the public keys. Nothing after a one-line error.
struct ReleaseSetup {
  GatePolicy policy;
  ScanOptions scan;
  RelayConfig relay;  // the file's [relay], for the relay alone
};
std::optional<ReleaseSetup> release_setup(ScanCliOptions& options);

// `dumpguard redact`: exit 0 the copy was written and verified clean, 2 an error (nothing
// written). The scan options are scan's, so the rescan sees what scan would.
struct RedactCliOptions {
  ScanCliOptions scan;  // input.dumps holds the one dump; json, sarif and fail_on are unused
  std::string output;   // -o OUT
  bool in_place = false;  // --in-place: replace the input instead (exactly one of the two)
  std::string report;   // --report FILE: the dumpguard-redact/1 JSON report; empty: none
  std::string fill = "zero";  // zero | 0defaced
  bool allow_partial = false;  // redact a partly parsed dump (its unparsed bytes were only searched raw)
  std::vector<std::string> drops;  // --drop heap|env|KIND ... (redact/drop_policy.hpp)
};
int run_redact(const RedactCliOptions& options);

// `dumpguard gate`: exit 0 when it stops (--once done, or a signal), 2 when it cannot start or
// its own machinery fails (the audit log cannot be written): nothing is released unaudited.
struct GateCliOptions {
  ScanCliOptions scan;  // the scan options, as redact takes them; input.dumps is unused
  std::string inbox;
  std::string release;
  std::string quarantine;
  std::string audit;
  std::string audit_key;
  std::string checkpoint;  // default AUDIT.checkpoint
  std::string work;        // default INBOX/.dumpguard-work
  unsigned instance = 0;   // the id is the host name and this number
  bool once = false;
  double settle = 2;
  double poll = 2;
  double lease = 30;
  std::string fill = "zero";
  std::string audit_syslog = "auto";  // the socket the log's head goes to; auto: /dev/log if there; off
  // A worker of the cluster's queue instead of an inbox (docs/cluster.md): --nats URL given.
  NatsOptions nats;          // the NATS server (its audit records go to the audit stream), credentials, CA
  std::string shared_store;  // where submitted dumps wait: a directory or s3://BUCKET[/PREFIX]
  S3Options s3;              // --s3-endpoint, --s3-region, --s3-ca, --s3-credentials
};
int run_gate_command(const GateCliOptions& options);

// `dumpguard submit`: exit 0 every dump stored and queued (or queued already), 2 an error.
struct SubmitCliOptions {
  NatsOptions nats;
  std::string shared_store;
  S3Options s3;
  std::vector<std::string> dumps;
  // Or an inbox watched as the gate watches one, each complete dump submitted and removed.
  std::string watch;
  std::string work;  // staging, on the inbox's file system (default INBOX/.dumpguard-submit)
  double settle = 2;
  bool once = false;
};
int run_submit(const SubmitCliOptions& options);

// `dumpguard cluster init` (the admin's: streams, consumer, bucket) and `cluster status`.
struct ClusterCliOptions {
  NatsOptions nats;
  double ack_wait = 30;
  int max_deliver = 10;
  double duplicates = 86400;
  int replicas = 1;
  bool json = false;
};
int run_cluster_init(const ClusterCliOptions& options);
int run_cluster_status(const ClusterCliOptions& options);

// `dumpguard audit export`: the audit stream as a log file; exit 0 written, 2 error.
struct AuditExportOptions {
  NatsOptions nats;
  std::string output;
};
int run_audit_export(const AuditExportOptions& options);
// The whole audit stream as log text, read over the connection `nats` names; nothing when it
// cannot be read (the reason printed).
std::optional<std::string> read_cluster_audit(const NatsOptions& nats, const char* name);

// `dumpguard core-handler`: run by the kernel through core_pattern with the core on standard
// input (exit 0 handled: stored, handed on, quarantined or dropped, as the audit log says; 2 the
// handler's own failure), or --install / --uninstall / --print the core_pattern line.
struct CoreHandlerCliOptions {
  ScanCliOptions scan;  // --config FILE ([scan] and [core-handler]) and the scan options
  std::vector<std::string> specifiers;  // %P %u %g %s %t %c %h %e %d [%F]
  std::optional<std::string> store;
  std::optional<std::string> inbox;
  std::vector<std::string> exec;
  std::optional<std::string> quarantine;
  std::optional<std::string> quarantine_key;
  std::optional<std::string> work;
  std::optional<std::string> tmpdir;
  std::optional<std::string> audit;
  std::optional<std::string> audit_key;
  std::optional<std::string> checkpoint;
  std::optional<std::string> audit_syslog;
  std::optional<std::uint64_t> memory_cap;
  std::optional<std::uint64_t> max_size;
  std::optional<double> deadline;
  std::optional<std::string> on_deadline;  // quarantine | drop
  std::optional<std::string> on_failure;   // quarantine | drop
  // Or the cluster's queue: each redacted core copied into the shared store and queued.
  std::optional<std::string> nats;
  std::optional<std::string> nats_creds;
  std::optional<std::string> nats_ca;
  std::optional<std::string> shared_store;
  std::optional<std::string> s3_endpoint;
  std::optional<std::string> s3_region;
  std::optional<std::string> s3_ca;
  std::optional<std::string> s3_credentials;
  bool no_compress = false;
  bool install = false;
  bool uninstall = false;
  bool print = false;
  unsigned pipe_limit = 16;  // core_pipe_limit written by --install
  std::string sysctl_file;   // the drop-in --install writes (default /etc/sysctl.d/60-dumpguard-core-handler.conf)
};
int run_core_handler(const CoreHandlerCliOptions& options);

// `dumpguard relay`: serves crash uploads until SIGTERM, SIGINT or SIGHUP (exit 0); exit 2 when
// it cannot start or its audit log cannot be written.
struct RelayCliOptions {
  ScanCliOptions scan;  // --config FILE ([scan] and the [gate] policy) and the scan options
  std::string listen;   // HOST:PORT
  std::string upstream;
  std::string release;
  NatsOptions nats;          // or queue for the cluster's workers (with shared_store)
  std::string shared_store;
  S3Options s3;
  std::string quarantine;
  std::string audit;
  std::string audit_key;
  std::string checkpoint;             // default AUDIT.checkpoint
  std::string audit_syslog = "auto";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  unsigned rate_limit = 0;  // 0: the config file's [relay] rate-limit, else none
  unsigned upstream_attempts = 3;
  double upstream_backoff = 0.5;
  std::uint64_t max_upload = 100ull << 20;
  double header_timeout = 10;
  double read_timeout = 10;
  double upload_timeout = 300;
  double upstream_timeout = 60;
  unsigned connections = 16;
  unsigned max_connections = 1024;
};
int run_relay_command(const RelayCliOptions& options);

struct FingerprintOptions {
  std::vector<std::string> secrets;  // files, each holding one secret
  std::string output;                // the fingerprint file to write (mode 0600)
  std::string fingerprint_key;       // empty: default_fingerprint_key_path()
  bool keep_newline = false;         // do not strip one trailing newline from text secrets
};
int run_fingerprint(const FingerprintOptions& options);

// `dumpguard rules check`: exit 0 every rule passes (warnings allowed), 1 a rule fails, 2 a
// rule file cannot be read or parsed.
struct RulesCheckOptions {
  std::vector<std::string> rules;
  bool rules_only = false;
};
int run_rules_check(const RulesCheckOptions& options);

// `dumpguard rules list`: one line per rule (id, provider, severity, verifiable), or JSON;
// exit 0, or 2 when a rule file cannot be read or parsed. Takes the same rule selection.
struct RulesListOptions {
  std::vector<std::string> rules;
  bool rules_only = false;
  bool json = false;
};
int run_rules_list(const RulesListOptions& options);

struct AuditVerifyOptions {
  std::vector<std::string> logs;  // the log's files, oldest first (rotated files, then the live one)
  NatsOptions nats;               // or the cluster's audit stream, read from this server
  std::vector<std::string> keys;  // key files: HMAC secrets, or Ed25519 public (or private) keys
  bool chain = false;        // one log given: follow its opened records back through rotated files
  std::string checkpoint;    // the gate's checkpoint: also detects records cut from the end
  std::string expect_head;   // or the head hash, from an anchor off the host
  std::string continues;     // the head of the sealed file the first given file continues
};
int run_audit_verify(const AuditVerifyOptions& options);

// `dumpguard audit keygen`: exit 0 written, 2 error (nothing overwritten).
struct AuditKeygenOptions {
  bool ed25519 = false;  // else HMAC-SHA256
  std::string output;    // the key file (mode 0600); FILE.pub too for Ed25519
};
int run_audit_keygen(const AuditKeygenOptions& options);

// `dumpguard audit rotate`: exit 0 rotated, 2 error.
struct AuditRotateOptions {
  std::string log;
  std::string key;         // the key that signs the log now
  std::string new_key;     // sign the next file with this key (the seal names it); empty: the same
  std::string checkpoint;  // the gate's checkpoint file, kept current
};
int run_audit_rotate(const AuditRotateOptions& options);

// `dumpguard audit show`: exit 0 the records read verified, 1 a broken record, 2 error.
struct AuditShowOptions {
  std::vector<std::string> logs;
  std::vector<std::string> keys;  // none: the chain is checked, the signatures are not
  bool chain = false;
  std::string checkpoint;
  std::string dump;
  std::string key_fingerprint;
  std::string since;
  std::string until;
  std::vector<std::string> events;
  std::string user;  // only records of serve's requests by this user
  bool json = false;
};
int run_audit_show(const AuditShowOptions& options);

// `dumpguard serve`: exit 0 stopped by a signal, 2 it could not start, or the audit log failed
// (nothing is served unaudited).
struct ServeCliOptions {
  std::string listen;            // HOST:PORT; port 0: any free one (announced on stdout)
  std::string release;
  std::string quarantine;
  std::string users;
  std::string audit;
  std::string audit_key;
  std::string checkpoint;        // default AUDIT.checkpoint
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;         // client certificates signed by this CA may stand for tokens
  double retention_days = 0;
  bool require_reason = false;
  std::string rate_limit;        // N or N/hour: downloads per user per hour
  std::string alert_command;
  std::uint64_t alert_downloads = 0;
};
int run_serve_command(const ServeCliOptions& options);

// `dumpguard users add|list|remove`: the users file of serve. exit 0, 2 error (nothing changed).
struct UsersCliOptions {
  std::string users;  // --users FILE
  std::string name;
  std::string role;   // add: list | download | quarantine
  std::string cert;   // add: the user's client certificate instead of a token
};
int run_users_add(const UsersCliOptions& options);
int run_users_list(const UsersCliOptions& options);
int run_users_remove(const UsersCliOptions& options);

// `dumpguard selftest`: exit 0 the ordinary key was found in this process's own dump and the
// protected one was not, 1 otherwise (the protection failed, or the dump proves nothing), 2 an
// error (no gcore, ptrace refused, a sanitizer build).
struct SelftestOptions {
  std::string gcore = "gcore";           // the program that dumps this process
  bool gcore_all = false;                // gcore -a: ignores MADV_DONTDUMP (the documented caveat)
  std::string tmpdir;                    // where the core goes (removed after); default $TMPDIR or /tmp
  std::uint64_t core_limit = 2ull << 30; // RLIMIT_FSIZE for the dumping child, bytes
  unsigned timeout = 120;                // seconds gcore may take
};
int run_selftest(const SelftestOptions& options);

}  // namespace dumpguard::cli
