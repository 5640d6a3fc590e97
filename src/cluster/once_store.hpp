// Release and quarantine for cluster workers: a dump is published there at most once. A worker
// names each dump by its SHA-256 (cluster/work_item.hpp), so when a redelivered dump (its first
// worker died after publishing, before its verdict reached the key-value bucket) is published
// again, the name is already taken by the same dump. Where the gate would choose a free name,
// this store keeps the one name: a taken name whose file holds the same bytes counts as
// published (the new copy is dropped); one with other bytes is an error, and the worker stops
// rather than publish the dump twice or over another.
#pragma once
#include <map>
#include <string>

#include "gate/directory_store.hpp"
#include "gate/store.hpp"

namespace dumpguard {

class OnceStore final : public DumpStore {
 public:
  explicit OnceStore(DirectoryStore& inner) : inner_(inner) {}
  const std::string& where() const override { return inner_.where(); }
  Result<std::vector<StoreEntry>> list() override { return inner_.list(); }
  void wait(std::chrono::milliseconds timeout) override { inner_.wait(timeout); }
  Result<bool> claim(const std::string& name, const std::string& local) override { return inner_.claim(name, local); }
  // Never taken, as far as the gate's steps are concerned: they keep the dump's own name.
  bool exists(const std::string&) override { return false; }
  Result<bool> put(const std::string& local, const std::string& name) override;

  // Whether `name` was published (now or before), as this process saw it.
  bool published(const std::string& name) const { return published_.count(name) > 0; }

 private:
  DirectoryStore& inner_;
  std::map<std::string, bool> published_;
};

}  // namespace dumpguard
