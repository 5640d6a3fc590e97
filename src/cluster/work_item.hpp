// A work-queue message: a reference to a dump in the shared store, never the dump. Its
// SHA-256 names the stored file and is the message's Nats-Msg-Id, so that a dump submitted
// twice is queued once. Messages come from the broker: each field is checked before use.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "dumpguard/result.hpp"

namespace dumpguard {

struct WorkItem {
  std::string sha256;     // 64 lower-case hex digits: the stored file's name and the message id
  std::uint64_t size = 0; // bytes
  std::string name;       // the dump's file name as submitted (printable, at most 100 bytes)
};

// {"schema":"dumpguard-work/1","sha256":...,"size":...,"name":...}
std::string work_message(const WorkItem& item);
// The message checked: at most 4 KiB, that schema, every field of its form. One line otherwise.
Result<WorkItem> parse_work_message(std::string_view text);

// The name a worker gives the dump: SHA-256, a dash and its submitted name. The same dump always
// gets the same name, in release and quarantine alike, so a redelivered dump lands on the name
// it already has instead of a second one (cluster/once_store.hpp).
std::string work_file_name(const WorkItem& item);

// A submitted file name made safe: its last component, characters outside [A-Za-z0-9._-]
// replaced by '_', at most 100 bytes, never empty or starting with a dot.
std::string safe_submitted_name(std::string_view path);

bool is_sha256_hex(std::string_view text);

}  // namespace dumpguard
