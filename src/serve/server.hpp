// `dumpguard serve`: released dumps over HTTPS to users with API tokens (serve/users_file.hpp),
// every list, download and refusal an audit record in the gate's log. Routes:
//   GET /dumps                 the released dumps (role list)
//   GET /dumps/NAME            one released dump (role download; a reason when required)
//   GET /quarantine            the quarantined dumps (role quarantine)
//   GET /quarantine/NAME       a quarantined original (role quarantine; a reason when required)
// The token comes in "Authorization: Bearer TOKEN" (or, with a client CA, a client certificate
// the handshake verified stands for it), the reason in "X-Dumpguard-Reason" or the query
// parameter "reason". docs/commands/serve.md has the records and statuses.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;                  // 0: any free port (the one taken is announced)
  std::string release;           // the gate's release directory
  std::string quarantine;        // the gate's quarantine directory; empty: /quarantine is not served
  std::string users;             // the users file (re-read when it changes)
  std::string audit;             // the audit log, shared with the gate
  std::string audit_key;
  std::string checkpoint;        // default AUDIT.checkpoint
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;         // CA file for client certificates (asked for, not required); empty: tokens only
  double retention_days = 0;     // 0: dumps never expire
  bool require_reason = false;
  std::uint64_t rate_limit = 0;  // downloads per user per hour; 0: none
  std::string alert_command;     // run by /bin/sh -c when a user passes alert_downloads in an hour
  std::uint64_t alert_downloads = 0;
};

// Runs until SIGINT, SIGTERM or SIGHUP (Status ok), or until the audit log cannot be written (an
// error: nothing is served unaudited). `announce` gets one line when the server listens:
// "listening on https://HOST:PORT".
Status run_serve(const ServeOptions& options, const std::function<void(const std::string&)>& announce);

}  // namespace dumpguard
