// One gate process's identity and its own part of the work directory:
//   WORK/<id>/lock     held with flock(2) for the process's life: a second process with the
//                      same id is refused, and when the process dies (kill -9 too) it is free
//   WORK/<id>/lease    {"instance","host","pid","start","expires"}, renewed every third of the
//                      lease by a thread while the process runs
//   WORK/<id>/claims/  the dumps this instance claimed, renamed from the inbox
//   WORK/<id>/out/     per claim, what is being made (gate/pipeline.cpp)
//   WORK/<id>/decided/ per claim, the decision once it is taken
// The id is the host name and a number (--instance). An instance of this host whose lock is
// free, whose pid is not alive (the same pid with another start time is another process) and
// whose lease has expired is stale: its claims go back to the inbox.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

std::string host_name_for_gate();

class Instance {
 public:
  // Creates WORK/<id> (mode 0700) and its subdirectories, takes the lock (an error if another
  // process holds it), writes the lease and starts renewing it.
  static Result<std::unique_ptr<Instance>> start(const std::string& work, const std::string& id, double lease_seconds);
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance();

  const std::string& id() const { return id_; }
  const std::string& dir() const { return dir_; }
  std::string claims() const { return dir_ + "/claims"; }
  std::string out() const { return dir_ + "/out"; }

 private:
  Instance() = default;
  Status write_lease() const;
  void renew();

  std::string id_;
  std::string dir_;
  double lease_seconds_ = 30;
  UniqueFd lock_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread renewer_;
};

// Another instance's directory whose claims may be taken over: its lock is held by the caller
// while it does so, so the instance cannot start again meanwhile.
struct StaleInstance {
  std::string id;
  std::string dir;
  UniqueFd lock;
};

// The stale instances of this host under WORK, other than `own_id`.
std::vector<StaleInstance> find_stale_instances(const std::string& work, const std::string& own_id,
                                                double lease_seconds);

}  // namespace dumpguard
