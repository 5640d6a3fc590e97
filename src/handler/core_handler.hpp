// `dumpguard core-handler`: the kernel pipes a crashed process's core into it (core_pattern
// "|/usr/bin/dumpguard core-handler ..."), and the unredacted core never reaches a disk.
//
// received -> spooled (memory, then encrypted) -> input closed (the crashed process goes on)
//          -> scanned and redacted as `dumpguard redact` does -> verified by a rescan
//          -> stored (systemd-coredump's name and xattrs) | handed to the gate's inbox | fed to
//             the next handler | queued for the cluster's workers;  or, at the first step that
//             fails, quarantined sealed to a public key, or dropped, as the policy says.
// Each core is one record in the gate's signed, hash-chained audit log, written before the
// redacted core is put anywhere; a core that cannot be audited is put nowhere.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dumpguard/open_dump.hpp"
#include "dumpguard/redact.hpp"
#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"
#include "gate/cluster_queue.hpp"
#include "handler/core_spool.hpp"
#include "handler/crash_info.hpp"

namespace dumpguard {

struct CoreHandlerOptions {
  // Where a clean core goes: exactly one of these four.
  std::string store;              // a directory: core.COMM.UID.BOOTID.PID.USEC[.zst]
  std::string inbox;              // the gate's inbox: the redacted core, renamed in
  std::vector<std::string> exec;  // the next handler and its arguments (%X: the kernel's values)
  ClusterQueue queue;             // the cluster's queue (queue.submit set)
  std::string quarantine;         // where sealed cores go
  std::string quarantine_key;     // X25519 public key (PEM); empty: nothing can be sealed, so dropped
  std::string work;               // the handler's own directory: the scan lock, staging for exec
  std::string tmpdir;             // the encrypted spill file
  std::string audit;
  std::string audit_key;
  std::string checkpoint;
  std::string audit_syslog;       // a syslog socket for the log's head; empty: none
  std::uint64_t memory_cap = 256ull << 20;
  std::uint64_t max_size = 16ull << 30;  // 0: none
  double deadline = 60;           // seconds the crashed process may wait for the handler to read
  bool quarantine_on_deadline = true;
  bool quarantine_on_failure = true;
  bool compress = true;           // zstd for the store and the inbox
  std::vector<std::string> drop;  // redact --drop policies
  ScanOptions scan;
  OpenOptions open;
  Fill fill = zero_fill();
  std::string pause_after_spool;  // tests: write the pid here and SIGSTOP after spooling
};

// One-line messages (the kernel's handler has no terminal: the CLI sends them to syslog's
// socket when there is one, else to stderr, which the kernel points at nothing).
using HandlerMessages = std::function<void(const std::string&)>;

// What was read of a core: kept in memory and spill, or nothing (the process asked for no core,
// or the handler could not spool it, and why).
struct ReceivedCore {
  std::optional<CoreSpool> spool;
  std::optional<Error> error;
  bool truncated_by_process = false;  // cut at the process's own RLIMIT_CORE (%c)
  std::string setup_error;  // set by the caller when it cannot go on (the scan options failed)
};

// Reads the core from `input` (standard input when run by the kernel) under the limits and the
// deadline, which runs from `started`, then lets go of the input: the crashed process goes on.
// First thing, before the scan options are built: the crashed process waits only for this.
ReceivedCore receive_core(const CoreHandlerOptions& options, const CrashInfo& crash, int input,
                          std::chrono::steady_clock::time_point started);

// Everything after: the audit record, the scan, and where the core goes. An error is the
// handler's own failure (the audit log cannot be written): the core was put nowhere.
Status handle_core(const CoreHandlerOptions& options, const CrashInfo& crash, ReceivedCore& received,
                   const HandlerMessages& say);

}  // namespace dumpguard
