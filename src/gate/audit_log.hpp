// The gate's audit log (issue 7): append-only JSON Lines whose records form a hash chain and
// are each signed, so that any changed byte, removed or reordered record is detected by
// `dumpguard audit verify`, and records cut from the end by its checkpoint (DECISIONS.md).
//
// One line per record, in exactly this form:
//   {"record":{"seq":N,"time":"...","host":"...","version":"...","event":"...","data":{...},"prev":"HEX"},"sig":"HEX"}
// - "prev" is the SHA-256 of the previous line's bytes (without its newline); the first
//   record of a log has 64 zeros, and the first record of a rotated log the last hash of
//   the file it continues (recorded in its data).
// - "sig" is HMAC-SHA256 under the log key over the exact bytes of the record object.
// The head of a log is the SHA-256 of its last line; a checkpoint file holds the head and the
// record count, written atomically after every record.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"

namespace dumpguard {

inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

class AuditLog {
 public:
  // Opens (creating, mode 0600) the log at `path` and reads its head, so that appends continue
  // the chain. A log whose last line does not parse is refused: appending would hide it.
  static Result<AuditLog> open(const std::string& path, std::vector<std::uint8_t> key,
                               std::string checkpoint_path = {});
  // Appends one record and fsyncs it, then writes the checkpoint (if any).
  Status append(const std::string& event, nlohmann::ordered_json data);

  const std::string& head() const { return head_; }
  std::uint64_t records() const { return count_; }

 private:
  std::string path_;
  std::string checkpoint_;
  std::vector<std::uint8_t> key_;
  std::string head_ = std::string(kGenesisHash);
  std::uint64_t count_ = 0;
};

struct AuditVerdict {
  bool ok = false;
  std::uint64_t records = 0;             // records read and found sound
  std::optional<std::uint64_t> broken;   // the first broken record (1-based line number)
  std::string problem;                   // what is wrong with it, in words
  std::string head;                      // SHA-256 of the last sound line
};

// Checks the chain and every signature; with `expect_head`/`expect_records` (from a
// checkpoint) also that nothing was cut from the end. `opening_prev` is the hash the first
// record must continue (the genesis hash, or the sealed previous file's head).
AuditVerdict verify_audit_log(const std::string& text, std::span<const std::uint8_t> key,
                              std::string_view opening_prev = kGenesisHash,
                              std::optional<std::string> expect_head = std::nullopt,
                              std::optional<std::uint64_t> expect_records = std::nullopt);

// A checkpoint file: {"head": HEX, "records": N}.
Result<std::pair<std::string, std::uint64_t>> read_audit_checkpoint(const std::string& path);

}  // namespace dumpguard
