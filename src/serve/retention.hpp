// Serve's retention: released dumps older than the retention are deleted, each after an
// `expired` audit record that names it by SHA-256 (the records of a dump's life never expire;
// only the dump does). Age is the file's mtime: the gate writes a released copy when it
// releases it.
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "dumpguard/result.hpp"

namespace dumpguard {

// Whether a file with this stat is past `retention_days` at `now` (0 days: never).
bool past_retention(const struct stat& st, double retention_days, std::time_t now);

// SHA-256 (hex) of the whole file open at `fd`, read with pread from offset 0.
Result<std::string> sha256_of_fd(int fd);

// Deletes one dump named `name` in directory `dir_fd` that is past retention: hashes it, hands the
// `expired` record's data to `record` (which appends it; false: the log failed, nothing is
// deleted), then unlinks it. Returns whether it was deleted.
using AuditRecorder = std::function<bool(const std::string& event, nlohmann::ordered_json data)>;
Result<bool> expire_dump(int dir_fd, const std::string& name, double retention_days, const AuditRecorder& record);

// Every regular file of the release directory past retention, deleted by expire_dump. Returns
// how many were deleted; stops at the first audit failure.
Result<std::uint64_t> expire_release(int dir_fd, double retention_days, const AuditRecorder& record);

}  // namespace dumpguard
