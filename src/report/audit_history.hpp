// `dumpguard audit show`: the audit log as a readable history. Picks records by dump, user, key
// fingerprint, time and event, and prints one line per record (or JSON), then whether the chain
// that was read verified. The records come from verify_audit_files (audit/chain.hpp), so
// what is shown is what was checked.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dumpguard/result.hpp"
#include "audit/chain.hpp"

namespace dumpguard {

// An ISO 8601 time ("2026-11-27", "2026-11-27T05:28", "2026-11-27T05:28:55Z", with an optional
// fraction and an offset "+02:00"/"-0500"/"Z"; none means UTC) as "YYYY-MM-DDTHH:MM:SSZ" in
// UTC, the form the log's records carry, so that times compare as strings.
Result<std::string> parse_iso8601_utc(std::string_view text);

struct AuditFilter {
  std::string dump;             // a dump's path, file name, or SHA-256 (a prefix of 8+ hex digits)
  std::string key_fingerprint;  // a key fingerprint, whole or a prefix of 8+ characters
  std::optional<std::string> since;  // records at or after (normalised by parse_iso8601_utc)
  std::optional<std::string> until;  // records before
  std::vector<std::string> events;   // any of these events; empty: all
  std::string user;                  // records whose data.user is this (serve's requests); empty: all
};

struct AuditShown {
  std::string file;
  std::uint64_t line = 0;
  nlohmann::json record;
  std::string key_id;  // the signing key's id (empty: the first writer's form)
  bool sound = false;  // verified (false from the first broken record on)
};

// The records `filter` picks, in log order. A dump is followed through the records that name
// it: the SHA-256 values (fields named *sha256*) of the records that match it pick the records
// that name those digests too (the input's received/claimed, the output's released).
std::vector<const AuditShown*> pick_audit_records(const std::vector<AuditShown>& all, const AuditFilter& filter);

// One line: "TIME  #SEQ  EVENT  DUMP  hashes  summary", with every 64-digit hex shortened to 12
// digits and every byte outside printable ASCII written \xNN (dump names come from a hostile
// inbox: no terminal escapes get through).
std::string audit_record_line(const AuditShown& shown);

// The closing line: verified, or not, naming the first broken record.
std::string audit_verdict_line(const AuditVerdict& verdict, std::size_t files, bool anchored);

// The --json document: {"records":[{file,line,sound,key,record}],"verification":{...}}.
nlohmann::ordered_json audit_history_json(const std::vector<const AuditShown*>& picked, const AuditVerdict& verdict,
                                          std::size_t files, bool anchored);

}  // namespace dumpguard
