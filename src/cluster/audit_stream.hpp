// The cluster's audit trail: one JetStream stream (kAuditStream) whose messages are the lines
// of one audit log, in order, each a record chained to the one before by hash and signed as
// the gate's file log signs it (audit/chain.hpp). Every worker appends with an
// expected-last-sequence check and tries again when another worker appended first, so the
// chain stays one line across workers. The stream denies delete and purge, and workers may only
// publish to its subject (docs/cluster.md): they cannot rewrite what is there.
#pragma once
#include <memory>
#include <string>

#include "cluster/nats_client.hpp"
#include "audit/key.hpp"
#include "audit/trail.hpp"

namespace dumpguard {

class AuditStream : public AuditSink {
 public:
  // `key_file` as `audit keygen` makes it. `checkpoint`: a file off the broker that gets the
  // head and the record count after every record this worker appends (empty: none).
  static Result<std::unique_ptr<AuditStream>> open(NatsClient& client, const std::string& key_file,
                                                   std::string checkpoint);
  Status append(const std::string& event, nlohmann::ordered_json data) override;
  std::uint64_t records() const override { return records_; }
  const std::string& head() const override { return head_; }
  const std::string& where() const override { return where_; }
  // Looks at the last 4096 records, verified under this worker's key.
  Result<std::optional<nlohmann::json>> find_sound(
      const std::string& event, const std::function<bool(const nlohmann::json&)>& match) const override;

 private:
  struct Tail {
    std::uint64_t stream_seq = 0;  // the stream's sequence of the last message; 0: empty
    std::uint64_t record_seq = 0;  // the record's own seq
    std::string head;              // the last line's SHA-256
    std::string line;
  };
  AuditStream(NatsClient& client, AuditKey key) : client_(client), key_(std::move(key)) {}
  Result<Tail> read_tail() const;

  NatsClient& client_;
  AuditKey key_;
  std::string checkpoint_;
  std::string where_;
  std::string head_;
  std::uint64_t records_ = 0;
};

// The stream's messages `first`..`last` as the lines of a log file (each with its newline).
// An error names a message that is missing (the stream had one deleted) or is not a line.
Result<std::string> read_audit_stream(NatsClient& client, std::uint64_t first = 0, std::uint64_t last = 0);

}  // namespace dumpguard
