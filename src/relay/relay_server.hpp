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

#include "gate/cluster_queue.hpp"
#include "dumpguard/result.hpp"
#include "relay/clean_part.hpp"
#include "relay/forward.hpp"
#include "relay/upload.hpp"

namespace dumpguard::relay {

struct RelayOptions {
  std::string host;
  int port = 0;              // 0: any free port (the message says which)
  std::string upstream;      // forward here ...
  std::string release;       // ... or store dumps here ...
  ClusterQueue queue;        // ... or queue them for the cluster's workers (queue.submit set)
  std::string quarantine;
  std::string audit;
  std::string audit_key;
  std::string checkpoint;
  std::string audit_syslog;  // empty: none
  std::string tls_cert;      // both set: HTTPS
  std::string tls_key;
  std::string tls_client_ca;  // set: clients must show a certificate it signed
  UploadLimits limits;
  double header_timeout = 10;   // seconds from connecting to the end of the request's head
  double read_timeout = 10;     // seconds a client may send nothing
  double upload_timeout = 300;  // seconds a body may take to arrive, after its head
  double upstream_timeout = 60;
  UpstreamRetry retry;              // a failing upstream: how often, how far apart
  unsigned rate_limit = 0;          // uploads per client address per minute; 0: no limit
  unsigned connections = 16;        // uploads in memory at once: at most this many times max_body bytes
  unsigned max_connections = 1024;  // connections held at once; more are refused (503, Retry-After)
  CleanContext clean;           // scan options, policy, fill; `work` is made by run_relay
};

using RelayMessages = std::function<void(const std::string&)>;

// Serves until SIGTERM, SIGINT or SIGHUP. Errors: it could not start (a port in use, a bad TLS
// key, the audit log), or the audit log could not be written (it stops rather than relay
// unaudited).
Status run_relay(const RelayOptions& options, const RelayMessages& say);

}  // namespace dumpguard::relay
