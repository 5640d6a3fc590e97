// `dumpguard relay`: an HTTP(S) endpoint that speaks the crash reporters' upload protocol, so an
// application changes only its upload URL. Each upload is read within its limits
// (relay/upload.hpp), every file part and the form fields are cleaned and verified
// (relay/clean_part.hpp), and the upload goes on in the same shape to the upstream collector,
// whose status and body go back to the client unchanged, or its dumps go to the gate's release
// directory. An upload that cannot be proven clean is quarantined and never forwarded. Every
// upload is one record in the gate's signed, hash-chained audit log (docs/commands/relay.md).
#pragma once
#include <functional>
#include <string>

#include "dumpguard/result.hpp"
#include "relay/clean_part.hpp"
#include "relay/upload.hpp"

namespace dumpguard::relay {

struct RelayOptions {
  std::string host;
  int port = 0;              // 0: any free port (the message says which)
  std::string upstream;      // forward here ...
  std::string release;       // ... or store dumps here
  std::string quarantine;
  std::string audit;
  std::string audit_key;
  std::string checkpoint;
  std::string audit_syslog;  // empty: none
  std::string tls_cert;      // both set: HTTPS
  std::string tls_key;
  UploadLimits limits;
  double read_timeout = 10;     // seconds a client may send nothing
  double upload_timeout = 300;  // seconds a whole upload may take to arrive
  double upstream_timeout = 60;
  unsigned connections = 16;    // requests served at once; more wait their turn
  CleanContext clean;           // scan options, policy, fill; `work` is made by run_relay
};

using RelayMessages = std::function<void(const std::string&)>;

// Serves until SIGTERM, SIGINT or SIGHUP. Errors: it could not start (a port in use, a bad TLS
// key, the audit log), or the audit log could not be written (it stops rather than relay
// unaudited).
Status run_relay(const RelayOptions& options, const RelayMessages& say);

}  // namespace dumpguard::relay
