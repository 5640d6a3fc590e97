#include "cluster/inbox_submit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <set>

#include "cluster/cluster_admin.hpp"
#include "gate/directory_store.hpp"
#include "gate/durable_files.hpp"
#include "gate/names.hpp"
#include "gate/private_path.hpp"
#include "gate/stop_signal.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

using Clock = std::chrono::steady_clock;

// Queues the staged file, then removes it: the shared store holds the copy that is queued.
Status queue_staged(NatsClient& client, SharedStore& store, const InboxSubmitOptions& o, const std::string& staged,
                    const std::function<void(const std::string&)>& say) {
  DG_TRY(const Submitted submitted, submit_dump(client, store, staged));
  if (::unlink(staged.c_str()) != 0) return os_error(fmt::format("cannot remove {}", staged));
  DG_CHECK(fsync_at(AT_FDCWD, o.staging));
  say(fmt::format("{}: {} as {}", printable(staged.substr(o.staging.size() + 1)),
                  submitted.queued ? "queued" : "already queued", submitted.item.sha256));
  return ok_status();
}

}  // namespace

Status submit_from_inbox(NatsClient& client, SharedStore& store, const InboxSubmitOptions& o,
                         const std::function<void(const std::string&)>& say) {
  DG_TRY(const UniqueFd staging_dir, open_private_dir(o.staging));
  DG_TRY(DirectoryStore inbox, DirectoryStore::open(o.inbox, true, o.settle, "submit"));
  for (const std::string& name : names_in(o.staging)) DG_CHECK(queue_staged(client, store, o, o.staging + "/" + name, say));
  watch_stop_signals();
  std::set<std::string> refused_said;
  std::map<std::string, Clock::time_point> resting;  // given back while a writer had them open
  while (!stop_signalled()) {
    DG_TRY(const std::vector<StoreEntry> entries, inbox.list());
    bool waiting = false;
    for (const StoreEntry& e : entries) {
      if (e.state == StoreEntry::State::refused) {
        // Never opened, never queued: left where it is for someone to look at, said once.
        if (refused_said.insert(e.name).second) say(fmt::format("{}: refused ({}); left in the inbox", printable(e.name), e.refusal));
        continue;
      }
      const auto rest = resting.find(e.name);
      if (e.state == StoreEntry::State::settling || (rest != resting.end() && Clock::now() < rest->second)) {
        waiting = true;
        continue;
      }
      const std::string staged = o.staging + "/" + e.name;
      DG_TRY(const bool claimed, inbox.claim(e.name, staged));
      if (!claimed) continue;
      // As the gate checks what it claimed: a regular file with one link, that nobody writes.
      struct stat st {};
      UniqueFd fd(::open(staged.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !entry_refusal(st).empty() || open_for_writing(fd.get())) {
        fd = UniqueFd();
        DG_TRY(const bool back, inbox.put(staged, e.name));
        if (!back) return Error{Errc::io, 0, fmt::format("{}: cannot give it back to the inbox", staged)};
        resting[e.name] = Clock::now() + std::chrono::milliseconds(static_cast<long>(std::max(o.settle, 1.0) * 1000));
        waiting = true;
        continue;
      }
      fd = UniqueFd();
      DG_CHECK(queue_staged(client, store, o, staged, say));
    }
    if (o.once && !waiting) break;
    inbox.wait(std::chrono::milliseconds(static_cast<long>(o.poll * 1000)));
  }
  return ok_status();
}

}  // namespace dumpguard
