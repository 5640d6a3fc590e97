// `dumpguard submit --watch INBOX`: an inbox that a crash handler or an upload server writes into,
// watched as the gate watches its own (complete files only; links, devices and files with
// several hard links never opened), whose dumps go to the cluster's queue instead of being
// processed on this host: each is moved into a private staging directory, copied into the
// shared store and queued as `dumpguard submit` does, then removed.
#pragma once
#include <functional>
#include <string>

#include "cluster/nats_client.hpp"
#include "cluster/shared_store.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

struct InboxSubmitOptions {
  std::string inbox;
  std::string staging;       // on the inbox's file system, 0700: dumps between their claim and their queueing
  double settle = 2;         // seconds a file must be unchanged to count as complete (no inotify event)
  double poll = 2;           // seconds between listings
  bool once = false;         // stop when nothing is left in the inbox
};

// Runs until SIGTERM, SIGINT or SIGHUP, or with `once` until the inbox holds nothing complete
// or still being written. Dumps left in staging by an earlier run are queued first (a dump
// queued twice is queued once: its SHA-256 is the message id). An error (the store or the
// server) stops it with the dump still in staging, for the next run.
Status submit_from_inbox(NatsClient& client, SharedStore& store, const InboxSubmitOptions& options,
                         const std::function<void(const std::string&)>& say);

}  // namespace dumpguard
