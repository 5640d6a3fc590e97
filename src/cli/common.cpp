// What every subcommand shares: input options, one-line errors and warnings, the fingerprint key.
#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"

#include <filesystem>

#include "cluster/cluster_admin.hpp"
#include "redact/drop_policy.hpp"
#include "user_files/config_file.hpp"
#include "crypto/fingerprint_key.hpp"
#include "report/display_text.hpp"

namespace dumpguard::cli {

OpenOptions to_open_options(const InputOptions& in) {
  OpenOptions o;
  if (in.raw) o.forced_format = Format::raw;
  o.tmpdir = in.tmpdir;
  o.max_decompressed = in.max_decompressed;
  return o;
}

TextStyle text_style(const std::string& color) {
  if (color == "always") return TextStyle{true};
  if (color == "never") return TextStyle{false};
  const char* no_color = std::getenv("NO_COLOR");
  return TextStyle{isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0')};
}

void print_error(const std::string& file, const Error& error) {
  print_stderr("dumpguard: {}: {}\n", display_text(file), display_text(describe(error)));
}

void print_warnings(const Dump& dump) {
  for (const Warning& w : dump.model.warnings) {
    print_stderr("dumpguard: {}: warning: offset {:#x}: {}\n", display_text(dump.source.path), w.file_offset,
               display_text(w.message));
  }
}

std::optional<std::vector<std::uint8_t>> load_fingerprint_key_or_report(const std::string& option) {
  const std::string path = option.empty() ? default_fingerprint_key_path() : option;
  auto key = load_or_create_fingerprint_key(path);
  if (!key) {
    print_stderr("dumpguard: {}\n", key.error().message);
    return std::nullopt;
  }
  return std::move(*key);
}

std::string absolute_path(const std::string& path) {
  std::string out = std::filesystem::absolute(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

SharedStoreOptions shared_store_options(const std::string& location, const S3Options& s3) {
  SharedStoreOptions out{is_s3_location(location) ? location : absolute_path(location), s3};
  if (!s3.ca.empty()) out.s3.ca = absolute_path(s3.ca);
  if (!s3.credentials.empty()) out.s3.credentials = absolute_path(s3.credentials);
  return out;
}

ClusterQueue cluster_queue(const NatsOptions& nats, const SharedStoreOptions& store) {
  ClusterQueue queue;
  queue.where = fmt::format("the shared store {} on {}", store.location, printable_url(nats.url));
  queue.submit = [nats, store](const std::string& path) -> Result<std::string> {
    DG_TRY(std::unique_ptr<SharedStore> shared, open_shared_store(store));
    DG_TRY(NatsClient client, NatsClient::connect(nats));
    DG_TRY(Submitted submitted, submit_dump(client, *shared, path));
    return submitted.item.sha256;
  };
  return queue;
}

std::optional<ReleaseSetup> release_setup(ScanCliOptions& options) {
  GateConfig config;
  RelayConfig relay;
  if (!options.config.empty()) {
    auto read = read_config_file(options.config);
    if (!read) {
      print_stderr("dumpguard: {}\n", read.error().message);
      return std::nullopt;
    }
    config = read->gate;
    relay = read->relay;
  }
  auto policy = make_gate_policy(config);
  if (!policy) {
    print_stderr("dumpguard: {}\n", policy.error().message);
    return std::nullopt;
  }
  if (auto dropped = drop_findings(DumpModel{}, policy->drop); !dropped) {
    print_stderr("dumpguard: {}: gate.drop: {}\n", options.config, dropped.error().message);
    return std::nullopt;
  }
  options.pubkeys.insert(options.pubkeys.end(), policy->pubkey_files.begin(), policy->pubkey_files.end());
  std::optional<ScanOptions> scan = build_scan_options(options);
  if (!scan) return std::nullopt;
  return ReleaseSetup{std::move(*policy), std::move(*scan), relay};
}

}  // namespace dumpguard::cli
