// The cluster's one way to NATS JetStream (the C client, libnats 3.4): a connection with its
// JetStream context, the names of what the cluster keeps there, and errors in words. Nothing
// here ever carries dump bytes: messages hold references (a name in the shared store, a size and
// a SHA-256), claims, verdicts and audit records.
#pragma once
#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "dumpguard/result.hpp"

namespace dumpguard {

// What the cluster keeps in JetStream (docs/cluster.md).
inline constexpr const char* kWorkStream = "DUMPGUARD_WORK";      // work-queue stream of dump references
inline constexpr const char* kWorkSubject = "dumpguard.work";
inline constexpr const char* kWorkConsumer = "workers";           // the one durable pull consumer
inline constexpr const char* kStateBucket = "dumpguard";          // KV: dump.SHA (claim, verdict), worker.ID (heartbeat)
inline constexpr const char* kAuditStream = "DUMPGUARD_AUDIT";    // the audit trail, one record per message
inline constexpr const char* kAuditSubject = "dumpguard.audit";

struct NatsOptions {
  std::string url;    // nats://HOST:PORT or tls://HOST:PORT; user:password@ is accepted, never printed
  std::string creds;  // a NATS credentials file (JWT and NKey seed); empty: none
  std::string ca;     // PEM CA certificates trusted beside the system's store (implies TLS); empty: none
  std::string name;   // the connection's name, as the server's monitoring shows it
};

// The same server, credentials and CA under this connection name.
inline NatsOptions with_name(NatsOptions options, std::string name) {
  options.name = std::move(name);
  return options;
}

// The URL without user information, for messages and audit records.
std::string printable_url(const std::string& url);

// The host of the URL (its first server when it lists several), as its certificate must name it.
std::string url_host(const std::string& url);

// One line for a failed call: what was being done, the client's status text and the
// JetStream error code when there is one.
Error nats_error(const std::string& doing, natsStatus status, jsErrCode code = static_cast<jsErrCode>(0));

class NatsClient {
 public:
  static Result<NatsClient> connect(const NatsOptions& options);
  NatsClient(NatsClient&&) noexcept;
  NatsClient& operator=(NatsClient&&) noexcept;
  ~NatsClient();
  natsConnection* connection() const { return nc_; }
  jsCtx* js() const { return js_; }
  // The state bucket, bound once (kvStore_* calls go through it).
  Result<kvStore*> state();
  const std::string& url() const { return url_; }

 private:
  NatsClient() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  kvStore* kv_ = nullptr;
  std::string url_;
};

// RAII for the client's objects.
struct NatsMsgFree { void operator()(natsMsg* m) const { natsMsg_Destroy(m); } };
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsMsgFree>;
struct KvEntryFree { void operator()(kvEntry* e) const { kvEntry_Destroy(e); } };
using KvEntryPtr = std::unique_ptr<kvEntry, KvEntryFree>;

}  // namespace dumpguard
