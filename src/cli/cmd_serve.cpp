// `dumpguard serve`: checks the command line and runs the HTTPS server (src/serve/server.cpp).
// The one line on stdout says where it listens; messages go to stderr.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "serve/server.hpp"

namespace dumpguard::cli {

namespace {

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// HOST:PORT, [IPv6]:PORT.
bool parse_listen(const std::string& text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto p = parse_count(std::string_view(text).substr(colon + 1));
  if (!p || *p > 65535) return false;
  port = static_cast<int>(*p);
  return !host.empty();
}

}  // namespace

int run_serve_command(const ServeCliOptions& given) {
  ServeOptions options;
  if (!parse_listen(given.listen, options.host, options.port)) {
    print_stderr("dumpguard: --listen {}: expected HOST:PORT (e.g. 127.0.0.1:8443, [::1]:8443; port 0: any free one)\n",
                 given.listen);
    return kExitError;
  }
  if (!given.rate_limit.empty()) {
    std::string_view text = given.rate_limit;
    for (std::string_view suffix : {"/hour", "/h"}) {
      if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
        text.remove_suffix(suffix.size());
        break;
      }
    }
    const auto n = parse_count(text);
    if (!n || *n == 0) {
      print_stderr("dumpguard: --rate-limit {}: expected downloads per user per hour, N or N/hour with N >= 1\n",
                   given.rate_limit);
      return kExitError;
    }
    options.rate_limit = *n;
  }
  if (given.alert_command.empty() != (given.alert_downloads == 0)) {
    print_stderr("dumpguard: --alert-command and --alert-downloads go together: the command runs when one user "
                 "downloads more than N dumps in an hour\n");
    return kExitError;
  }
  options.release = absolute_path(given.release);
  options.quarantine = given.quarantine.empty() ? "" : absolute_path(given.quarantine);
  options.users = absolute_path(given.users);
  options.audit = absolute_path(given.audit);
  options.audit_key = given.audit_key;
  options.checkpoint = given.checkpoint.empty() ? options.audit + ".checkpoint" : absolute_path(given.checkpoint);
  options.tls_cert = given.tls_cert;
  options.tls_key = given.tls_key;
  options.client_ca = given.client_ca;
  options.retention_days = given.retention_days;
  options.require_reason = given.require_reason;
  options.alert_command = given.alert_command;
  options.alert_downloads = given.alert_downloads;
  const Status ran = run_serve(options, [](const std::string& line) {
    fmt::print("dumpguard serve: {}\n", line);
    std::fflush(stdout);
  });
  if (!ran) {
    print_stderr("dumpguard: serve: {}\n", ran.error().message);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace dumpguard::cli
