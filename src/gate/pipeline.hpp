// The gate's steps for one dump: received -> claimed -> findings -> redacted -> released, or
// quarantined at the first step that fails. Each step is an audit record with the SHA-256 and
// size of its input and output; findings are summarised by kind and key fingerprint.
//
// Crash safety rests on the files of the instance's work directory, each changed by one atomic
// rename (docs/commands/gate.md):
//   claims/NAME    the claimed dump, as renamed from the inbox
//   out/NAME/      what is being made: the redacted copy NAME, or the quarantine package (the
//                  original NAME, mode 0600, and NAME.reason.json)
//   decided/NAME   the decision, written once the outcome is known and before anything is
//                  published: {outcome, target, audited, event, record}
// On restart, a decided dump is finished where it stopped (each step's file says whether it
// happened: a renamed file is no longer where it was), and an undecided one is processed again
// from its claim. Release happens only from a decision, and a decision to release is written
// only after redact_dump's verification scan found the copy clean.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/trail.hpp"
#include "gate/gate.hpp"
#include "gate/store.hpp"

namespace dumpguard {

// An instance's work directories.
struct WorkDirs {
  std::string instance;  // the instance whose claims these are
  std::string claims;
  std::string out;
  std::string decided;
};
WorkDirs work_dirs_of(const std::string& instance_dir, const std::string& instance);

class Pipeline {
 public:
  Pipeline(const GateOptions& options, std::string own_id, DumpStore& inbox, DumpStore& release,
           DumpStore& quarantine, AuditTrail& audit, std::string refused_dir, GateMessages say);

  // Claims the inbox entry `name` into `own` and takes it through every step. false: another gate
  // claimed it first, or it is still open for writing (it went back to the inbox).
  Result<bool> take(const WorkDirs& own, const std::string& name);
  // Moves a refused inbox entry aside into the refused directory, without opening it.
  Status refuse(const std::string& name, const std::string& why);
  // Finishes decided dumps and processes the claims of this instance left by an earlier run.
  Status recover_own(const WorkDirs& own);
  // For a dead instance (its lock held by the caller): decided dumps are finished, undecided
  // claims go back to the inbox.
  Status recover_stale(const WorkDirs& stale);
  // A name given back because a writer still had it open: not to be claimed again yet.
  bool resting(const std::string& name) const;

  // Errors of the gate's own (an audit record that cannot be written, a rename that fails) are
  // returned; problems with a dump never are: they quarantine it.
 private:
  struct Quarantine {
    std::string reason;   // parse-error, partial-parse, too-large, format, scan-limits, policy,
                          // verification-failed, redaction-failed, unreadable, internal-error
    std::string message;
    std::vector<std::uint64_t> offsets;
    nlohmann::ordered_json findings;  // the summary, when the scan ran
  };
  struct Input {
    std::uint64_t size = 0;
    std::string sha256;
  };

  Status process(const WorkDirs& w, const std::string& name, bool resumed);
  Status judge(const WorkDirs& w, const std::string& name, int fd, const Input& input, nlohmann::ordered_json base);
  Status decide_quarantine(const WorkDirs& w, const std::string& name, const Input& input,
                           nlohmann::ordered_json base, const Quarantine& q);
  Status finish(const WorkDirs& w, const std::string& name, bool resumed);
  Result<std::string> decision_problem(const WorkDirs& w, const std::string& name, const nlohmann::ordered_json& d,
                                       bool resumed);
  Status set_aside(const std::string& from_store_or_path, const std::string& name, const std::string& why,
                   nlohmann::ordered_json base, bool from_inbox);
  Status give_back(const WorkDirs& w, const std::string& name, const std::string& why);
  Status record(const std::string& event, nlohmann::ordered_json data);

  const GateOptions& options_;
  std::string own_id_;
  DumpStore& inbox_;
  DumpStore& release_;
  DumpStore& quarantine_;
  AuditTrail& audit_;
  std::string refused_dir_;
  GateMessages say_;
  std::map<std::string, std::chrono::steady_clock::time_point> resting_;
};

}  // namespace dumpguard
