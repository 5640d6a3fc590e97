// `dumpguard gate`: the one door dumps take out of production (docs/commands/gate.md).
// It watches an inbox, claims each complete dump, scans and redacts it as `dumpguard redact`
// does (the same library calls), and moves the result either to release (only a copy whose
// rescan found nothing) or to quarantine (the original, mode 0600, beside the reason), with
// every step an audit record. It fails closed: any problem with a dump quarantines it, and a
// problem of the gate's own (the audit log cannot be written) stops it with an error before
// anything is released unaudited.
#pragma once
#include <functional>
#include <string>

#include "dumpguard/open_dump.hpp"
#include "dumpguard/redact.hpp"
#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"
#include "gate/release_policy.hpp"

namespace dumpguard {

struct GateOptions {
  std::string inbox;
  std::string release;
  std::string quarantine;
  std::string work;        // the base of every instance's work directory; on the inbox's file system
  std::string audit;       // the audit log
  std::string audit_key;   // its key file (Ed25519 private key or HMAC secret)
  std::string checkpoint;  // where the log's head goes after every record
  std::string audit_syslog;  // a syslog datagram socket that gets the head after every record; empty: none
  std::string instance;    // this gate's id: host name and number
  bool once = false;       // process what is there, then return
  double settle = 2;       // seconds a file must be unchanged to count as complete
  double poll = 2;         // seconds between listings when nothing wakes the gate earlier
  double lease = 30;       // seconds a lease lasts; renewed every third of it
  ScanOptions scan;        // as `dumpguard redact` builds them, with the policy's public keys
  OpenOptions open;
  GatePolicy policy;
  Fill fill = zero_fill();
};

// Where the gate's one-line messages go (the CLI prints them on stderr, for the journal).
using GateMessages = std::function<void(const std::string&)>;

// Runs until --once has nothing left, or SIGTERM, SIGINT or SIGHUP (after the dump in hand).
// An error is the gate's own failure (exit 2): its claims stay where they are, for the restart.
Status run_gate(const GateOptions& options, const GateMessages& say);

}  // namespace dumpguard
