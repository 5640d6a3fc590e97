// dumpguard's command line: parse options with CLI11 and hand them to a run_* function.
// CLI11 is kept to this one translation unit because its headers are slow to compile.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <deque>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "user_files/scan_settings.hpp"

namespace {

constexpr const char* kNatsUrlHelp = "The NATS server (nats://HOST:PORT or tls://HOST:PORT)";

void add_input_options(CLI::App& cmd, dumpguard::cli::InputOptions& in) {
  cmd.add_option("dumps", in.dumps, "Dump files (ELF core, minidump, raw with --raw; zstd/lz4/xz compressed), or - for standard input")
      ->required();
  cmd.add_flag_callback("--raw", [&in] { in.raw = true; }, "Treat the input as a raw memory image (same as --format raw)");
  cmd.add_option_function<std::string>(
         "--format",
         [&in](const std::string& f) { in.raw = (f == "raw"); },
         "auto (default: detect from content) or raw")
      ->check(CLI::IsMember({"auto", "raw"}));
  cmd.add_option("--tmpdir", in.tmpdir, "Directory for unnamed temporary files (decompression, stdin); default $TMPDIR or /tmp")
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--max-decompressed", in.max_decompressed,
                 "Largest decompressed or spooled dump accepted, e.g. 64G (default: no cap beyond free space)")
      ->transform(CLI::AsSizeValue(false));
}

// The flags whose absence must not override a config file: known given only by count().
struct ScanFlags {
  struct Flag {
    const dumpguard::ScanSetting* setting;
    CLI::Option* option;
    bool value;
  };
  std::deque<Flag> flags;  // CLI11 keeps the address of each value

  void apply(dumpguard::ScanSettings& scan) const {
    for (const Flag& f : flags) {
      if (f.option->count() > 0) scan.*std::get<std::optional<bool> dumpguard::ScanSettings::*>(f.setting->field) = f.value;
    }
  }
};

// One setting of the table (user_files/scan_settings.hpp) as a command-line option, checked as
// its kind says. A repeatable option takes one value each time it is given (--pubkey A --pubkey
// B): CLI11 lets a vector option take every word that follows, so `redact --pubkey k.pem DUMP -o
// OUT` (the documented synopsis) read DUMP as a second key file and then stopped.
void add_setting(CLI::App& cmd, const dumpguard::ScanSetting& setting, dumpguard::ScanSettings& scan,
                 ScanFlags& flags) {
  using dumpguard::SettingKind;
  const std::string name = "--" + std::string(setting.name);
  const std::string help(setting.help);
  if (setting.kind == SettingKind::flag) {
    ScanFlags::Flag& flag = flags.flags.emplace_back(ScanFlags::Flag{&setting, nullptr, false});
    flag.option = cmd.add_flag(name, flag.value, help);
    return;
  }
  CLI::Option* option = std::visit([&](auto member) { return cmd.add_option(name, scan.*member, help); }, setting.field);
  switch (setting.kind) {
    case SettingKind::files: option->check(CLI::ExistingFile)->allow_extra_args(false); break;
    case SettingKind::dirs: option->check(CLI::ExistingDirectory)->allow_extra_args(false); break;
    case SettingKind::tokens: option->allow_extra_args(false); break;
    case SettingKind::severity:
      option->check(CLI::IsMember({"low", "medium", "high", "critical"}))->default_str("medium");
      break;
    case SettingKind::bit_errors: option->check(CLI::Range(0u, 64u)); break;
    case SettingKind::seconds: option->check(CLI::PositiveNumber); break;
    case SettingKind::path:
    case SettingKind::flag: break;
  }
}

// The options that decide what a scan finds, shared by `scan` and `redact` (which rescans
// its copy with the same options): the two commands cannot drift apart.
void add_scan_options(CLI::App& cmd, dumpguard::cli::ScanCliOptions& scan, ScanFlags& flags) {
  cmd.add_option("--config", scan.config,
               "A TOML file of scan options ([scan] table, see man dumpguard); lists in it come before the "
               "command line's, and options given here override its values")
      ->check(CLI::ExistingFile);
  for (const dumpguard::ScanSetting& setting : dumpguard::scan_settings()) {
    if (setting.every_command) add_setting(cmd, setting, scan, flags);
  }
  cmd.add_option("--rules", scan.rules,
               "A TOML file of text rules, added to the built-in set (a rule with a built-in rule's id "
               "replaces it); repeatable")
      ->check(CLI::ExistingFile);
  cmd.add_flag("--rules-only", scan.rules_only, "Use only the --rules files' text rules, not the built-in set");
  cmd.add_option("--threads", scan.threads,
                 "Threads to scan with (default: every core); the report is the same for any number")
      ->check(CLI::Range(1u, 1024u));
  // Hidden: tests make chunks small so that a small dump has many chunk boundaries.
  cmd.add_option("--chunk-size", scan.chunk_size, "Bytes per chunk of the parallel scan")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{1} << 30))
      ->group("");
  // A repeatable option takes one value each time it is given (--pubkey A --pubkey B). CLI11
  // lets a vector option take every word that follows, so `redact --pubkey k.pem DUMP -o OUT`
  // (the documented synopsis) read DUMP as a second key file and then stopped: "dumps is required".
  cmd.get_option("--rules")->allow_extra_args(false);
}

void add_progress_option(CLI::App& cmd, bool& no_progress) {
  cmd.add_flag("--no-progress", no_progress,
               "No progress bar on stderr (drawn only when stderr is a terminal, for runs longer than a moment)");
}

void add_color_option(CLI::App& cmd, std::string& color) {
  cmd.add_option("--color", color,
                 "Colour in the text report: auto (only when stdout is a terminal and NO_COLOR is not set), "
                 "always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->default_str("auto");
}

// --nats URL, --nats-creds FILE and --nats-ca FILE: every command that talks to the cluster's
// server takes the three alike. Returns --nats, for the caller to require.
CLI::Option* add_nats_options(CLI::App& cmd, dumpguard::NatsOptions& nats, const std::string& url_help,
                              const std::string& creds_help) {
  CLI::Option* url = cmd.add_option("--nats", nats.url, url_help);
  cmd.add_option("--nats-creds", nats.creds, creds_help)->check(CLI::ExistingFile);
  cmd.add_option("--nats-ca", nats.ca,
                 "PEM CA certificates to trust for the NATS server's certificate, beside the system's trust "
                 "store; asks for TLS. The certificate must name the URL's host")
      ->check(CLI::ExistingFile);
  return url;
}

// --shared-store takes a directory that exists or an s3:// location (checked when the store opens).
const CLI::Validator kSharedStoreLocation(
    [](std::string& value) -> std::string {
      if (dumpguard::is_s3_location(value)) return {};
      return CLI::ExistingDirectory(value);
    },
    "DIR|s3://BUCKET[/PREFIX]");

// The options of an S3 shared store, alike for gate --nats, submit and the core handler (whose
// options are optional: its config file may give them instead).
template <class Text>
void add_s3_options(CLI::App& cmd, Text& endpoint, Text& region, Text& ca, Text& credentials) {
  cmd.add_option("--s3-endpoint", endpoint,
                 "With an s3:// --shared-store: the S3-compatible server, https://HOST[:PORT] (path-style "
                 "requests, signed with AWS Signature Version 4; plain http:// only to a loopback address)");
  cmd.add_option("--s3-region", region, "The region the S3 requests are signed for (default us-east-1)");
  cmd.add_option("--s3-ca", ca, "PEM CA certificates to trust for the S3 server's certificate, instead of the "
                                "system's trust store")
      ->check(CLI::ExistingFile);
  cmd.add_option("--s3-credentials", credentials,
                 "An AWS credentials file holding aws_access_key_id and aws_secret_access_key (mode 0600; one "
                 "profile); without it, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
      ->check(CLI::ExistingFile);
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = dumpguard::cli;
  CLI::App app{"dumpguard: find secret keys in crash dumps and keep them out"};
  app.set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  app.require_subcommand(1);

  cli::InfoOptions info;
  CLI::App* info_cmd = app.add_subcommand("info", "Print the memory model of each dump: regions, threads, modules");
  add_input_options(*info_cmd, info.input);
  info_cmd->add_flag("--json", info.json, "Print JSON (schema dumpguard-info/1)");
  info_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  info_cmd->footer("Exit codes: 0 every dump was read (some may carry warnings); 2 error (a dump could not be read, "
                   "a usage error).");

  cli::ScanCliOptions scan;
  ScanFlags scan_flags;
  CLI::App* scan_cmd = app.add_subcommand("scan", "Find key material in each dump; exit 0 none, 1 findings, 2 error");
  add_input_options(*scan_cmd, scan.input);
  auto* scan_json = scan_cmd->add_flag("--json", scan.json, "Print JSON (schema dumpguard-scan/1)");
  scan_cmd->add_flag("--sarif", scan.sarif, "Print SARIF 2.1.0: one result per key, one location per finding")
      ->excludes(scan_json);
  add_scan_options(*scan_cmd, scan, scan_flags);
  add_color_option(*scan_cmd, scan.color);
  add_progress_option(*scan_cmd, scan.no_progress);
  for (const dumpguard::ScanSetting& setting : dumpguard::scan_settings()) {
    if (!setting.every_command) add_setting(*scan_cmd, setting, scan, scan_flags);
  }
  scan_cmd->add_option("--detectors", scan.detectors,
                       "Run only these detectors (comma-separated names, as the report's \"detectors\" lists "
                       "them; default: all). Hunts then hunt only supplied keys unless the detectors that "
                       "harvest public keys run too")
      ->delimiter(',')
      ->allow_extra_args(false);
  scan_cmd->add_flag("--stats", scan.stats, "Print each detector's CPU time and the phases' wall times on stderr");
  scan_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  scan_cmd->footer("Exit codes: 0 clean: no finding at or above --fail-on (the verdict line says whether the dump "
                   "was parsed completely); 1 findings at or above --fail-on; 2 error (a dump could not be read, a "
                   "usage error, a limit reached), whatever was found in the other dumps.");

  cli::RedactCliOptions redact;
  ScanFlags redact_flags;
  CLI::App* redact_cmd = app.add_subcommand(
      "redact", "Write a copy of a dump with every finding overwritten, verified clean by a rescan; exit 0 written, 2 error");
  add_input_options(*redact_cmd, redact.scan.input);
  add_scan_options(*redact_cmd, redact.scan, redact_flags);
  add_color_option(*redact_cmd, redact.scan.color);
  add_progress_option(*redact_cmd, redact.scan.no_progress);
  auto* redact_output = redact_cmd->add_option(
      "-o,--output", redact.output,
      "The redacted copy to write (mode 0600, same size and layout unless --drop heap rewrites a minidump, "
      "compressed as the input was); written atomically and only after a rescan of it finds nothing");
  redact_cmd
      ->add_flag("--in-place", redact.in_place,
                 "Replace the input with its redacted copy instead of writing -o OUT: atomically, and only after "
                 "the copy's rescan finds nothing; the input is untouched on any error (mode 0600; not for -, "
                 "symlinks or files with several hard links)")
      ->excludes(redact_output);
  redact_cmd->add_option("--report", redact.report,
                         "Write the redaction report here (JSON, schema dumpguard-redact/1; no secret bytes)");
  redact_cmd->add_option("--fill", redact.fill, "What overwritten bytes become: zero (default) or 0defaced (0d ef ac ed repeated)")
      ->check(CLI::IsMember({"zero", "0defaced"}));
  redact_cmd->add_option("--drop", redact.drops,
                         "Also fill whole kinds of memory: heap (all but stacks, module images and metadata; a "
                         "minidump is rewritten as a stack-only dump, as MiniDumpNormal writes it), env (environment "
                         "blocks), or a region kind (stack, module, file-mapping, heap, anon, metadata, unknown); one "
                         "policy per --drop, repeatable")
      ->allow_extra_args(false);
  redact_cmd->add_flag("--allow-partial", redact.allow_partial,
                       "Redact a dump that was only partly parsed (refused by default: its unparsed bytes are "
                       "scanned as raw bytes only)");
  redact_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  redact_cmd->footer("Exit codes: 0 the copy was written and its verification scan found nothing (and --report "
                     "FILE is in place); 2 error: nothing was written, -o OUT was neither created nor replaced, "
                     "an --in-place input is unchanged, and no report was left. Never 1.");

  cli::GateCliOptions gate;
  ScanFlags gate_flags;
  CLI::App* gate_cmd = app.add_subcommand(
      "gate", "Watch an inbox; release each dump redacted and verified clean, or quarantine it; audit every step. "
              "Exit 0 stopped, 2 error");
  gate_cmd->add_option("--inbox", gate.inbox, "The directory dumps arrive in (written elsewhere and renamed in, or "
                                              "closed after writing); required unless --nats")
      ->check(CLI::ExistingDirectory);
  gate_cmd->add_option("--release", gate.release, "Where redacted, verified dumps go (made 0700)")->required();
  gate_cmd->add_option("--quarantine", gate.quarantine,
                       "Where refused dumps go: a directory per dump, the original (0600) beside NAME.reason.json (made 0700)")
      ->required();
  gate_cmd->add_option("--audit", gate.audit, "The audit log (JSON Lines, appended, mode 0600); required unless --nats");
  add_nats_options(*gate_cmd, gate.nats,
                   "Run as a worker of the cluster's queue on this NATS server (nats://HOST:PORT or tls://...): "
                   "dumps come from --shared-store, audit records go to the audit stream",
                   "The worker's NATS credentials file");
  gate_cmd->add_option("--shared-store", gate.shared_store,
                       "With --nats: where submitted dumps wait, a directory every worker mounts or "
                       "s3://BUCKET[/PREFIX] (then --work is required)")
      ->check(kSharedStoreLocation);
  add_s3_options(*gate_cmd, gate.s3.endpoint, gate.s3.region, gate.s3.ca, gate.s3.credentials);
  gate_cmd->add_option("--audit-key", gate.audit_key, "The audit log's signing key file, mode 0600, as `audit keygen` makes it: an Ed25519 "
                       "private key (PEM; verifiers need only its .pub) or an HMAC-SHA256 key (16 to 64 raw bytes)")
      ->required()
      ->check(CLI::ExistingFile);
  gate_cmd->add_option("--checkpoint", gate.checkpoint,
                       "Where the log's head and record count go after every record (default AUDIT.checkpoint)");
  gate_cmd->add_option("--work", gate.work,
                       "Work directory for every instance, on the inbox's file system, in directories only root or "
                       "the gate's user can write, with no symbolic link on its path (default "
                       "INBOX/.dumpguard-work, accepted only when the inbox is such a directory)");
  gate_cmd->add_option("--audit-syslog", gate.audit_syslog,
                       "Where the audit log's head goes after every record, as an anchor a host's log shipping "
                       "takes off the host: a syslog datagram socket, \"auto\" (default: /dev/log, which journald "
                       "and rsyslog serve, when it is there) or \"off\"");
  gate_cmd->add_option("--instance", gate.instance, "This gate's number: its id is HOST-N (default 0)");
  gate_cmd->add_flag("--once", gate.once, "Process what is in the inbox, then exit");
  gate_cmd->add_option("--settle", gate.settle,
                       "Seconds a file must be unchanged to count as complete, when no inotify event said so (default 2)")
      ->check(CLI::Range(0.0, 3600.0));
  gate_cmd->add_option("--poll", gate.poll, "Seconds between listings of the inbox (default 2)")
      ->check(CLI::Range(0.05, 3600.0));
  gate_cmd->add_option("--lease", gate.lease,
                       "Seconds an instance's lease lasts; a dead instance's claims go back after it (default 30)")
      ->check(CLI::Range(0.5, 86400.0));
  gate_cmd->add_option("--fill", gate.fill, "What overwritten bytes become: zero (default) or 0defaced")
      ->check(CLI::IsMember({"zero", "0defaced"}));
  gate_cmd->add_option("--tmpdir", gate.scan.input.tmpdir, "Directory for unnamed temporary files (decompression)")
      ->check(CLI::ExistingDirectory);
  gate_cmd->add_option("--max-decompressed", gate.scan.input.max_decompressed,
                       "Largest decompressed dump accepted, e.g. 64G (gate.max-size caps it too)")
      ->transform(CLI::AsSizeValue(false));
  add_scan_options(*gate_cmd, gate.scan, gate_flags);
  gate_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);

  cli::SubmitCliOptions submit;
  CLI::App* submit_cmd = app.add_subcommand(
      "submit", "Copy dumps into the cluster's shared store and queue them for the gate workers; exit 0 queued, 2 error");
  add_nats_options(*submit_cmd, submit.nats, kNatsUrlHelp, "The submitter's NATS credentials file")->required();
  submit_cmd->add_option("--shared-store", submit.shared_store,
                         "Where dumps wait: the directory every worker mounts, or s3://BUCKET[/PREFIX]")
      ->required()
      ->check(kSharedStoreLocation);
  add_s3_options(*submit_cmd, submit.s3.endpoint, submit.s3.region, submit.s3.ca, submit.s3.credentials);
  auto* submit_dumps = submit_cmd->add_option("dumps", submit.dumps, "Dump files to submit")->check(CLI::ExistingFile);
  auto* submit_watch =
      submit_cmd
          ->add_option("--watch", submit.watch,
                       "Instead of files: watch this inbox as the gate does (complete files only; links and files "
                       "with several hard links left alone) and submit each dump that arrives, removing it from the "
                       "inbox")
          ->check(CLI::ExistingDirectory)
          ->excludes(submit_dumps);
  submit_cmd->add_option("--work", submit.work,
                         "With --watch: where dumps wait between the inbox and the queue, on the inbox's file "
                         "system, in directories only root or this user can write (default INBOX/.dumpguard-submit)")
      ->needs(submit_watch);
  submit_cmd->add_option("--settle", submit.settle,
                         "With --watch: seconds a file must be unchanged to count as complete, when no inotify event "
                         "said so (default 2)")
      ->check(CLI::Range(0.0, 3600.0))
      ->needs(submit_watch);
  submit_cmd->add_flag("--once", submit.once, "With --watch: submit what is in the inbox, then exit")->needs(submit_watch);
  submit_cmd->callback([submit_dumps, submit_watch] {
    if (submit_dumps->count() == 0 && submit_watch->count() == 0) throw CLI::RequiredError("dumps or --watch");
  });
  submit_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);

  cli::ClusterCliOptions cluster;
  CLI::App* cluster_cmd = app.add_subcommand("cluster", "Set up and watch the cluster of gate workers on NATS JetStream");
  cluster_cmd->require_subcommand(1);
  CLI::App* cluster_init_cmd = cluster_cmd->add_subcommand(
      "init", "Create the work queue, its consumer, the state bucket and the audit stream (admin); exit 0, 2 error");
  CLI::App* cluster_status_cmd = cluster_cmd->add_subcommand(
      "status", "Show queued, in-progress and failed dumps and each worker's last heartbeat; exit 0, 2 error");
  for (CLI::App* sub : {cluster_init_cmd, cluster_status_cmd}) {
    add_nats_options(*sub, cluster.nats, kNatsUrlHelp, "A NATS credentials file")->required();
  }
  cluster_init_cmd->add_option("--ack-wait", cluster.ack_wait,
                               "Seconds before a dump a worker does not acknowledge is offered again (default 30)")
      ->check(CLI::Range(1.0, 86400.0));
  cluster_init_cmd->add_option("--max-deliver", cluster.max_deliver,
                               "Deliveries before the queue gives a dump up (default 10)")
      ->check(CLI::Range(1, 1000));
  cluster_init_cmd->add_option("--duplicates", cluster.duplicates,
                               "Seconds a submitted dump's SHA-256 is remembered against resubmission (default 86400)")
      ->check(CLI::Range(1.0, 31536000.0));
  cluster_init_cmd->add_option("--replicas", cluster.replicas, "Replicas of each stream (3 in a three-node cluster)")
      ->check(CLI::Range(1, 5));
  cluster_status_cmd->add_flag("--json", cluster.json, "One JSON document");
  for (CLI::App* sub : {cluster_cmd, cluster_init_cmd, cluster_status_cmd}) {
    sub->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  }
  cli::RelayCliOptions relay;
  ScanFlags relay_flags;
  CLI::App* relay_cmd = app.add_subcommand(
      "relay", "Receive crash uploads over HTTP(S), redact and verify each dump and form field, and forward the "
               "upload to --upstream (its answer goes back unchanged) or store the dumps in --release; quarantine "
               "what cannot be proven clean; audit every upload. Exit 0 stopped, 2 error");
  relay_cmd->add_option("--listen", relay.listen, "HOST:PORT to listen on (port 0: any free port, named on stderr)")
      ->required();
  relay_cmd->add_option("--upstream", relay.upstream,
                        "The collector's upload URL (http or https): Sentry's minidump endpoint, Socorro's /submit, "
                        "...; the client's query string is appended");
  relay_cmd->add_option("--release", relay.release, "Instead of --upstream: store the redacted dumps here (made 0700)");
  add_nats_options(*relay_cmd, relay.nats,
                   "Instead of --upstream: queue each redacted, verified dump for the cluster's gate workers on this "
                   "NATS server (with --shared-store), as `dumpguard submit` does",
                   "The submitter's NATS credentials file");
  relay_cmd->add_option("--shared-store", relay.shared_store,
                        "With --nats: the cluster's shared store, where queued dumps wait (a directory or "
                        "s3://BUCKET[/PREFIX])")
      ->check(kSharedStoreLocation);
  add_s3_options(*relay_cmd, relay.s3.endpoint, relay.s3.region, relay.s3.ca, relay.s3.credentials);
  relay_cmd->add_option("--quarantine", relay.quarantine,
                        "Where uploads that cannot be proven clean go: a directory per upload, its parts (0600) "
                        "beside NAME.reason.json")
      ->required();
  relay_cmd->add_option("--audit", relay.audit, "The audit log, the gate's (JSON Lines, appended, mode 0600)")->required();
  relay_cmd->add_option("--audit-key", relay.audit_key, "The audit log's key file, as `audit keygen` makes it")
      ->required()
      ->check(CLI::ExistingFile);
  relay_cmd->add_option("--checkpoint", relay.checkpoint, "The audit log's checkpoint (default AUDIT.checkpoint)");
  relay_cmd->add_option("--audit-syslog", relay.audit_syslog, "Where the log's head goes: a syslog socket, auto or off");
  relay_cmd->add_option("--tls-cert", relay.tls_cert, "Serve HTTPS with this certificate (PEM; with --tls-key)")
      ->check(CLI::ExistingFile);
  relay_cmd->add_option("--tls-key", relay.tls_key, "The certificate's private key (PEM)")->check(CLI::ExistingFile);
  relay_cmd->add_option("--tls-client-ca", relay.tls_client_ca,
                        "Require client certificates signed by this CA (PEM); others are refused in the TLS handshake")
      ->check(CLI::ExistingFile);
  relay_cmd->add_option("--max-upload", relay.max_upload,
                        "Largest upload, as sent and once inflated, e.g. 100M (default); past it: HTTP 413, checked "
                        "while the body arrives")
      ->transform(CLI::AsSizeValue(false));
  relay_cmd->add_option("--header-timeout", relay.header_timeout,
                        "Seconds from connecting to the end of a request's headers, TLS handshake included "
                        "(default 10); past it: HTTP 408")
      ->check(CLI::Range(0.1, 3600.0));
  relay_cmd->add_option("--read-timeout", relay.read_timeout, "Seconds a client may send nothing (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  relay_cmd->add_option("--upload-timeout", relay.upload_timeout,
                        "Seconds an upload's body may take to arrive after its headers (default 300); past it: HTTP 408")
      ->check(CLI::Range(0.1, 86400.0));
  relay_cmd->add_option("--upstream-timeout", relay.upstream_timeout, "Seconds the upstream may take (default 60)")
      ->check(CLI::Range(0.1, 3600.0));
  relay_cmd->add_option("--upstream-attempts", relay.upstream_attempts,
                        "Tries of an upstream that cannot be reached or answers 5xx, the first included (default 3); "
                        "then HTTP 502")
      ->check(CLI::Range(1u, 20u));
  relay_cmd->add_option("--upstream-backoff", relay.upstream_backoff,
                        "Seconds before the second try, doubled before each next one (default 0.5)")
      ->check(CLI::Range(0.0, 600.0));
  relay_cmd->add_option("--rate-limit", relay.rate_limit,
                        "Uploads per client address per minute (default: [relay] rate-limit of --config, else none); "
                        "past it: HTTP 429 with Retry-After")
      ->check(CLI::Range(1u, 1000000u));
  relay_cmd->add_option("--connections", relay.connections,
                        "Uploads held in memory at once, as N times --max-upload (default 16); past it: HTTP 503 "
                        "with Retry-After")
      ->check(CLI::Range(1u, 4096u));
  relay_cmd->add_option("--max-connections", relay.max_connections,
                        "Connections held at once, each by a thread (default 1024); more are answered 503 with "
                        "Retry-After (closed, with TLS)")
      ->check(CLI::Range(1u, 65536u));
  relay_cmd->add_option("--tmpdir", relay.scan.input.tmpdir, "Directory for the verified copies and unnamed temporary files")
      ->check(CLI::ExistingDirectory);
  add_scan_options(*relay_cmd, relay.scan, relay_flags);
  relay_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  relay_cmd->footer("Exit codes: 0 stopped by SIGTERM, SIGINT or SIGHUP; 2 error (it could not start, or the audit "
                    "log could not be written: nothing is relayed unaudited).");

  cli::CoreHandlerCliOptions core;
  ScanFlags core_flags;
  CLI::App* core_cmd = app.add_subcommand(
      "core-handler",
      "Run by the kernel through core_pattern with a core on standard input: redact it before it touches a disk, "
      "then store it, hand it to the gate's inbox or feed it to the next handler (or quarantine it sealed); "
      "--install/--uninstall/--print the core_pattern line. Exit 0 handled, 2 error");
  core_cmd->add_option("specifiers", core.specifiers,
                       "The kernel's %P %u %g %s %t %c %h %e %d [%F], in that order (core(5)), after --");
  add_scan_options(*core_cmd, core.scan, core_flags);
  // The config may not exist yet for --install, which writes it.
  core_cmd->remove_option(core_cmd->get_option("--config"));
  core_cmd->add_option("--config", core.scan.config,
                       "The TOML file with [core-handler] (and [scan]) settings; the installed core_pattern line names "
                       "it, as it holds at most 128 bytes (mode 0600, root's)");
  core_cmd->add_option("--store", core.store,
                       "Where redacted cores go, as core.COMM.UID.BOOTID.PID.USEC.zst with user.coredump.* xattrs "
                       "(default /var/lib/dumpguard/cores)");
  core_cmd->add_option("--inbox", core.inbox, "Hand each redacted core to the gate's inbox instead");
  core_cmd->add_option("--exec", core.exec,
                       "Feed each redacted core to this next handler on its standard input instead; its arguments "
                       "may name the kernel's specifiers (%P ...), and none means the ones this handler got. Last "
                       "on the line: every word after it is the next handler's")
      ->expected(1, -1);
  core_cmd->add_option("--nats", core.nats,
                       "Queue each redacted core for the cluster's gate workers on this NATS server instead (with "
                       "--shared-store), as `dumpguard submit` does");
  core_cmd->add_option("--nats-creds", core.nats_creds, "The NATS credentials file to queue with")->check(CLI::ExistingFile);
  core_cmd->add_option("--nats-ca", core.nats_ca, "PEM CA certificates to trust for the NATS server's certificate (TLS)")
      ->check(CLI::ExistingFile);
  core_cmd->add_option("--shared-store", core.shared_store,
                       "With --nats: the cluster's shared store, where queued cores wait (a directory or "
                       "s3://BUCKET[/PREFIX])")
      ->check(kSharedStoreLocation);
  add_s3_options(*core_cmd, core.s3_endpoint, core.s3_region, core.s3_ca, core.s3_credentials);
  core_cmd->add_option("--quarantine", core.quarantine,
                       "Where cores that cannot be cleaned go, sealed to --quarantine-key (default "
                       "/var/lib/dumpguard/quarantine)");
  core_cmd->add_option("--quarantine-key", core.quarantine_key,
                       "An X25519 public key (PEM) to seal quarantined cores to; without one they are dropped");
  core_cmd->add_option("--work", core.work, "The handler's own directory: scan lock, staging (default /var/lib/dumpguard/core-handler)");
  core_cmd->add_option("--spool-dir", core.tmpdir, "Where the encrypted spill file is made (default: --work)");
  core_cmd->add_option("--audit", core.audit, "The audit log, the gate's (JSON Lines, mode 0600)");
  core_cmd->add_option("--audit-key", core.audit_key, "The audit log's key file, as `audit keygen` makes it");
  core_cmd->add_option("--checkpoint", core.checkpoint, "The audit log's checkpoint (default AUDIT.checkpoint)");
  core_cmd->add_option("--audit-syslog", core.audit_syslog, "Where the log's head goes: a syslog socket, auto or off");
  core_cmd->add_option("--memory-cap", core.memory_cap,
                       "Bytes of a core kept in memory while it is read; the rest waits encrypted on disk (default 256M)")
      ->transform(CLI::AsSizeValue(false));
  core_cmd->add_option("--max-size", core.max_size, "Largest core read; a larger one is quarantined (default 16G)")
      ->transform(CLI::AsSizeValue(false));
  core_cmd->add_option("--deadline", core.deadline,
                       "Seconds the crashed process may wait while the core is read (default 60); past it, --on-deadline")
      ->check(CLI::Range(0.001, 86400.0));
  core_cmd->add_option("--on-deadline", core.on_deadline, "quarantine (sealed; default) or drop")
      ->check(CLI::IsMember({"quarantine", "drop"}));
  core_cmd->add_option("--on-failure", core.on_failure,
                       "What becomes of a core that cannot be parsed, cleaned or verified, or is too large: "
                       "quarantine (sealed; default) or drop")
      ->check(CLI::IsMember({"quarantine", "drop"}));
  core_cmd->add_flag("--no-compress", core.no_compress, "Store cores uncompressed (default zstd)");
  auto* core_install = core_cmd->add_flag("--install", core.install,
                                          "Write --config from these options (unless it exists), core_pattern, "
                                          "core_pipe_limit and a sysctl.d drop-in; the handler there before is kept "
                                          "for --uninstall");
  auto* core_uninstall = core_cmd->add_flag("--uninstall", core.uninstall,
                                            "Restore the core_pattern and core_pipe_limit found at --install, exactly");
  core_cmd->add_flag("--print", core.print, "Print the core_pattern line --install would write, change nothing")
      ->excludes(core_install)
      ->excludes(core_uninstall);
  core_install->excludes(core_uninstall);
  core_cmd->add_option("--core-pipe-limit", core.pipe_limit,
                       "core_pipe_limit written by --install: crashes handled at once (default 16)")
      ->check(CLI::Range(1u, 1024u));
  // Hidden: tests write the drop-in into their own directory.
  core_cmd->add_option("--sysctl-file", core.sysctl_file, "The sysctl.d drop-in --install writes")->group("");
  core_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  core_cmd->footer("Exit codes: 0 the core was handled (stored, handed on, quarantined or dropped: the audit log "
                   "says which and why), or installed; 2 error (the core was put nowhere).");

  cli::FingerprintOptions fingerprint;
  CLI::App* fingerprint_cmd = app.add_subcommand(
      "fingerprint", "Write keyed fingerprints of secrets, for `scan --fingerprints`; the secrets are not stored");
  fingerprint_cmd->add_option("secrets", fingerprint.secrets, "Files, each holding one secret (raw bytes or text)")
      ->required()
      ->check(CLI::ExistingFile);
  fingerprint_cmd->add_option("-o,--output", fingerprint.output, "The fingerprint file to write (mode 0600)")
      ->required();
  fingerprint_cmd->add_option("--fingerprint-key", fingerprint.fingerprint_key,
                              "32-byte key file (made with mode 0600 on first use; default "
                              "$XDG_CONFIG_HOME/dumpguard/fingerprint.key). Scans must use the same key");
  fingerprint_cmd->add_flag("--keep-newline", fingerprint.keep_newline,
                            "Keep a trailing newline of a text secret (stripped by default: `echo` adds one)");
  fingerprint_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  fingerprint_cmd->footer("Exit codes: 0 the fingerprint file was written; 2 error (nothing written).");

  cli::RulesCheckOptions rules_check;
  cli::RulesListOptions rules_list;
  CLI::App* rules_cmd = app.add_subcommand("rules", "Text rules: list or check them");
  rules_cmd->require_subcommand(1);
  rules_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  CLI::App* rules_check_cmd = rules_cmd->add_subcommand(
      "check", "Compile the text rules and test their examples in ASCII and UTF-16LE; exit 0 pass, 1 a rule fails, 2 error");
  // Which rules `rules check` and `rules list` take: the built-in set, plus or instead of files.
  auto add_rule_selection = [](CLI::App* cmd, std::vector<std::string>& files, bool& only, const char* verb) {
    cmd->add_option("--rules", files, fmt::format("A TOML rule file to {} with the built-in set; repeatable", verb))
        ->check(CLI::ExistingFile)
        ->allow_extra_args(false);
    cmd->add_flag("--rules-only", only, "Only the --rules files' rules, not the built-in set");
  };
  add_rule_selection(rules_check_cmd, rules_check.rules, rules_check.rules_only, "check");
  rules_check_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  rules_check_cmd->footer("Exit codes: 0 every rule passes (warnings allowed); 1 a rule fails; 2 error (a rule file "
                          "cannot be read or parsed).");

  CLI::App* rules_list_cmd = rules_cmd->add_subcommand(
      "list", "Print every text rule: its id, provider, severity and whether a match can be verified offline");
  add_rule_selection(rules_list_cmd, rules_list.rules, rules_list.rules_only, "list");
  rules_list_cmd->add_flag("--json", rules_list.json, "JSON: one object per rule (id, provider, severity, verifiable, "
                                                      "validator, description, source)");
  rules_list_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  rules_list_cmd->footer("Exit codes: 0 listed; 2 error (a rule file cannot be read or parsed).");

  cli::AuditVerifyOptions audit_verify;
  CLI::App* audit_cmd = app.add_subcommand("audit", "Work with the gate's audit log");
  audit_cmd->require_subcommand(1);
  CLI::App* audit_verify_cmd = audit_cmd->add_subcommand(
      "verify", "Check the audit log's chain and signatures; exit 0 sound, 1 broken (names the record), 2 error");
  auto* verify_logs = audit_verify_cmd->add_option("logs", audit_verify.logs,
                                                   "The log's files, oldest first (LOG.1 LOG.2 LOG), or one with --chain")
                          ->check(CLI::ExistingFile);
  add_nats_options(*audit_verify_cmd, audit_verify.nats,
                   "Instead of files: read the cluster's audit stream from this NATS server (nats://HOST:PORT or "
                   "tls://HOST:PORT)",
                   "A NATS credentials file")
      ->excludes(verify_logs);
  audit_verify_cmd->add_option("--key", audit_verify.keys,
                               "Key file: an HMAC key, or an Ed25519 public key (.pub); repeatable when the log changed keys")
      ->required()
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);  // one key each time: `--key K LOG` must not read LOG as a key
  audit_verify_cmd->add_flag("--chain", audit_verify.chain,
                             "Follow the log's opened records back through its rotated files (LOG.N) in its directory");
  auto* checkpoint_opt = audit_verify_cmd->add_option(
      "--checkpoint", audit_verify.checkpoint, "The gate's checkpoint file: also detects records cut from the end");
  audit_verify_cmd->add_option("--expect-head", audit_verify.expect_head, "The head hash from an anchor off the host")
      ->excludes(checkpoint_opt);
  audit_verify_cmd->add_option("--continues", audit_verify.continues,
                               "The head of the sealed file that the first file given continues");

  cli::AuditKeygenOptions audit_keygen;
  CLI::App* audit_keygen_cmd =
      audit_cmd->add_subcommand("keygen", "Make a key for the audit log (mode 0600; never overwrites); exit 0, 2 error");
  bool audit_keygen_hmac = false;
  auto* hmac_flag = audit_keygen_cmd->add_flag("--hmac", audit_keygen_hmac,
                                               "An HMAC-SHA256 key: 32 random bytes (verifiers need the key)");
  audit_keygen_cmd->add_flag("--ed25519", audit_keygen.ed25519,
                             "An Ed25519 key pair: FILE (PEM, private) and FILE.pub (verifiers need only this)")
      ->excludes(hmac_flag);
  audit_keygen_cmd->add_option("-o,--output", audit_keygen.output, "The key file to write")->required();

  cli::AuditRotateOptions audit_rotate;
  CLI::App* audit_rotate_cmd = audit_cmd->add_subcommand(
      "rotate", "Seal the log as LOG.N and open LOG continuing it; exit 0, 2 error");
  audit_rotate_cmd->add_option("log", audit_rotate.log, "The live audit log")->required()->check(CLI::ExistingFile);
  audit_rotate_cmd->add_option("--key", audit_rotate.key, "The key that signs the log (HMAC, or Ed25519 private)")
      ->required()
      ->check(CLI::ExistingFile);
  audit_rotate_cmd->add_option("--new-key", audit_rotate.new_key,
                               "Sign the next file with this key; the seal names it (key rotation)")
      ->check(CLI::ExistingFile);
  audit_rotate_cmd->add_option("--checkpoint", audit_rotate.checkpoint, "The gate's checkpoint file, kept current");

  cli::AuditShowOptions audit_show;
  CLI::App* audit_show_cmd = audit_cmd->add_subcommand(
      "show", "Print the audit log as a history, verifying it as it reads; exit 0 verified, 1 broken, 2 error");
  audit_show_cmd->add_option("logs", audit_show.logs, "The log's files, oldest first, or one with --chain")
      ->required()
      ->check(CLI::ExistingFile);
  audit_show_cmd->add_option("--key", audit_show.keys, "Key file to check signatures with; repeatable (none: chain only)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  audit_show_cmd->add_flag("--chain", audit_show.chain, "Follow the log's opened records back through its rotated files");
  audit_show_cmd->add_option("--checkpoint", audit_show.checkpoint, "The gate's checkpoint file");
  audit_show_cmd->add_option("--dump", audit_show.dump, "Only records about this dump: its path, file name or SHA-256 (8+ hex digits)");
  audit_show_cmd->add_option("--key-fingerprint", audit_show.key_fingerprint,
                             "Only records naming this key fingerprint (whole, or 8+ characters of it)");
  audit_show_cmd->add_option("--since", audit_show.since, "Only records at or after this ISO 8601 time (UTC unless an offset is given)");
  audit_show_cmd->add_option("--until", audit_show.until, "Only records before this ISO 8601 time");
  audit_show_cmd->add_option("--event", audit_show.events, "Only records of this event; repeatable")
      ->allow_extra_args(false);
  audit_show_cmd->add_option("--user", audit_show.user,
                             "Only records of this serve user's requests: what the user listed, downloaded or was refused");
  audit_show_cmd->add_flag("--json", audit_show.json, "One JSON document: the records and the verification");
  cli::AuditExportOptions audit_export;
  CLI::App* audit_export_cmd = audit_cmd->add_subcommand(
      "export", "Write the cluster's audit stream as a log file that verify and show read; exit 0, 2 error");
  add_nats_options(*audit_export_cmd, audit_export.nats, kNatsUrlHelp, "A NATS credentials file")->required();
  audit_export_cmd->add_option("-o,--output", audit_export.output, "The log file to write (mode 0600)")->required();
  audit_export_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  for (CLI::App* sub : {audit_cmd, audit_verify_cmd, audit_keygen_cmd, audit_rotate_cmd, audit_show_cmd}) {
    sub->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  }
  audit_keygen_cmd->callback([&audit_keygen, &audit_keygen_hmac] {
    if (!audit_keygen_hmac && !audit_keygen.ed25519) throw CLI::RequiredError("--hmac or --ed25519");
  });

  cli::ServeCliOptions serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Serve released dumps over HTTPS to users with API tokens; audit every list, download and refusal. "
               "Exit 0 stopped by a signal, 2 error");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0: any free one, printed on stdout)")
      ->required();
  serve_cmd->add_option("--release", serve.release, "The gate's release directory: the dumps served")
      ->required()
      ->check(CLI::ExistingDirectory);
  serve_cmd->add_option("--quarantine", serve.quarantine,
                        "The gate's quarantine directory, served to the quarantine role (default: not served)")
      ->check(CLI::ExistingDirectory);
  serve_cmd->add_option("--users", serve.users, "The users file `dumpguard users` writes (re-read when it changes)")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--audit", serve.audit, "The audit log, the gate's (JSON Lines, mode 0600)")->required();
  serve_cmd->add_option("--audit-key", serve.audit_key, "The audit log's key file, as `audit keygen` makes it")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--checkpoint", serve.checkpoint, "The audit log's checkpoint (default AUDIT.checkpoint)");
  serve_cmd->add_option("--tls-cert", serve.tls_cert, "The server's certificate chain (PEM)")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--tls-key", serve.tls_key, "The certificate's private key (PEM, unencrypted, mode 0600)")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--client-ca", serve.client_ca,
                        "Ask clients for a certificate signed by this CA (PEM); one whose SHA-256 a user's "
                        "cert-sha256 entry holds stands for a token")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--retention", serve.retention_days,
                        "Days a released dump is kept; older ones are deleted, each after an `expired` record "
                        "(default: kept for ever)")
      ->check(CLI::Range(0.0, 36500.0));
  serve_cmd->add_flag("--require-reason", serve.require_reason,
                      "Refuse downloads that state no reason (X-Dumpguard-Reason header or ?reason=, e.g. a ticket)");
  serve_cmd->add_option("--rate-limit", serve.rate_limit, "Downloads a user may start per hour: N or N/hour (default: no limit)");
  serve_cmd->add_option("--alert-command", serve.alert_command,
                        "Run by /bin/sh -c when one user downloads more than --alert-downloads dumps in an hour, with "
                        "DUMPGUARD_ALERT_USER and DUMPGUARD_ALERT_DOWNLOADS in its environment");
  serve_cmd->add_option("--alert-downloads", serve.alert_downloads, "The downloads per hour past which the alert runs")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  serve_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  serve_cmd->footer("Exit codes: 0 stopped by SIGINT, SIGTERM or SIGHUP; 2 error (it could not start, or the audit log could "
                    "not be written: nothing is served unaudited).");

  cli::UsersCliOptions users_add, users_list, users_remove;
  CLI::App* users_cmd = app.add_subcommand("users", "The users file of `dumpguard serve`: add, list or remove users");
  users_cmd->require_subcommand(1);
  CLI::App* users_add_cmd = users_cmd->add_subcommand(
      "add", "Add a user with a new API token, printed once on stdout and stored only as its SHA-256; exit 0, 2 error");
  users_add_cmd->add_option("name", users_add.name, "The user's name (A-Z a-z 0-9 . _ @ -, at most 64)")->required();
  users_add_cmd->add_option("--role", users_add.role,
                            "list (list dumps), download (and download them) or quarantine (and quarantined ones)")
      ->required()
      ->check(CLI::IsMember({"list", "download", "quarantine"}));
  users_add_cmd->add_option("--cert", users_add.cert,
                            "The user's client certificate (PEM or DER): stored as its SHA-256, no token is made")
      ->check(CLI::ExistingFile);
  users_add_cmd->add_option("--users", users_add.users, "The users file (made mode 0600 if missing; written atomically)")
      ->required();
  CLI::App* users_list_cmd = users_cmd->add_subcommand("list", "Print each user and role (never a hash); exit 0, 2 error");
  users_list_cmd->add_option("--users", users_list.users, "The users file")->required()->check(CLI::ExistingFile);
  CLI::App* users_remove_cmd =
      users_cmd->add_subcommand("remove", "Remove a user: serve refuses its token from the next request; exit 0, 2 error");
  users_remove_cmd->add_option("name", users_remove.name, "The user's name")->required();
  users_remove_cmd->add_option("--users", users_remove.users, "The users file")->required()->check(CLI::ExistingFile);
  for (CLI::App* sub : {users_cmd, users_add_cmd, users_list_cmd, users_remove_cmd}) {
    sub->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  }

  cli::SelftestOptions selftest;
  CLI::App* selftest_cmd = app.add_subcommand(
      "selftest", "Dump this process with gcore and check that a key in protected memory is absent and a key in "
                  "ordinary memory present; exit 0 pass, 1 fail, 2 error");
  selftest_cmd->add_option("--gcore", selftest.gcore, "The gcore program to run (default: gcore from PATH)");
  selftest_cmd->add_flag("--gcore-all", selftest.gcore_all,
                         "Dump with gcore -a, which ignores MADV_DONTDUMP: shows the documented caveat (expect exit 1)");
  selftest_cmd->add_option("--tmpdir", selftest.tmpdir, "Directory for the core (removed after); default $TMPDIR or /tmp")
      ->check(CLI::ExistingDirectory);
  selftest_cmd->add_option("--core-limit", selftest.core_limit, "Largest core gcore may write, e.g. 2G (default)")
      ->transform(CLI::AsSizeValue(false));
  selftest_cmd->set_version_flag("--version", std::string("dumpguard ") + DUMPGUARD_VERSION);
  audit_verify_cmd->footer("Exit codes: 0 the chain and signatures are sound; 1 broken (the first bad record is "
                           "named); 2 error (a file cannot be read).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // --help and --version exit 0; a usage error is an error (2), as documented.
    return code == 0 ? cli::kExitOk : cli::kExitError;
  }

  scan_flags.apply(scan);
  if (redact_cmd->parsed()) redact_flags.apply(redact.scan);
  if (gate_cmd->parsed()) gate_flags.apply(gate.scan);
  if (core_cmd->parsed()) core_flags.apply(core.scan);
  if (relay_cmd->parsed()) relay_flags.apply(relay.scan);

  int code = cli::kExitError;
  try {
    if (info_cmd->parsed()) code = cli::run_info(info);
    if (scan_cmd->parsed()) code = cli::run_scan(scan);
    if (redact_cmd->parsed()) code = cli::run_redact(redact);
    if (gate_cmd->parsed()) code = cli::run_gate_command(gate);
    if (core_cmd->parsed()) code = cli::run_core_handler(core);
    if (relay_cmd->parsed()) code = cli::run_relay_command(relay);
    if (fingerprint_cmd->parsed()) code = cli::run_fingerprint(fingerprint);
    if (audit_verify_cmd->parsed()) code = cli::run_audit_verify(audit_verify);
    if (audit_keygen_cmd->parsed()) code = cli::run_audit_keygen(audit_keygen);
    if (audit_rotate_cmd->parsed()) code = cli::run_audit_rotate(audit_rotate);
    if (audit_show_cmd->parsed()) code = cli::run_audit_show(audit_show);
    if (audit_export_cmd->parsed()) code = cli::run_audit_export(audit_export);
    if (submit_cmd->parsed()) code = cli::run_submit(submit);
    if (cluster_init_cmd->parsed()) code = cli::run_cluster_init(cluster);
    if (cluster_status_cmd->parsed()) code = cli::run_cluster_status(cluster);
    if (rules_check_cmd->parsed()) code = cli::run_rules_check(rules_check);
    if (rules_list_cmd->parsed()) code = cli::run_rules_list(rules_list);
    if (selftest_cmd->parsed()) code = cli::run_selftest(selftest);
    if (serve_cmd->parsed()) code = cli::run_serve_command(serve);
    if (users_add_cmd->parsed()) code = cli::run_users_add(users_add);
    if (users_list_cmd->parsed()) code = cli::run_users_list(users_list);
    if (users_remove_cmd->parsed()) code = cli::run_users_remove(users_remove);
  } catch (const std::exception& e) {
    cli::print_stderr("dumpguard: internal error: {}\n", e.what());
    code = cli::kExitError;
  }
  // A report that did not reach its reader (scan --json >/dev/full, a closed pipe) is not a
  // result: exit 2, never the 0 or 1 that a reader would take for one. redact's stdout is a
  // summary: its exit code speaks for OUT and --report, which are in place by then.
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    if (redact_cmd->parsed() && code == cli::kExitOk) {
      cli::print_stderr("dumpguard: note: the summary could not be written to standard output; the copy and its "
                        "report are in place\n");
    } else {
      cli::print_stderr("dumpguard: cannot write the report to standard output\n");
      code = cli::kExitError;
    }
  }
  return code;
}
