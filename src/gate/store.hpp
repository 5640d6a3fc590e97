// Where dumps wait and where they go. The gate's steps see the inbox, the release and the
// quarantine only through this interface (list, claim, put), so the steps do not depend on
// where dumps live. Directories implement it today (gate/directory_store.hpp); an object
// store with a work queue could implement it when one machine is not enough, without touching
// the gate's steps.
//
// The gate always works on local files in its own work directory: claim() brings an entry there
// (for a directory, by rename; for an object store it would be a download under a queue lease),
// and put() publishes a finished local file or directory.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

struct StoreEntry {
  enum class State {
    ready,     // complete: may be claimed now
    settling,  // still being written, or too fresh to tell
    refused,   // never to be opened: a symlink, device, FIFO, socket, directory, hard link, bad name
  };
  std::string name;
  State state = State::settling;
  std::string refusal;  // why, in words, for refused entries ("a symbolic link", "2 hard links", ...)
};

class DumpStore {
 public:
  virtual ~DumpStore() = default;
  // What the store is, for messages and audit records (a directory's path).
  virtual const std::string& where() const = 0;
  // The entries worth a look, in name order. Names the gate never takes (dotfiles, temporary
  // names) are left out.
  virtual Result<std::vector<StoreEntry>> list() = 0;
  // Waits up to `timeout` for something to arrive, or less (a signal, an event).
  virtual void wait(std::chrono::milliseconds timeout) = 0;
  // Takes entry `name` into the gate's work directory as `local`, so that no other gate can have
  // it, without opening it. false: another gate was first, or `local` exists.
  virtual Result<bool> claim(const std::string& name, const std::string& local) = 0;
  // Whether `name` is taken (a put under it would return false), to choose a free name.
  virtual bool exists(const std::string& name) = 0;
  // Publishes the finished `local` (a file or a directory, already fsync'd) as `name`, atomically
  // and durably, never replacing anything: false when `name` is taken. `local` is gone after.
  virtual Result<bool> put(const std::string& local, const std::string& name) = 0;
};

}  // namespace dumpguard
