// `dumpguard core-handler`: the settings from the config file's [core-handler] table (the kernel
// passes no environment and at most 128 bytes of command line), overridden by the command line;
// the scan options exactly as `dumpguard redact` builds them; then the library's handle_core, or
// the core_pattern installation (src/handler/core_pattern.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cluster/cluster_admin.hpp"
#include "handler/core_handler.hpp"
#include "handler/core_pattern.hpp"
#include "handler/crash_info.hpp"
#include "user_files/config_file.hpp"
#include "io/whole_file.hpp"
#include "redact/drop_policy.hpp"

namespace dumpguard::cli {

namespace {

constexpr const char* kStateDir = "/var/lib/dumpguard";

// Started by the kernel, the handler may find descriptors 1 and 2 closed: the first files it
// opens would take their numbers, and a message on stderr would land in the audit log.
void ensure_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      const int null = open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) {
        dup2(null, fd);
        close(null);
      }
    }
  }
}

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::string this_binary() {
  std::array<char, 4096> buf{};
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string("/usr/bin/dumpguard");
}

// The settings the kernel cannot pass must come from a file nobody else can change: whoever
// could edit it would choose where every core goes.
bool config_is_private(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    print_stderr("dumpguard: {}: cannot read it\n", path);
    return false;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    print_stderr("dumpguard: {}: the core handler's config must be owned by {} and writable by nobody else "
                 "(chmod 0600): whoever can change it chooses where every core goes\n",
                 path, geteuid() == 0 ? "root" : "this user");
    return false;
  }
  return true;
}

template <class T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (!into && from) into = from;
}

std::string toml_string(const std::string& s) { return nlohmann::json(s).dump(); }

// The config --install writes from the command line's options (the file is written only when it
// does not exist yet: an existing one is the administrator's, edited by hand).
std::string config_text(const CoreHandlerCliOptions& o) {
  std::string out = "# dumpguard core-handler's settings (docs/core-handler.md). Mode 0600, root's.\n";
  out += "[core-handler]\n";
  const auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) out += fmt::format("{} = {}\n", key, toml_string(*v));
  };
  put("store", o.store ? std::optional(absolute(*o.store)) : std::nullopt);
  put("inbox", o.inbox ? std::optional(absolute(*o.inbox)) : std::nullopt);
  if (!o.exec.empty()) {
    out += "exec = [";
    for (std::size_t i = 0; i < o.exec.size(); ++i) out += (i ? ", " : "") + toml_string(o.exec[i]);
    out += "]\n";
  }
  put("quarantine", o.quarantine ? std::optional(absolute(*o.quarantine)) : std::nullopt);
  put("quarantine-key", o.quarantine_key ? std::optional(absolute(*o.quarantine_key)) : std::nullopt);
  put("work", o.work ? std::optional(absolute(*o.work)) : std::nullopt);
  put("tmpdir", o.tmpdir ? std::optional(absolute(*o.tmpdir)) : std::nullopt);
  put("audit", o.audit ? std::optional(absolute(*o.audit)) : std::nullopt);
  put("audit-key", o.audit_key ? std::optional(absolute(*o.audit_key)) : std::nullopt);
  put("checkpoint", o.checkpoint ? std::optional(absolute(*o.checkpoint)) : std::nullopt);
  put("audit-syslog", o.audit_syslog);
  if (o.memory_cap) out += fmt::format("memory-cap = {}\n", *o.memory_cap);
  if (o.max_size) out += fmt::format("max-size = {}\n", *o.max_size);
  if (o.deadline) out += fmt::format("deadline = {}\n", *o.deadline);
  put("on-deadline", o.on_deadline);
  put("on-failure", o.on_failure);
  if (o.no_compress) out += "compress = false\n";
  put("nats", o.nats);
  put("nats-creds", o.nats_creds ? std::optional(absolute(*o.nats_creds)) : std::nullopt);
  put("nats-ca", o.nats_ca ? std::optional(absolute(*o.nats_ca)) : std::nullopt);
  if (o.shared_store) put("shared-store", is_s3_location(*o.shared_store) ? *o.shared_store : absolute(*o.shared_store));
  put("s3-endpoint", o.s3_endpoint);
  put("s3-region", o.s3_region);
  put("s3-ca", o.s3_ca ? std::optional(absolute(*o.s3_ca)) : std::nullopt);
  put("s3-credentials", o.s3_credentials ? std::optional(absolute(*o.s3_credentials)) : std::nullopt);
  if (o.scan.fingerprint_key) out += fmt::format("\n[scan]\nfingerprint-key = {}\n", toml_string(absolute(*o.scan.fingerprint_key)));
  return out;
}

bool has_handler_options(const CoreHandlerCliOptions& o) {
  return o.store || o.inbox || !o.exec.empty() || o.quarantine || o.quarantine_key || o.work || o.tmpdir || o.audit ||
         o.audit_key || o.checkpoint || o.audit_syslog || o.memory_cap || o.max_size || o.deadline || o.on_deadline ||
         o.on_failure || o.no_compress || o.scan.fingerprint_key || o.nats || o.nats_creds || o.nats_ca ||
         o.shared_store || o.s3_endpoint || o.s3_region || o.s3_ca || o.s3_credentials;
}

int install(const CoreHandlerCliOptions& o, const std::string& config) {
  const bool exists = access(config.c_str(), F_OK) == 0;
  if (exists && has_handler_options(o)) {
    print_stderr("dumpguard: {} exists: edit it (or remove it) rather than give settings with --install\n", config);
    return kExitError;
  }
  if (!exists) {
    if (!o.audit || !o.audit_key) {
      print_stderr("dumpguard: --install needs --audit LOG and --audit-key KEY (every core is an audit record)\n");
      return kExitError;
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(config).parent_path(), ec);
    if (Status written = write_file_atomically(config, config_text(o)); !written) {
      print_stderr("dumpguard: {}\n", written.error().message);
      return kExitError;
    }
  }
  if (!config_is_private(config)) return kExitError;
  auto read = read_config_file(config);
  if (!read) {
    print_stderr("dumpguard: {}\n", read.error().message);
    return kExitError;
  }
  if (!read->core_handler.audit || !read->core_handler.audit_key) {
    print_stderr("dumpguard: {}: [core-handler] needs audit and audit-key\n", config);
    return kExitError;
  }
  auto line = core_pattern_line(this_binary(), config);
  if (!line) {
    print_stderr("dumpguard: {}\n", line.error().message);
    return kExitError;
  }
  CorePatternPlaces places;
  if (!o.sysctl_file.empty()) places.sysctl_file = o.sysctl_file;
  places.previous_file = config + ".previous";
  if (Status done = install_core_pattern(*line, o.pipe_limit, places); !done) {
    print_stderr("dumpguard: {}\n", done.error().message);
    return kExitError;
  }
  std::printf("installed: %s\n", line->c_str());
  return kExitOk;
}

}  // namespace

int run_core_handler(const CoreHandlerCliOptions& given) {
  // The deadline counts from here: the crashed process has waited since the kernel started us.
  const auto started = std::chrono::steady_clock::now();
  ensure_standard_descriptors();
  CoreHandlerCliOptions o = given;
  const std::string config = absolute(o.scan.config);
  if ((o.install || o.uninstall || o.print) && config.empty()) {
    print_stderr("dumpguard: --install, --uninstall and --print need --config FILE: the line names it\n");
    return kExitError;
  }
  if (o.print) {
    auto line = core_pattern_line(this_binary(), config);
    if (!line) {
      print_stderr("dumpguard: {}\n", line.error().message);
      return kExitError;
    }
    std::printf("%s\n", line->c_str());
    return kExitOk;
  }
  if (o.uninstall) {
    CorePatternPlaces places;
    if (!o.sysctl_file.empty()) places.sysctl_file = o.sysctl_file;
    places.previous_file = config + ".previous";
    if (Status done = uninstall_core_pattern(places); !done) {
      print_stderr("dumpguard: {}\n", done.error().message);
      return kExitError;
    }
    std::printf("uninstalled: core_pattern restored\n");
    return kExitOk;
  }
  if (o.install) {
    // --config may not exist yet: --install writes it.
    o.scan.config.clear();
    return install(o, config);
  }

  // Run by the kernel.
  openlog("dumpguard-core-handler", LOG_PID, LOG_DAEMON);
  const auto say = [](const std::string& line) {
    print_stderr("dumpguard core-handler: {}\n", line);
    syslog(LOG_INFO, "%s", line.c_str());
  };
  auto crash = parse_crash_info(o.specifiers);
  if (!crash) {
    print_stderr("dumpguard: {}\n", crash.error().message);
    return kExitError;
  }
  CoreHandlerConfig file;
  if (!config.empty()) {
    if (geteuid() == 0 && !config_is_private(config)) return kExitError;
    auto read = read_config_file(config);
    if (!read) {
      say(read.error().message);
      return kExitError;
    }
    file = read->core_handler;
    // Without an environment there is no $HOME to find the fingerprint key under.
    if (!o.scan.fingerprint_key && !read->scan.fingerprint_key) o.scan.fingerprint_key = std::string(kStateDir) + "/fingerprint.key";
  }
  take(o.store, file.store);
  take(o.inbox, file.inbox);
  if (o.exec.empty() && file.exec) o.exec = *file.exec;
  take(o.quarantine, file.quarantine);
  take(o.quarantine_key, file.quarantine_key);
  take(o.work, file.work);
  take(o.tmpdir, file.tmpdir);
  take(o.audit, file.audit);
  take(o.audit_key, file.audit_key);
  take(o.checkpoint, file.checkpoint);
  take(o.audit_syslog, file.audit_syslog);
  take(o.memory_cap, file.memory_cap);
  take(o.max_size, file.max_size);
  take(o.deadline, file.deadline);
  take(o.on_deadline, file.on_deadline);
  take(o.on_failure, file.on_failure);
  take(o.nats, file.nats);
  take(o.nats_creds, file.nats_creds);
  take(o.nats_ca, file.nats_ca);
  take(o.shared_store, file.shared_store);
  take(o.s3_endpoint, file.s3_endpoint);
  take(o.s3_region, file.s3_region);
  take(o.s3_ca, file.s3_ca);
  take(o.s3_credentials, file.s3_credentials);
  if (!o.audit || !o.audit_key) {
    say("no audit log: give audit and audit-key in [core-handler] (every core is an audit record); the core was "
        "not kept");
    return kExitError;
  }
  if ((o.store ? 1 : 0) + (o.inbox ? 1 : 0) + (o.exec.empty() ? 0 : 1) + (o.nats ? 1 : 0) > 1) {
    say("give one of store, inbox, exec and nats; the core was not kept");
    return kExitError;
  }
  if (o.nats.has_value() != o.shared_store.has_value()) {
    say("nats and shared-store go together (the core is copied into the shared store and queued); the core was not "
        "kept");
    return kExitError;
  }

  CoreHandlerOptions h;
  if (o.nats) {
    // The kernel passes no environment: S3 credentials come from the s3-credentials file.
    const S3Options s3{o.s3_endpoint.value_or(""), o.s3_region.value_or(""), o.s3_ca.value_or(""),
                       o.s3_credentials.value_or("")};
    h.queue = cluster_queue(NatsOptions{*o.nats, absolute(o.nats_creds.value_or("")), absolute(o.nats_ca.value_or("")),
                                     "dumpguard core-handler"},
                         shared_store_options(*o.shared_store, s3));
  } else if (o.inbox) {
    h.inbox = absolute(*o.inbox);
  } else if (!o.exec.empty()) {
    h.exec = o.exec;
  } else {
    h.store = absolute(o.store.value_or(std::string(kStateDir) + "/cores"));
  }
  h.quarantine = absolute(o.quarantine.value_or(std::string(kStateDir) + "/quarantine"));
  h.quarantine_key = absolute(o.quarantine_key.value_or(""));
  h.work = absolute(o.work.value_or(std::string(kStateDir) + "/core-handler"));
  h.tmpdir = absolute(o.tmpdir.value_or(h.work));
  h.audit = absolute(*o.audit);
  h.audit_key = absolute(*o.audit_key);
  h.checkpoint = absolute(o.checkpoint.value_or(h.audit + ".checkpoint"));
  const std::string syslog_socket = o.audit_syslog.value_or("auto");
  if (syslog_socket == "auto") {
    struct stat st {};
    h.audit_syslog = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode) ? "/dev/log" : "";
  } else if (syslog_socket != "off") {
    h.audit_syslog = syslog_socket;
  }
  if (o.memory_cap) h.memory_cap = *o.memory_cap;
  if (o.max_size) h.max_size = *o.max_size;
  if (o.deadline) h.deadline = *o.deadline;
  h.quarantine_on_deadline = o.on_deadline.value_or("quarantine") == "quarantine";
  h.quarantine_on_failure = o.on_failure.value_or("quarantine") == "quarantine";
  h.compress = !o.no_compress && file.compress.value_or(true);
  h.drop = file.drop;
  h.pause_after_spool = file.pause_after_spool.value_or("");
  if (auto dropped = drop_findings(DumpModel{}, h.drop); !dropped) {
    say(fmt::format("{}: core-handler.drop: {}", config, dropped.error().message));
    return kExitError;
  }
  // The work directory first: the spill file, the fingerprint key's default and the scan lock live there.
  std::error_code ec;
  std::filesystem::create_directories(h.work, ec);
  chmod(h.work.c_str(), 0700);
  // The core is read before anything slower happens (the trust store, the rules): the crashed
  // process waits only for the read.
  ReceivedCore received = receive_core(h, *crash, STDIN_FILENO, started);
  std::optional<ScanOptions> scan = build_scan_options(o.scan);
  if (scan) {
    h.scan = std::move(*scan);
  } else {
    received.setup_error = "the scan options could not be built (the [scan] settings or the fingerprint key)";
  }
  h.open.tmpdir = h.tmpdir;
  const Status handled = handle_core(h, *crash, received, say);
  if (!handled) {
    say(fmt::format("core of pid {} not kept: {}", crash->pid, handled.error().message));
    return kExitError;
  }
  return kExitOk;
}

}  // namespace dumpguard::cli
