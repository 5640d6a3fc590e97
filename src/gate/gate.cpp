// The gate's loop: set up its directories, instance and audit trail, finish what an earlier run
// left, then list the inbox, set refused entries aside, take ready dumps one at a time, and wait.
#include "gate/gate.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <span>

#include "crypto/digest.hpp"
#include "audit/trail.hpp"
#include "gate/directory_store.hpp"
#include "gate/durable_files.hpp"
#include "gate/instance.hpp"
#include "gate/pipeline.hpp"
#include "gate/private_path.hpp"
#include "gate/stop_signal.hpp"
#include "io/private_process.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {


Result<dev_t> device_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return os_error(fmt::format("cannot stat {}", path));
  if (!S_ISDIR(st.st_mode)) return Error{Errc::io, 0, fmt::format("{} is not a directory", path)};
  return st.st_dev;
}

// What the gate remembers of its audit log, in its own work directory: WORK/audit-HASH.seen,
// {"log", "records", "head"} for the log at that path. A log emptied or cut short together with
// its checkpoint (both on this host, both writable by whoever took it) is consistent on its own;
// only this memory shows that the log once went further.
std::string remembered_log_path(const std::string& work, const std::string& log) {
  const auto digest = sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(log.data()), log.size()));
  return fmt::format("{}/audit-{}.seen", work, hex(std::span<const std::uint8_t>(digest.data(), 8)));
}

Status check_remembered_log(const std::string& work, const AuditTrail& audit, const std::string& checkpoint) {
  const std::string memory = remembered_log_path(work, audit.path());
  std::string text(4096, '\0');
  auto got = read_file_into(memory, text);
  if (!got) return errno == ENOENT ? ok_status() : got.error();
  text.resize(*got);
  const auto seen = nlohmann::json::parse(text, nullptr, false);
  if (seen.is_discarded() || !seen.is_object() || !seen.contains("records") || !seen["records"].is_number_unsigned()) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not what the gate writes there; remove it to go on", memory)};
  }
  const std::uint64_t records = seen["records"].get<std::uint64_t>();
  if (audit.records() < records) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the audit log {} ends at record {}, but this gate saw it reach record {} (its work "
                             "directory remembers, in {}): it was cut short or emptied, and its checkpoint {} was "
                             "removed or rewritten with it. Restore both; to begin a new log on purpose, remove {}",
                             audit.path(), audit.records(), records, memory, checkpoint, memory)};
  }
  return ok_status();
}

Status remember_log(const std::string& work, const AuditTrail& audit) {
  const nlohmann::ordered_json seen = {{"log", audit.path()}, {"records", audit.records()}, {"head", audit.head()}};
  return write_file_atomically(remembered_log_path(work, audit.path()), seen.dump() + "\n");
}

Status check_still_private(const std::string& work, int held) {
  Result<UniqueFd> now = open_private_dir(work);
  if (!now) return Error{Errc::bad_value, 0, fmt::format("the work directory {} is no longer the gate's alone: {}", work, now.error().message)};
  struct stat a {}, b {};
  if (fstat(held, &a) != 0 || fstat(now->get(), &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
    return Error{Errc::bad_value, 0, fmt::format("the work directory {} was replaced while the gate ran", work)};
  }
  return ok_status();
}

// Release and quarantine inside the inbox would be listed as its entries: a directory there is
// refused as hostile while the gate writes into it, and release equal to the inbox makes every
// released copy a new dump, for ever. Refused before anything is made.
Status check_layout(const GateOptions& o) {
  for (const auto& [dir, option] : {std::pair{&o.release, "--release"}, std::pair{&o.quarantine, "--quarantine"}}) {
    DG_TRY(const bool inside, lies_within(*dir, o.inbox));
    if (inside) {
      return Error{Errc::bad_value, 0,
                   fmt::format("{} {} is the inbox {} or inside it: the gate would take its own output as new "
                               "dumps; give a directory outside the inbox",
                               option, *dir, o.inbox)};
    }
  }
  DG_TRY(const bool same, lies_within(o.release, o.quarantine));
  DG_TRY(const bool same_back, lies_within(o.quarantine, o.release));
  if (same || same_back) {
    return Error{Errc::bad_value, 0,
                 fmt::format("--release {} and --quarantine {} overlap: released copies and quarantined originals "
                             "must never share a directory",
                             o.release, o.quarantine)};
  }
  return ok_status();
}

}  // namespace

Status run_gate(const GateOptions& o, const GateMessages& say) {
  // The gate maps dumps full of secrets.
  make_process_private();
  DG_TRY(const dev_t inbox_device, device_of(o.inbox));
  DG_CHECK(check_layout(o));
  for (const std::string* dir : {&o.release, &o.quarantine}) DG_CHECK(make_private_dir(*dir));
  // Held for the gate's life: what was checked here is the directory the gate works in.
  Result<UniqueFd> work_dir = open_private_dir(o.work);
  if (!work_dir) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the work directory {} is not the gate's alone: {}. Give --work a directory on the "
                             "inbox's file system that only root or the gate's user can write",
                             o.work, work_dir.error().message)};
  }
  DG_TRY(const dev_t work_device, device_of(o.work));
  if (work_device != inbox_device) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the work directory {} is not on the file system of the inbox {}: claims are renames, "
                             "so it must be",
                             o.work, o.inbox)};
  }
  const std::string refused = o.work + "/refused";
  DG_TRY(const UniqueFd refused_dir, open_private_dir(refused));

  DG_TRY(std::unique_ptr<Instance> instance, Instance::start(o.work, o.instance, o.lease));
  DG_TRY(AuditTrail audit, AuditTrail::open(o.audit, o.audit_key, o.checkpoint, o.audit_syslog));
  DG_CHECK(check_remembered_log(o.work, audit, o.checkpoint));
  DG_TRY(DirectoryStore inbox, DirectoryStore::open(o.inbox, true, o.settle, o.instance));
  DG_TRY(DirectoryStore release, DirectoryStore::open(o.release, false, 0, o.instance));
  DG_TRY(DirectoryStore quarantine, DirectoryStore::open(o.quarantine, false, 0, o.instance));
  Pipeline pipeline(o, instance->id(), inbox, release, quarantine, audit, refused, say);
  const WorkDirs own = work_dirs_of(instance->dir(), instance->id());

  watch_stop_signals();
  const std::string watching = inbox.uses_inotify() ? "inotify" : "polling";
  DG_CHECK(audit.record("started", {{"instance", instance->id()},
                                    {"pid", static_cast<long>(getpid())},
                                    {"inbox", o.inbox},
                                    {"release", o.release},
                                    {"quarantine", o.quarantine},
                                    {"watching", watching},
                                    {"once", o.once}}));
  DG_CHECK(remember_log(o.work, audit));
  say(fmt::format("gate {}: watching {} ({}), releasing to {}, quarantining to {}", instance->id(), o.inbox, watching,
                  o.release, o.quarantine));
  DG_CHECK(pipeline.recover_own(own));

  using Clock = std::chrono::steady_clock;
  const auto seconds = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  Clock::time_point last_stale_check{};
  Clock::time_point last_progress = Clock::now();
  const auto poll = std::chrono::milliseconds(static_cast<long>(o.poll * 1000));
  // --once waits this long for files that are still settling, then leaves them for the next run.
  const auto once_patience = seconds(o.settle + 2 * o.poll);
  while (!stop_signalled()) {
    if (Clock::now() - last_stale_check >= seconds(std::max(1.0, o.lease / 2))) {
      // Still the directory checked at start, and still the gate's alone: an inbox opened to
      // others, or the directory swapped, while the gate runs stops it rather than go on.
      DG_CHECK(check_still_private(o.work, work_dir->get()));
      for (StaleInstance& stale : find_stale_instances(o.work, instance->id(), o.lease)) {
        DG_CHECK(pipeline.recover_stale(work_dirs_of(stale.dir, stale.id)));
      }
      last_stale_check = Clock::now();
    }
    DG_TRY(const std::vector<StoreEntry> entries, inbox.list());
    bool progress = false;
    bool waiting = false;
    for (const StoreEntry& entry : entries) {
      if (stop_signalled()) break;
      if (entry.state == StoreEntry::State::refused) {
        DG_CHECK(pipeline.refuse(entry.name, entry.refusal));
        progress = true;
      } else if (entry.state == StoreEntry::State::ready && !pipeline.resting(entry.name)) {
        // Taken by this gate or by another: either way the listing has changed.
        DG_CHECK(pipeline.take(own, entry.name));
        progress = true;
      } else {
        waiting = true;
      }
    }
    if (progress) {
      last_progress = Clock::now();
      continue;
    }
    if (o.once && (!waiting || Clock::now() - last_progress > once_patience)) break;
    inbox.wait(poll);
  }
  DG_CHECK(audit.record("stopped", {{"instance", instance->id()},
                                    {"why", stop_signalled() ? "a signal" : "--once: nothing left to take"}}));
  DG_CHECK(remember_log(o.work, audit));
  say(fmt::format("gate {}: stopped", instance->id()));
  return ok_status();
}

}  // namespace dumpguard
