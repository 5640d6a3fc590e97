#include "handler/core_handler.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/digest.hpp"
#include "audit/trail.hpp"
#include "gate/durable_files.hpp"
#include "gate/finding_summary.hpp"
#include "gate/names.hpp"
#include "handler/sealed_box.hpp"
#include "io/private_process.hpp"
#include "io/staged_file.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

using json = nlohmann::ordered_json;

json with(json base, const json& more) {
  for (const auto& [k, v] : more.items()) base[k] = v;
  return base;
}

// The crashed process waits until the handler lets go of the pipe (with core_pipe_limit set, the
// kernel waits for exactly that): the input becomes /dev/null as soon as the core is read.
void release_input(int input) {
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, input);
    close(null);
  } else {
    close(input);
  }
}

// Handlers started together (core_pipe_limit of them) each hold at most memory-cap bytes while
// they read; the scan needs the whole core mapped, so they take turns for it.
Result<UniqueFd> take_scan_turn(const std::string& work) {
  UniqueFd lock(open((work + "/scan.lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (lock.get() < 0) return os_error(fmt::format("cannot open {}/scan.lock", work));
  while (flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return os_error(fmt::format("cannot lock {}/scan.lock", work));
  }
  return lock;
}

bool starts_like_elf(int fd) {
  unsigned char magic[4] = {};
  return pread(fd, magic, 4, 0) == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// What the next handler did with the redacted core: "exit N" or "signal N", or "timeout".
std::string run_next_handler(const std::vector<std::string>& argv, int core_fd, int pidfd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t child = fork();
  if (child < 0) return fmt::format("fork failed: {}", std::strerror(errno));
  if (child == 0) {
    // The redacted core on standard input, from its start; the kernel's pidfd stays open for it.
    if (dup2(core_fd, STDIN_FILENO) < 0 || lseek(STDIN_FILENO, 0, SEEK_SET) != 0) _exit(126);
    if (pidfd >= 0) fcntl(pidfd, F_SETFD, 0);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    execv(args[0], args.data());
    _exit(127);
  }
  // A next handler that never ends would hold the handler (never the crashed process) for ever.
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      return WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                               : fmt::format("signal {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    if (done < 0 && errno != EINTR) return fmt::format("waitpid failed: {}", std::strerror(errno));
    if (std::chrono::steady_clock::now() > until) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return "timeout (killed after 10 minutes)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

class CoreRun {
 public:
  CoreRun(const CoreHandlerOptions& o, const CrashInfo& crash, const CoreSpool* spool, AuditTrail& audit,
          const HandlerMessages& say)
      : o_(o), crash_(crash), spool_(spool), audit_(audit), say_(say), name_(stored_core_name(crash)) {
    base_ = {{"core", name_},
             {"pid", crash.pid},
             {"uid", crash.uid},
             {"gid", crash.gid},
             {"signal", crash.signal},
             {"time", crash.time},
             {"comm", printable(crash.comm)},
             {"exe", printable(crash.exe)},
             {"host", printable(crash.host)},
             {"rlimit", crash.core_limit},
             {"dump_mode", crash.dump_mode},
             {"handler_pid", static_cast<long>(getpid())}};
    if (spool != nullptr) {
      base_["received"] = {{"size", spool->size()},
                           {"sha256", spool->sha256()},
                           {"spilled", spool->spilled()},
                           {"end", to_string(spool->end())}};
    }
  }

  // Sealed to the quarantine key, or dropped, as the policy says; the record says which and why.
  Status set_aside(const std::string& reason, const std::string& message, bool quarantine) {
    std::string why_dropped = "the policy drops such cores";
    if (quarantine && o_.quarantine_key.empty()) why_dropped = "no quarantine-key is configured to seal it to";
    if (spool_ == nullptr) why_dropped = "nothing of it was kept";
    if (quarantine && !o_.quarantine_key.empty() && spool_ != nullptr) {
      auto sealed = seal();
      if (sealed) {
        DG_CHECK(audit_.record("core-quarantined", with(base_, {{"reason", reason},
                                                                 {"message", printable(message)},
                                                                 {"target", sealed->first->destination()},
                                                                 {"sealed", sealed->second}})));
        DG_CHECK(sealed->first->commit());
        sealed->first->settle();
        say_(fmt::format("{}: quarantined sealed to {} ({}: {})", name_, sealed->first->destination(), reason,
                         printable(message)));
        return ok_status();
      }
      why_dropped = fmt::format("sealing failed: {}", sealed.error().message);
    }
    DG_CHECK(audit_.record("core-dropped", with(base_, {{"reason", reason},
                                                         {"message", printable(message)},
                                                         {"why", printable(why_dropped)}})));
    say_(fmt::format("{}: dropped ({}: {}; {})", name_, reason, printable(message), why_dropped));
    return ok_status();
  }

  Status clean(const Dump& dump, const ScanReport& report) {
    json found = summarise_findings(report);
    const bool to_exec = !o_.exec.empty();
    const std::string compression = o_.compress && !to_exec ? "zstd" : "";
    const std::string file = name_ + (compression.empty() ? "" : ".zst");
    std::string dest;
    if (!o_.store.empty()) {
      DG_CHECK(make_private_dir(o_.store));
      dest = o_.store + "/" + file;
    } else if (!o_.inbox.empty()) {
      dest = o_.inbox + "/." + file;  // a dotfile the gate does not list, renamed in when complete
    } else {
      DG_CHECK(make_private_dir(o_.work));
      dest = o_.work + "/" + file;
    }
    Result<VerifiedCopy> copy = write_verified_copy(dump, report, RedactDestination{dest, false, compression}, o_.fill,
                                                    o_.scan, o_.open, layout_for_drops(o_.drop));
    if (!copy) {
      return set_aside(copy.error().code == Errc::io ? "write-failed" : "verification-failed", describe(copy.error()),
                       o_.quarantine_on_failure);
    }
    std::uint64_t overwritten = 0;
    for (const ByteRange& r : copy->outcome().overwritten) overwritten += r.size;
    json record = with(base_, {{"findings", found},
                               {"overwritten", {{"spans", copy->outcome().overwritten.size()}, {"bytes", overwritten}}},
                               {"output", {{"size", copy->outcome().output_size},
                                           {"sha256", copy->outcome().output_sha256},
                                           {"compression", copy->outcome().output_compression}}},
                               {"verification", "clean"}});
    if (!o_.store.empty()) {
      DG_CHECK(audit_.record("core-released", with(record, {{"to", "store"}, {"target", dest}})));
      DG_CHECK(put_in_place(*copy, dest));
      copy->settle();
      set_xattrs(dest);
      say_(fmt::format("{}: stored redacted at {} ({} findings)", name_, dest, report.findings.size()));
      return ok_status();
    }
    if (!o_.inbox.empty()) {
      const std::string target = o_.inbox + "/" + file;
      DG_CHECK(audit_.record("core-released", with(record, {{"to", "inbox"}, {"target", target}})));
      DG_CHECK(put_in_place(*copy, dest));
      copy->settle();
      DG_TRY(const RenameResult renamed, rename_no_replace(AT_FDCWD, dest, AT_FDCWD, target));
      if (renamed != RenameResult::done) {
        unlink(dest.c_str());
        return not_put(dest, Error{Errc::io, 0, fmt::format("cannot rename {} to {}", dest, target)});
      }
      DG_CHECK(fsync_at(AT_FDCWD, o_.inbox));
      say_(fmt::format("{}: handed redacted to the inbox as {}", name_, target));
      return ok_status();
    }
    if (o_.queue.submit) {
      DG_CHECK(audit_.record("core-released", with(record, {{"to", "queue"}, {"target", o_.queue.where}})));
      DG_CHECK(put_in_place(*copy, dest));
      copy->settle();
      // The staged copy goes whatever happens: the shared store holds the queued one.
      Result<std::string> queued = o_.queue.submit(dest);
      unlink(dest.c_str());
      if (!queued) return not_put(o_.queue.where, queued.error());
      say_(fmt::format("{}: queued redacted for the cluster's workers as {}", name_, *queued));
      return ok_status();
    }
    std::vector<std::string> argv;
    for (const std::string& word : o_.exec) argv.push_back(argv.empty() ? word : substitute_specifiers(word, crash_));
    if (argv.size() == 1) {
      // Only the program: it gets the arguments the kernel gave this handler, as they came.
      for (std::size_t i = 0; i < kSpecifierCount; ++i) argv.push_back(crash_.given.at(kSpecifierOrder[i]));
      if (const auto f = crash_.given.find('F'); f != crash_.given.end()) argv.push_back(f->second);
    }
    DG_CHECK(audit_.record("core-released", with(record, {{"to", "exec"}, {"target", argv.front()}})));
    DG_CHECK(put_in_place(*copy, dest));
    UniqueFd core(open(dest.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    unlink(dest.c_str());  // the descriptor is all the next handler needs; nothing stays behind
    copy->settle();
    if (core.get() < 0) return os_error(fmt::format("cannot open {}", dest));
    const std::string status = run_next_handler(argv, core.get(), crash_.pidfd);
    DG_CHECK(audit_.record("core-next-handler", {{"core", name_}, {"exec", printable(argv.front())}, {"status", status}}));
    say_(fmt::format("{}: fed redacted to {} ({})", name_, printable(argv.front()), status));
    return ok_status();
  }

 private:
  // The record said "released" before the copy was put in place (nothing goes anywhere
  // unaudited); when putting it there fails, a second record says the core went nowhere.
  Status put_in_place(VerifiedCopy& copy, const std::string& dest) {
    if (Status committed = copy.commit(); !committed) return not_put(dest, committed.error());
    return ok_status();
  }
  Status not_put(const std::string& dest, const Error& why) {
    DG_CHECK(audit_.record("core-dropped", with(base_, {{"reason", "write-failed"},
                                                         {"message", printable(describe(why))},
                                                         {"why", printable(fmt::format("{} could not be put in place", dest))}})));
    return why;
  }

  Result<std::pair<std::unique_ptr<StagedFile>, json>> seal() {
    DG_CHECK(make_private_dir(o_.quarantine));
    DG_TRY(StagedFile staged, StagedFile::create(o_.quarantine + "/" + name_ + ".sealed"));
    auto file = std::make_unique<StagedFile>(std::move(staged));
    Sha256Stream hash;
    std::uint64_t size = 0;
    DG_TRY(SealedBoxWriter box, SealedBoxWriter::open(o_.quarantine_key, [&](std::span<const std::byte> bytes) -> Status {
      hash.update(bytes);
      size += bytes.size();
      return file->write(bytes);
    }));
    DG_CHECK(spool_->for_each_piece([&](std::span<const std::byte> piece) { return box.write(piece); }));
    DG_CHECK(box.finish());
    DG_CHECK(file->finish_writing());
    return std::make_pair(std::move(file), json{{"size", size}, {"sha256", hash.finish()}});
  }

  // As systemd-coredump sets them, for tooling that reads them; a file system without user
  // xattrs keeps the core without them (the audit record holds the same facts).
  void set_xattrs(const std::string& path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return;
    for (const auto& [key, value] : coredump_xattrs(crash_)) {
      if (fsetxattr(fd.get(), key.c_str(), value.data(), value.size(), 0) != 0) {
        say_(fmt::format("{}: cannot set {}: {}", path, key, std::strerror(errno)));
        return;
      }
    }
  }

  const CoreHandlerOptions& o_;
  const CrashInfo& crash_;
  const CoreSpool* spool_;
  AuditTrail& audit_;
  const HandlerMessages& say_;
  std::string name_;
  json base_;
};

}  // namespace

ReceivedCore receive_core(const CoreHandlerOptions& o, const CrashInfo& crash, int input,
                          std::chrono::steady_clock::time_point started) {
  // Everything the handler makes is root's alone, and the handler itself (holding plaintext
  // cores) never dumps: the kernel gives it RLIMIT_CORE 1 against recursion, which this makes 0.
  make_process_private();

  // %c: the process's own RLIMIT_CORE. 0 asks for no core at all; a smaller limit than ours
  // truncates the core there, as systemd-coredump does.
  SpoolLimits limits;
  limits.memory_cap = o.memory_cap;
  limits.tmpdir = o.tmpdir;
  limits.deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(o.deadline));
  const bool unlimited = crash.core_limit == std::numeric_limits<std::uint64_t>::max();
  const bool process_limit = !unlimited && (o.max_size == 0 || crash.core_limit < o.max_size);
  limits.max_bytes = process_limit ? crash.core_limit : o.max_size;

  ReceivedCore received;
  if (crash.core_limit != 0) {
    Result<CoreSpool> spool = CoreSpool::receive(input, limits);
    if (spool) {
      received.spool.emplace(std::move(*spool));
      received.truncated_by_process = process_limit && received.spool->end() == SpoolEnd::limit;
    } else {
      received.error = spool.error();
    }
  }
  release_input(input);
  if (!o.pause_after_spool.empty() && received.spool) {
    (void)write_file_atomically(o.pause_after_spool, fmt::format("{}\n", getpid()));
    raise(SIGSTOP);
  }
  return received;
}

Status handle_core(const CoreHandlerOptions& o, const CrashInfo& crash, ReceivedCore& received,
                   const HandlerMessages& say) {
  std::optional<CoreSpool>& spool = received.spool;
  DG_TRY(AuditTrail audit, AuditTrail::open(o.audit, o.audit_key, o.checkpoint, o.audit_syslog));
  CoreRun run(o, crash, spool ? &*spool : nullptr, audit, say);
  if (crash.core_limit == 0) {
    return run.set_aside("core-limit-zero", "the process's RLIMIT_CORE (%c) is 0: it asked for no core", false);
  }
  if (!spool) {
    return run.set_aside("handler-error", received.error ? describe(*received.error) : std::string("not read"), false);
  }
  if (!received.setup_error.empty()) return run.set_aside("handler-error", received.setup_error, o.quarantine_on_failure);
  if (spool->end() == SpoolEnd::deadline) {
    return run.set_aside("deadline", fmt::format("the core was not read within the deadline of {} s ({} bytes read)",
                                                  o.deadline, spool->size()),
                         o.quarantine_on_deadline);
  }
  const bool truncated_by_process = received.truncated_by_process;
  if (spool->end() == SpoolEnd::limit && !truncated_by_process) {
    return run.set_aside("too-large", fmt::format("the core is larger than max-size ({} bytes)", o.max_size),
                         o.quarantine_on_failure);
  }
  if (spool->size() == 0) return run.set_aside("empty", "no bytes arrived on standard input", false);

  DG_TRY(const UniqueFd turn, take_scan_turn(o.work));
  Result<UniqueFd> memory = spool->into_memory();
  if (!memory) return run.set_aside("handler-error", describe(memory.error()), o.quarantine_on_failure);
  // The kernel writes ELF cores only. Anything else is not read at all: a compressed stream
  // would be decompressed to a temporary file, plaintext on a disk.
  if (!starts_like_elf(memory->get())) {
    return run.set_aside("not-an-elf-core", "standard input does not start with an ELF header", o.quarantine_on_failure);
  }
  const std::string label = fmt::format("core of pid {}", crash.pid);
  Result<Dump> dump = open_dump_fd(memory->release(), label, o.open);
  if (!dump) return run.set_aside("parse-error", describe(dump.error()), o.quarantine_on_failure);
  // A core cut at the process's own limit is what it asked for (systemd-coredump keeps those
  // too); its unparsed tail is scanned as raw bytes. Any other partial core is refused.
  if (!dump->model.complete && !truncated_by_process) {
    return run.set_aside("partial-parse",
                         dump->model.warnings.empty() ? std::string("partly parsed") : dump->model.warnings.front().message,
                         o.quarantine_on_failure);
  }
  Result<ScanReport> report = scan_for_redaction(*dump, o.scan, o.drop);
  if (!report) return run.set_aside("scan-failed", describe(report.error()), o.quarantine_on_failure);
  if (!report->limits.empty()) {
    return run.set_aside("scan-limits",
                         fmt::format("a hunt stopped short, so the core cannot be proven clean ({}: {})",
                                     report->limits.front().detector, report->limits.front().what),
                         o.quarantine_on_failure);
  }
  return run.clean(*dump, *report);
}

}  // namespace dumpguard
