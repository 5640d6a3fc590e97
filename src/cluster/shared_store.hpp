// The shared store: where submitted dumps wait under their SHA-256 until a worker has judged
// them. Dumps hold secrets, so they go here and never into a broker message: a directory every
// worker mounts, or a bucket of an S3-compatible object store (cluster/s3_store.hpp), readable
// by the workers and submitters only. The work message names the dump by its SHA-256 and size;
// each backend turns that into a file or an object name.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "cluster/work_item.hpp"
#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

class SharedStore {
 public:
  virtual ~SharedStore() = default;
  // Stores the file at `path` under its SHA-256, durably; the reference to queue. A name already
  // there holds the same bytes (it is their SHA-256).
  virtual Result<WorkItem> put(const std::string& path) = 0;
  // Copies the stored dump `item` to `dest` (a new file, mode 0600, fsync'd), checking its size
  // and SHA-256 against the reference on the way. false: it is not in the store. An
  // Errc::bad_value error: what is stored is not what the reference names (changed in the
  // store); any other error is the caller's own failure (the mount, the network, credentials).
  virtual Result<bool> get(const WorkItem& item, const std::string& dest) = 0;
  // Removes the stored copy; one already gone is no error.
  virtual Status remove(const WorkItem& item) = 0;
  // Checks that the store answers and takes these credentials, before a worker takes any dump.
  virtual Status check() = 0;
  // For messages and audit records: the stored copy of `sha256`, and the store itself.
  virtual std::string where(const std::string& sha256) const = 0;
  virtual std::string name() const = 0;
  // The directory, when the store is one (the gate's checks that release, quarantine and the
  // store do not overlap); empty for an object store.
  virtual std::string directory() const { return {}; }
};

// How to reach an S3-compatible store (cluster/s3_store.hpp).
struct S3Options {
  std::string endpoint;      // https://HOST[:PORT]; http:// only on a loopback address
  std::string region;        // empty: us-east-1
  std::string ca;            // PEM CA certificates to trust instead of the system's; empty: the system's
  std::string credentials;   // an AWS credentials file (mode 0600); empty: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
  bool given() const { return !endpoint.empty() || !region.empty() || !ca.empty() || !credentials.empty(); }
};

struct SharedStoreOptions {
  std::string location;  // a directory (absolute), or s3://BUCKET[/PREFIX]
  S3Options s3;          // for an s3:// location only
};

bool is_s3_location(std::string_view location);

// Opens the store without touching any dump: a directory must exist; an object store's
// location, endpoint and credentials are read and checked (it is not contacted: check() does).
Result<std::unique_ptr<SharedStore>> open_shared_store(const SharedStoreOptions& options);

// For the backends. The file a submitter stores, opened for reading: a regular file.
Result<UniqueFd> open_to_store(const std::string& path);
// Reads all of `from`, hashing it, and writes it to `to` (then fsyncs it)
// unless `to` is -1; the number of bytes and the hex SHA-256.
Result<std::pair<std::uint64_t, std::string>> copy_hashing(int from, int to, const std::string& what);
// The error text for a stored dump whose size or SHA-256 differs from its reference's.
std::string changed_in_store(const std::string& where);

}  // namespace dumpguard
