// The gate's one way to the audit log (gate/audit_log.hpp): the key is read and the log
// constructed here and nowhere else in the gate. Several gate processes on one host may share
// one log: each append holds flock(2) on the log file, and re-reads the log's head whenever the
// file changed since this process last appended, so the records of all of them form one chain.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"
#include "gate/audit_log.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

class AuditTrail {
 public:
  // `key_file`: the log's HMAC key (16 to 64 bytes). `checkpoint`: where the head and count go
  // after every record.
  static Result<AuditTrail> open(const std::string& log, const std::string& key_file, const std::string& checkpoint);
  AuditTrail(AuditTrail&&) = default;
  AuditTrail& operator=(AuditTrail&&) = default;
  ~AuditTrail();  // wipes this copy of the key
  // Appends one record, fsync'd. An error here is the gate's own failure: the caller stops.
  Status record(const std::string& event, nlohmann::ordered_json data);

 private:
  AuditTrail() = default;
  std::string path_;
  std::string checkpoint_;
  std::vector<std::uint8_t> key_;
  UniqueFd lock_;
  std::optional<AuditLog> log_;
  std::int64_t size_after_last_append_ = -1;
};

}  // namespace dumpguard
