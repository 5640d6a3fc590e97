// Reading the audit log back: the form of one line, and the checks that a sequence of log files
// (rotated files oldest first, the live file last) forms one unbroken, signed chain. Shared by
// `audit verify`, `audit show` and the writer's own checks on open.
//
// A line is, byte for byte:
//   {"record":R,"alg":"hmac-sha256"|"ed25519","key":"<32 hex>","sig":"<hex>"}
// or, as the first writer wrote it (still read; HMAC-SHA256, no key id):
//   {"record":R,"sig":"<64 hex>"}
// which is accepted only before the first line that names its algorithm: once a log (or the
// chain of its files) has named it, a line without a name is a rewrite, not history.
// R is the record object {"seq","time","host","version","event","data","prev",...}; "sig" signs
// R's exact bytes. The line's SHA-256 (without its newline) is the next record's "prev".
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"
#include "audit/key.hpp"

namespace dumpguard {

inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// The pieces of one line, as views into it.
struct AuditLine {
  std::string_view record;          // the record object's bytes: what the signature signs
  std::optional<AuditAlg> alg;      // nothing: the first writer's form (HMAC-SHA256, no key id)
  std::string_view key_id;          // 32 hex digits, or empty in the first writer's form
  std::string_view sig;             // lower-case hex
};

// The line in one of the two forms above, or nothing. Checks the frame only, not R's content.
std::optional<AuditLine> parse_audit_line(std::string_view line);

// SHA-256 of a line, hex: the "prev" of the record after it.
std::string audit_line_hash(std::string_view line);

// R's fields, checked: an object with an unsigned "seq", string "time", "host", "version" and
// "event", an object "data", and a "prev" of 64 lower-case hex digits. Nothing otherwise.
std::optional<nlohmann::json> parse_audit_record(std::string_view record);

// A file of the sequence: its name (for messages) and its whole text.
struct AuditFile {
  std::string name;
  std::string text;
};

struct AuditVerdict {
  bool ok = false;
  std::uint64_t records = 0;            // records read and found sound, in all files
  std::optional<std::uint64_t> broken;  // the first broken record: its line in `file` (1-based)
  std::string file;                     // the file that holds it
  std::string problem;                  // what is wrong with it, in words
  std::string head;                     // SHA-256 of the last sound line
  std::uint64_t last_seq = 0;           // seq of the last sound record
  bool signatures_checked = false;      // false when no key was given (chain only)
  // Sound, but worth saying: the log is one record ahead of its checkpoint (the writer stopped
  // between a record and its checkpoint, as a crash leaves it; the next append levels them).
  std::string note;
};

struct AuditChainOptions {
  std::string opening_prev = std::string(kGenesisHash);  // the hash the first record continues
  std::optional<std::string> expect_head;                // from a checkpoint or an anchor off the host
  std::optional<std::uint64_t> expect_records;           // the checkpoint's count (the last seq)
};

// One record as read, for `audit show`: `sound` is false from the first broken record on.
struct AuditEntry {
  const std::string* file = nullptr;
  std::uint64_t line = 0;
  const nlohmann::json* record = nullptr;
  std::string_view key_id;
  bool sound = false;
};

// Checks that `files`, in order, form one chain: every line in form, every signature made by one
// of `keys` (none given: signatures are not checked, the chain is), one key per file, a change of
// key only where the sealed file named the next key, seq rising by one, each prev the hash of
// the line before, each file but the last ending with a `sealed` record and each file after the
// first starting with an `opened` one that continues it. Names the first record that breaks any
// of this. `on_entry`, if given, sees every record that parses, in order.
AuditVerdict verify_audit_files(const std::vector<AuditFile>& files, std::span<const AuditKey* const> keys,
                                const AuditChainOptions& options = {},
                                const std::function<void(const AuditEntry&)>& on_entry = {});

// The `data` of the last sound record of `event` in these files (in order, the first of which
// may continue an older file) whose data `match` accepts; records that do not verify under `key`
// are not looked at.
std::optional<nlohmann::json> find_sound_record(const std::vector<AuditFile>& files, const AuditKey& key,
                                                const std::string& event,
                                                const std::function<bool(const nlohmann::json&)>& match);

// One log under a key given as a key file's bytes (HMAC secret or Ed25519 PEM); the form the
// first writer's callers and the fuzz target use.
AuditVerdict verify_audit_log(const std::string& text, std::span<const std::uint8_t> key,
                              std::string_view opening_prev = kGenesisHash,
                              std::optional<std::string> expect_head = std::nullopt,
                              std::optional<std::uint64_t> expect_records = std::nullopt);

// The files of a rotated log, oldest first, found by following each file's `opened` record back
// to the file it names (in the same directory) from `newest`. `missing` says which named file is
// absent (the chain is then incomplete: `paths` starts after the gap).
struct AuditChainFiles {
  std::vector<std::string> paths;
  std::optional<std::string> missing;  // "LOG.2 is missing: LOG.3's first record continues it"
};
Result<AuditChainFiles> find_audit_chain(const std::string& newest);

// Reads a whole log file, refusing one larger than 1 GiB (an audit log is rotated long before).
Result<std::string> read_audit_file(const std::string& path);

// A checkpoint file: {"head": HEX, "records": N}.
Result<std::pair<std::string, std::uint64_t>> read_audit_checkpoint(const std::string& path);

}  // namespace dumpguard
