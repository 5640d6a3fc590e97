// The gate's audit log: append-only JSON Lines whose records form a hash chain and
// are each signed (HMAC-SHA256 or Ed25519), so that any changed byte, removed or reordered
// record is detected by `dumpguard audit verify`, and records cut from the end by its
// checkpoint. The line format is in audit/chain.hpp and docs/commands/audit.md.
//
// Every append takes an exclusive flock on the live file and reads its last line again, so
// several processes may share one log and still form one chain. Rotation seals the live file
// with a `sealed` record, hard-links it to LOG.N, and renames a new file whose first record is
// `opened` (prev = the sealed file's head) over LOG; see rotate() for what a crash leaves.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"
#include "audit/chain.hpp"
#include "audit/key.hpp"

namespace dumpguard {

// Now, as audit records and the gate's decision files write times: ISO 8601 UTC, to the second.
std::string audit_time_now();

// One line of the log, without its newline: record {seq, time, host, version, event, data, prev}
// signed with `key`. The one place the line form is written: AuditLog appends it to a file, and
// a writer elsewhere (the cluster's audit stream) to its own medium.
Result<std::string> make_audit_line(const AuditKey& key, std::uint64_t seq, const std::string& prev,
                                    const std::string& event, nlohmann::ordered_json data);

struct AuditLogOptions {
  std::string checkpoint;         // {"head","records"} written atomically after every record; empty: none
  std::uint64_t max_bytes = 0;    // rotate once the live file reaches this size; 0: never by size
  bool syslog = false;            // send "head H records N" to syslog after every record
  std::string syslog_socket = "/dev/log";  // the syslog datagram socket (journald listens there too)
};

struct AuditRotation {
  std::string sealed_as;     // the path the sealed file now has (LOG.N)
  std::uint64_t records = 0; // records in it, its sealed record included
  std::string head;          // its last line's hash: the prev of the new file's opened record
};

class AuditLog {
 public:
  // An empty log to assign an opened one to; it cannot append (it has no path or key).
  AuditLog() = default;

  // Opens (creating, mode 0600) the log at `path` and reads its head, so that appends continue
  // the chain. Refused: a last line cut short or not in the log's form, a last record signed
  // by another key or whose signature does not verify, a log that is behind its checkpoint
  // (records were lost), and a missing live file beside rotated ones. A rotation left half
  // done by a crash is completed. `key` is a key file's bytes: an HMAC secret or an Ed25519
  // private key in PEM.
  static Result<AuditLog> open(const std::string& path, std::vector<std::uint8_t> key,
                               std::string checkpoint_path = {});
  static Result<AuditLog> open(const std::string& path, AuditKey key, AuditLogOptions options = {});

  // Appends one record and fsyncs it, then writes the checkpoint (if any), tells syslog (if
  // asked), and rotates when the file has reached max_bytes.
  Status append(const std::string& event, nlohmann::ordered_json data);

  // Seals the live file and opens the next (see the .cpp for the steps and what a crash at
  // each leaves). With `next_key`, the seal names it and the new file is signed with it; this
  // log then signs with it too.
  Result<AuditRotation> rotate(std::optional<AuditKey> next_key = std::nullopt);

  const std::string& head() const { return head_; }
  std::uint64_t records() const { return count_; }  // the last record's seq
  const AuditKey& key() const { return key_; }
  // The rotation this object finished for a crashed one (found sealed but not yet renamed), if any.
  const std::optional<AuditRotation>& finished_rotation() const { return finished_; }

 private:
  struct Locked;
  explicit AuditLog(AuditKey key) : key_(std::move(key)) {}
  Result<Locked> lock_live();
  Status append_locked(Locked& live, const std::string& event, nlohmann::ordered_json data);
  Result<AuditRotation> rotate_locked(Locked& live, std::optional<AuditKey>& next_key);
  Status after_record();

  std::string path_;
  AuditLogOptions options_;
  AuditKey key_;
  std::string head_ = std::string(kGenesisHash);
  std::uint64_t count_ = 0;
  std::optional<AuditRotation> finished_;
};

}  // namespace dumpguard
