// The shared store: a directory on a file system every worker mounts (and only workers and
// submitters can read), where dumps wait under their SHA-256. Dumps hold secrets, so they go
// here and never into a broker message.
#pragma once
#include <string>

#include "cluster/work_item.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

// Copies the file at `path` into `store` as SHA256 (mode 0600), durably and atomically: a
// temporary file in the store is written and fsync'd, then linked to its final name (which
// never replaces a file: the same name is the same content) and the directory fsync'd.
// Returns the reference to queue.
Result<WorkItem> copy_into_shared_store(const std::string& store, const std::string& path);

// Copies the stored dump `item` to `dest` (a new file, mode 0600, fsync'd), checking its size
// and SHA-256 against the reference on the way. false: it is not in the store.
Result<bool> copy_out_of_shared_store(const std::string& store, const WorkItem& item, const std::string& dest);

std::string shared_store_path(const std::string& store, const std::string& sha256);

}  // namespace dumpguard
