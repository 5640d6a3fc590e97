// The gate's one way to the audit log (audit/log.hpp): the key is read and the log
// constructed here and nowhere else in the gate. Several gate processes on one host may share
// one log: AuditLog holds flock(2) on the log file for each append and rereads its head, so the
// records of all of them form one chain. What kill -9 leaves (a torn last record, a checkpoint
// one record behind) is repaired here when the gate starts.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"
#include "audit/log.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

// Where a trail's records go when they do not go to a file on this host: the cluster's audit
// stream (cluster/audit_stream.hpp). It appends records in the log's line form, chained and
// signed as AuditLog does, and reads back what it holds.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual Status append(const std::string& event, nlohmann::ordered_json data) = 0;
  virtual std::uint64_t records() const = 0;
  virtual const std::string& head() const = 0;
  virtual const std::string& where() const = 0;
  virtual Result<std::optional<nlohmann::json>> find_sound(
      const std::string& event, const std::function<bool(const nlohmann::json&)>& match) const = 0;
};

class AuditTrail {
 public:
  // `key_file`: the log's key as `audit keygen` makes it (HMAC or Ed25519). `checkpoint`: where the head and count go
  // after every record.
  // `syslog_socket`: where the head goes after every record too (empty: nowhere).
  static Result<AuditTrail> open(const std::string& log, const std::string& key_file, const std::string& checkpoint,
                                 const std::string& syslog_socket = {});
  // A trail whose records go to `sink` instead of a log file.
  static AuditTrail to_sink(std::unique_ptr<AuditSink> sink);
  AuditTrail(AuditTrail&&) = default;
  AuditTrail& operator=(AuditTrail&&) = default;
  ~AuditTrail();  // wipes this copy of the key
  // Appends one record, fsync'd. An error here is the gate's own failure: the caller stops.
  Status record(const std::string& event, nlohmann::ordered_json data);
  // The last record's seq (records count from 1 across rotated files) and the log's head.
  std::uint64_t records() const { return sink_ ? sink_->records() : log_->records(); }
  const std::string& head() const { return sink_ ? sink_->head() : log_->head(); }
  const std::string& path() const { return sink_ ? sink_->where() : path_; }
  // The data of the last record of `event` in the live log that `match` accepts, among the
  // records read back whose chain and signature verify under the gate's key; nothing when none.
  // What the gate trusts on restart: a file in its work directory is only a claim about the log.
  Result<std::optional<nlohmann::json>> find_sound(const std::string& event,
                                                   const std::function<bool(const nlohmann::json&)>& match) const;

 private:
  AuditTrail() = default;
  std::string path_;
  std::string checkpoint_;
  std::vector<std::uint8_t> key_;
  UniqueFd lock_;
  std::optional<AuditLog> log_;
  std::unique_ptr<AuditSink> sink_;
};

}  // namespace dumpguard
