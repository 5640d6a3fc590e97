#include "gate/pipeline.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <fmt/format.h>
#include <memory>
#include <set>

#include "crypto/digest.hpp"
#include "dumpguard/mapped_file.hpp"
#include "gate/directory_store.hpp"
#include "gate/durable_files.hpp"
#include "gate/finding_summary.hpp"
#include "gate/names.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

using json = nlohmann::ordered_json;

bool present(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

json with(json base, const json& more) {
  for (const auto& [k, v] : more.items()) base[k] = v;
  return base;
}

// SHA-256 of the stored file, read through a private mapping in windows that are dropped as
// soon as they are hashed: no copy of the bytes, and a large dump does not stay resident.
Result<std::pair<std::uint64_t, std::string>> hash_stored(int fd) {
  const int copy = dup(fd);
  if (copy < 0) return os_error("cannot duplicate a descriptor");
  DG_TRY(MappedFile mapped, MappedFile::adopt(copy));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const std::span<const std::byte> bytes = mapped.bytes();
  constexpr std::size_t kWindow = 64u << 20;
  for (std::size_t at = 0; at < bytes.size(); at += kWindow) {
    const std::size_t n = std::min(kWindow, bytes.size() - at);
    EVP_DigestUpdate(ctx.get(), bytes.data() + at, n);
    madvise(const_cast<std::byte*>(bytes.data() + at), n, MADV_DONTNEED);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return std::make_pair(static_cast<std::uint64_t>(bytes.size()), hex(std::span<const std::uint8_t>(out, len)));
}

Status fresh_dir(const std::string& path) {
  DG_CHECK(remove_tree(path));
  if (mkdir(path.c_str(), 0700) != 0) return os_error(fmt::format("cannot create {}", path));
  return ok_status();
}

// The first of NAME, NAME.1, NAME.2, ... that `taken` says is free.
template <class Taken>
Result<std::string> free_name(const std::string& name, Taken taken) {
  for (int k = 0; k < 10000; ++k) {
    std::string candidate = k == 0 ? name : fmt::format("{}.{}", name, k);
    if (!taken(candidate)) return candidate;
  }
  return Error{Errc::limit, 0, fmt::format("no free name for {}: 10000 taken", name)};
}

json input_json(std::uint64_t size, const std::string& sha256) { return {{"size", size}, {"sha256", sha256}}; }

Result<json> read_decision(const std::string& path) {
  std::string text(1u << 20, '\0');
  DG_TRY(const std::size_t got, read_file_into(path, text));
  text.resize(got);
  auto d = json::parse(text, nullptr, false);
  if (d.is_discarded() || !d.is_object() || !d.contains("dump") || !d.contains("outcome") || !d.contains("target") ||
      !d.contains("audited") || !d.contains("event") || !d.contains("record")) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not a gate decision", path)};
  }
  return d;
}

// The fields the gate itself writes into a decision's record: anything else was put there by
// someone else, and the gate would sign it into the log.
bool only_gate_fields(const json& record, bool release) {
  static const std::set<std::string> released = {"dump", "instance", "by", "resumed", "target", "input", "output",
                                                 "retarget"};
  static const std::set<std::string> quarantined = {"dump", "instance", "by", "resumed", "target", "input", "output",
                                                    "retarget", "reason", "message", "offsets", "reason_file"};
  const std::set<std::string>& allowed = release ? released : quarantined;
  for (const auto& [k, v] : record.items()) {
    if (allowed.count(k) == 0) return false;
  }
  return true;
}

// A string member, or "" when it is missing or not a string (a decision or record read back is
// checked, never trusted to have the gate's form).
template <class J>
std::string string_at(const J& holder, const char* field) {
  return holder.is_object() && holder.contains(field) && holder[field].is_string() ? holder[field].template get<std::string>()
                                                                                    : std::string();
}

template <class J>
std::string sha256_field(const J& holder, const char* field) {
  if (!holder.is_object() || !holder.contains(field)) return "";
  return string_at(holder[field], "sha256");
}

// Makes the claimed original the quarantine package's copy, mode 0600. It is renamed when the
// gate may chmod it; a file another user owns (the gate runs without CAP_FOWNER) is copied into
// a file of the gate's own instead, and the claim removed.
Status move_original(const std::string& claim, const std::string& to) {
  UniqueFd fd(open(claim.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return os_error(fmt::format("cannot open {}", claim));
  if (fchmod(fd.get(), 0600) == 0) {
    if (fsync(fd.get()) != 0) return os_error(fmt::format("cannot fsync {}", claim));
    if (rename(claim.c_str(), to.c_str()) != 0) return os_error(fmt::format("cannot move {} to {}", claim, to));
  } else {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return os_error(fmt::format("cannot stat {}", claim));
    unlink(to.c_str());  // an interrupted copy
    UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.get() < 0) return os_error(fmt::format("cannot create {}", to));
    for (off_t done = 0; done < st.st_size;) {
      const ssize_t n = sendfile(out.get(), fd.get(), &done, static_cast<std::size_t>(st.st_size - done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return os_error(fmt::format("cannot copy {} to {}", claim, to));
    }
    if (fsync(out.get()) != 0) return os_error(fmt::format("cannot fsync {}", to));
    if (unlink(claim.c_str()) != 0) return os_error(fmt::format("cannot remove {}", claim));
  }
  DG_CHECK(fsync_at(AT_FDCWD, parent_of(to)));
  return fsync_at(AT_FDCWD, parent_of(claim));
}

}  // namespace

WorkDirs work_dirs_of(const std::string& instance_dir, const std::string& instance) {
  return {instance, instance_dir + "/claims", instance_dir + "/out", instance_dir + "/decided"};
}

Pipeline::Pipeline(const GateOptions& options, std::string own_id, DumpStore& inbox, DumpStore& release,
                   DumpStore& quarantine, AuditTrail& audit, std::string refused_dir, GateMessages say)
    : options_(options),
      own_id_(std::move(own_id)),
      inbox_(inbox),
      release_(release),
      quarantine_(quarantine),
      audit_(audit),
      refused_dir_(std::move(refused_dir)),
      say_(std::move(say)) {}

Status Pipeline::record(const std::string& event, json data) { return audit_.record(event, std::move(data)); }

bool Pipeline::resting(const std::string& name) const {
  const auto it = resting_.find(name);
  return it != resting_.end() && std::chrono::steady_clock::now() < it->second;
}

Result<bool> Pipeline::take(const WorkDirs& own, const std::string& name) {
  DG_TRY(const bool claimed, inbox_.claim(name, own.claims + "/" + name));
  if (!claimed) return false;
  DG_CHECK(process(own, name, false));
  return true;
}

Status Pipeline::refuse(const std::string& name, const std::string& why) {
  return set_aside(std::string(), name, why, json{{"dump", printable(name)}, {"instance", own_id_}}, true);
}

// Refused entries are moved, never opened, to WORK/refused/ (the gate's own directory, on the
// inbox's file system), so that they neither stay in the inbox nor reach the quarantine that
// people read; the audit record says what each was.
Status Pipeline::set_aside(const std::string& from, const std::string& name, const std::string& why, json base,
                           bool from_inbox) {
  // A name that cannot be printed is set aside under a printable one.
  const std::string safe = acceptable_name(name) ? name : "refused-entry";
  DG_TRY(const std::string dest_name, free_name(safe, [&](const std::string& n) { return present(refused_dir_ + "/" + n); }));
  const std::string dest = refused_dir_ + "/" + dest_name;
  if (from_inbox) {
    DG_TRY(const bool moved, inbox_.claim(name, dest));
    if (!moved) return ok_status();  // another gate set it aside, or it is gone
  } else {
    if (rename(from.c_str(), dest.c_str()) != 0) return os_error(fmt::format("cannot move {} to {}", from, dest));
    DG_CHECK(fsync_at(AT_FDCWD, refused_dir_));
  }
  DG_CHECK(record("refused", with(std::move(base), {{"why", why}, {"moved_to", dest}})));
  say_(fmt::format("{}: refused ({}); moved unopened to {}", printable(name), why, dest));
  return ok_status();
}

Status Pipeline::give_back(const WorkDirs& w, const std::string& name, const std::string& why) {
  DG_TRY(const std::string back, free_name(name, [&](const std::string& n) { return inbox_.exists(n); }));
  DG_TRY(const bool put, inbox_.put(w.claims + "/" + name, back));
  if (!put) return Error{Errc::io, 0, fmt::format("{}: cannot give it back to the inbox", name)};
  // It would be announced again at once: let it rest for a while before the next look.
  const double rest = std::max({options_.settle, options_.poll, 5.0});
  resting_[back] = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(rest * 1000));
  say_(fmt::format("{}: {}; back to the inbox as {}", name, why, back));
  return ok_status();
}

Status Pipeline::process(const WorkDirs& w, const std::string& name, bool resumed) {
  const std::string claim = w.claims + "/" + name;
  json base = {{"dump", name}, {"instance", w.instance}};
  if (w.instance != own_id_) base["by"] = own_id_;
  if (resumed) base["resumed"] = true;

  // What was claimed: nothing but a regular file with one link is opened. In the instance's own
  // 0700 directory nobody else can swap it any more, and the descriptor is checked against it.
  struct stat st {};
  if (lstat(claim.c_str(), &st) != 0) return errno == ENOENT ? ok_status() : os_error(fmt::format("cannot stat {}", claim));
  if (const std::string refusal = entry_refusal(st); !refusal.empty()) return set_aside(claim, name, refusal, base, false);
  UniqueFd fd(open(claim.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat opened {};
  if (fd.get() < 0 || fstat(fd.get(), &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev ||
      !entry_refusal(opened).empty()) {
    return set_aside(claim, name, "it changed between its check and its opening", base, false);
  }
  if (open_for_writing(fd.get())) return give_back(w, name, "still open for writing");

  auto stored = hash_stored(fd.get());
  const Input input = stored ? Input{stored->first, stored->second} : Input{static_cast<std::uint64_t>(opened.st_size), ""};
  DG_CHECK(record("received", with(base, {{"input", input_json(input.size, input.sha256)},
                                           {"uid", opened.st_uid},
                                           {"mtime", static_cast<std::int64_t>(opened.st_mtim.tv_sec)}})));
  DG_CHECK(record("claimed", with(base, {{"claim", claim}, {"input", input_json(input.size, input.sha256)}})));
  if (!stored) return decide_quarantine(w, name, input, base, {"unreadable", printable(stored.error().message), {}, {}});
  try {
    return judge(w, name, fd.get(), input, base);
  } catch (const std::exception& e) {
    // Fail closed: whatever went wrong with this dump, it is not released.
    return decide_quarantine(w, name, input, base, {"internal-error", printable(e.what()), {}, {}});
  }
}

Status Pipeline::judge(const WorkDirs& w, const std::string& name, int fd, const Input& input, json base) {
  const GatePolicy& policy = options_.policy;
  const auto quarantine = [&](Quarantine q) { return decide_quarantine(w, name, input, base, q); };
  if (auto too_large = refuse_by_size(policy, input.size)) return quarantine({"too-large", *too_large, {}, {}});

  OpenOptions open = options_.open;
  if (policy.max_size != 0 && (open.max_decompressed == 0 || open.max_decompressed > policy.max_size)) {
    open.max_decompressed = policy.max_size;  // a compressed dump may not grow past the limit either
  }
  const int copy = dup(fd);
  if (copy < 0) return os_error("cannot duplicate a descriptor");
  Result<Dump> dump = open_dump_fd(copy, w.claims + "/" + name, open);
  if (!dump) {
    const Error& e = dump.error();
    return quarantine({e.code == Errc::limit ? "too-large" : "parse-error", printable(describe(e)), {e.offset}, {}});
  }
  if (auto bad = refuse_by_format(policy, *dump)) return quarantine({"format", *bad, {}, {}});
  if (!dump->model.complete) {
    // A partly parsed dump is never released: its unparsed bytes were searched as
    // raw bytes only.
    std::vector<std::uint64_t> offsets;
    for (const Warning& warning : dump->model.warnings) offsets.push_back(warning.file_offset);
    const std::string first = dump->model.warnings.empty() ? "" : dump->model.warnings.front().message;
    return quarantine({"partial-parse",
                       printable(fmt::format("the dump was only partly parsed ({} problems; the first: {})",
                                             dump->model.warnings.size(), first)),
                       offsets,
                       {}});
  }

  Result<ScanReport> report = scan_for_redaction(*dump, options_.scan, policy.drop);
  if (!report) return quarantine({"internal-error", printable(report.error().message), {}, {}});
  const json summary = summarise_findings(*report);
  DG_CHECK(record("findings", with(base, {{"input", input_json(input.size, input.sha256)}, {"findings", summary}})));
  if (!report->limits.empty()) {
    return quarantine({"scan-limits",
                       printable(fmt::format("a hunt stopped short, so the dump cannot be proven clean ({}: {})",
                                             report->limits.front().detector, report->limits.front().what)),
                       {},
                       summary});
  }
  const PolicyVerdict verdict = apply_policy(policy, *report);
  if (verdict.quarantine) {
    std::vector<std::uint64_t> offsets;
    const std::set<std::string> kinds(verdict.kinds.begin(), verdict.kinds.end());
    const std::set<std::string> keys(verdict.keys.begin(), verdict.keys.end());
    for (const Finding& f : report->findings) {
      if ((kinds.count(f.kind) > 0 || keys.count(f.key) > 0) && offsets.size() < 256) offsets.push_back(f.file_offset);
    }
    return quarantine({"policy", verdict.message, offsets, summary});
  }

  const std::string package = w.out + "/" + name;
  DG_CHECK(fresh_dir(package));
  // The redacted copy is written and verified in the work directory, never in release: a copy
  // whose rescan finds anything is never renamed anywhere.
  Result<RedactOutcome> outcome = redact_dump(*dump, *report, RedactDestination{package + "/" + name, false, std::nullopt}, options_.fill,
                                              options_.scan, open, layout_for_drops(policy.drop));
  if (!outcome) {
    const Error& e = outcome.error();
    if (e.code == Errc::io) {
      // The operating system refused the gate's own write (a full disk, an I/O error in the work
      // directory): nothing about the dump. It goes back to the inbox unjudged and the gate stops
      // (exit 2), rather than quarantine it for good for a reason that is not its own.
      DG_CHECK(remove_tree(package));
      DG_TRY(const std::string back, free_name(name, [&](const std::string& n) { return inbox_.exists(n); }));
      DG_TRY(const bool put, inbox_.put(w.claims + "/" + name, back));
      if (!put) return Error{Errc::io, 0, fmt::format("{}: cannot give it back to the inbox", name)};
      DG_CHECK(record("returned", with(base, {{"by", own_id_},
                                              {"to", inbox_.where() + "/" + back},
                                              {"why", printable(fmt::format("the gate could not write the redacted "
                                                                            "copy: {}", describe(e)))}})));
      return Error{Errc::io, 0,
                   fmt::format("{}: cannot write the redacted copy in {} ({}); the dump is back in the inbox as {}",
                               name, package, describe(e), back)};
    }
    return quarantine({"verification-failed", printable(describe(e)), {e.offset}, summary});
  }
  const json output = input_json(outcome->output_size, outcome->output_sha256);
  std::uint64_t overwritten = 0;
  for (const ByteRange& r : outcome->overwritten) overwritten += r.size;
  DG_CHECK(record("redacted",
                  with(base, {{"input", input_json(input.size, input.sha256)},
                              {"read", input_json(dump->bytes().size(), outcome->input_sha256)},
                              {"output", output},
                              {"compression", outcome->output_compression},
                              {"overwritten", {{"spans", outcome->overwritten.size()}, {"bytes", overwritten}}},
                              {"findings", report->findings.size()},
                              {"keys", outcome->keys},
                              {"verification", "clean"}})));

  DG_TRY(const std::string target, free_name(name, [&](const std::string& n) { return release_.exists(n); }));
  const json decision = {{"dump", name},
                         {"outcome", "release"},
                         {"target", target},
                         {"audited", false},
                         {"event", "released"},
                         {"summary", fmt::format("{} findings in {} keys overwritten, verified clean",
                                                 report->findings.size(), outcome->keys)},
                         {"record", with(base, {{"target", release_.where() + "/" + target},
                                                {"input", input_json(input.size, input.sha256)},
                                                {"output", output}})}};
  DG_CHECK(write_file_atomically(w.decided + "/" + name, decision.dump() + "\n"));
  return finish(w, name, false);
}

Status Pipeline::decide_quarantine(const WorkDirs& w, const std::string& name, const Input& input, json base,
                                   const Quarantine& q) {
  const std::string package = w.out + "/" + name;
  DG_CHECK(fresh_dir(package));
  const json reason = {{"schema", "dumpguard-quarantine/1"},
                       {"dump", name},
                       {"reason", q.reason},
                       {"message", q.message},
                       {"offsets", q.offsets},
                       {"findings", q.findings.is_null() ? json() : q.findings},
                       {"input", input_json(input.size, input.sha256)},
                       {"instance", w.instance},
                       {"time", audit_time_now()}};
  const std::string reason_text = reason.dump(2) + "\n";
  // NAME.reason.json beside NAME: one dump per package, so the two names never collide.
  DG_CHECK(write_file_atomically(package + "/" + name + ".reason.json", reason_text));
  DG_TRY(const std::string target, free_name(name, [&](const std::string& n) { return quarantine_.exists(n); }));
  const auto reason_bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(reason_text.data()),
                                                          reason_text.size());
  const json decision = {
      {"dump", name},
      {"outcome", "quarantine"},
      {"target", target},
      {"audited", false},
      {"event", "quarantined"},
      {"summary", fmt::format("{}: {}", q.reason, q.message)},
      {"record", with(base, {{"target", quarantine_.where() + "/" + target},
                             {"reason", q.reason},
                             {"message", q.message},
                             {"offsets", q.offsets},
                             {"input", input_json(input.size, input.sha256)},
                             {"output", input_json(input.size, input.sha256)},
                             {"reason_file", input_json(reason_text.size(), hex(sha256(reason_bytes)))}})}};
  DG_CHECK(write_file_atomically(w.decided + "/" + name, decision.dump() + "\n"));
  return finish(w, name, false);
}

// Why a decision must not be carried out, or "" when it may. A decision is a file in the work
// directory; before it publishes anything the gate checks it against what it can vouch for: the
// target is a plain file name in the store, the record holds only what the gate writes, and for
// a release the copy about to be published is the one whose hash the decision and, on restart,
// a sound `redacted` record of the audit log (clean, same dump, same input and output) name.
Result<std::string> Pipeline::decision_problem(const WorkDirs& w, const std::string& name, const json& d, bool resumed) {
  const bool release = d["outcome"] == "release";
  if (!release && d["outcome"] != "quarantine") return std::string("its outcome is neither release nor quarantine");
  if (d["event"] != (release ? "released" : "quarantined")) return std::string("its event does not match its outcome");
  if (!d["target"].is_string() || !plain_file_name(d["target"].get<std::string>())) {
    return std::string("its target is not a plain file name");
  }
  if (!d["audited"].is_boolean()) return std::string("its audited flag is not true or false");
  const json& r = d["record"];
  DumpStore& store = release ? release_ : quarantine_;
  if (!r.is_object() || string_at(r, "dump") != name || string_at(r, "target") != store.where() + "/" + string_at(d, "target") ||
      !only_gate_fields(r, release)) {
    return std::string("its record names another dump or target, or holds fields the gate does not write");
  }
  if (!release) return std::string();
  const std::string output = sha256_field(r, "output");
  const std::string input = sha256_field(r, "input");
  if (output.empty() || input.empty()) return std::string("its record has no input or output hash");
  const std::string copy = w.out + "/" + name + "/" + name;
  if (present(copy)) {
    UniqueFd fd(open(copy.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return std::string("the copy to release is not a regular file");
    }
    DG_TRY(const auto stored, hash_stored(fd.get()));
    if (stored.second != output) return std::string("the copy to release is not the one the decision names (its SHA-256 differs)");
  }
  if (resumed) {
    DG_TRY(const auto redacted, audit_.find_sound("redacted", [&](const nlohmann::json& data) {
      return string_at(data, "dump") == name && string_at(data, "verification") == "clean" &&
             sha256_field(data, "output") == output && sha256_field(data, "input") == input;
    }));
    if (!redacted) {
      return std::string("the audit log holds no sound record of a clean redaction of this dump with this output");
    }
  }
  return std::string();
}

// Takes a decided dump the rest of the way. Every step is safe to repeat after kill -9: the
// record is appended unless the decision says it was (a crash between the append and that note
// repeats it, marked "resumed"), and a file that was renamed is simply no longer where it was.
Status Pipeline::finish(const WorkDirs& w, const std::string& name, bool resumed) {
  const std::string decision_path = w.decided + "/" + name;
  const std::string claim = w.claims + "/" + name;
  const std::string package = w.out + "/" + name;
  DG_TRY(json d, read_decision(decision_path));
  const bool release = d["outcome"] == "release";
  DumpStore& store = release ? release_ : quarantine_;
  DG_TRY(const std::string problem, decision_problem(w, name, d, resumed));
  if (!problem.empty()) {
    // Just written by this process, it can only be wrong if the work directory is not the gate's
    // alone after all: stop. Found on restart, it is not acted on: the dump, if its claim is still
    // there, is judged again from the start.
    if (!resumed) return Error{Errc::io, 0, fmt::format("{}: the decision just written does not hold: {}", name, problem)};
    DG_CHECK(record("rejected", {{"dump", printable(name)}, {"instance", w.instance}, {"why", problem}}));
    DG_CHECK(remove_tree(package));
    if (unlink(decision_path.c_str()) != 0 && errno != ENOENT) return os_error(fmt::format("cannot remove {}", decision_path));
    DG_CHECK(fsync_at(AT_FDCWD, w.decided));
    say_(fmt::format("{}: its decision was not acted on ({}); the claim, if any, is judged again", printable(name),
                     problem));
    return ok_status();
  }
  for (int attempt = 0;; ++attempt) {
    if (!d["audited"].get<bool>()) {
      // After a restart the record may have been appended before the crash: say so.
      DG_CHECK(record(d["event"].get<std::string>(), resumed ? with(d["record"], {{"resumed", true}}) : d["record"]));
      d["audited"] = true;
      DG_CHECK(write_file_atomically(decision_path, d.dump() + "\n"));
    }
    const std::string target = d["target"].get<std::string>();
    if (!release && present(claim)) {
      if (!present(package)) DG_CHECK(fresh_dir(package));
      DG_CHECK(move_original(claim, package + "/" + name));
    }
    const std::string from = release ? package + "/" + name : package;
    bool stored = true;
    if (present(from)) {
      DG_TRY(stored, store.put(from, target));
    }
    if (stored) break;
    // Another gate published the same name since the target was chosen: choose again, and
    // record where the dump really goes.
    if (attempt >= 100) return Error{Errc::io, 0, fmt::format("{}: no free name in {}", name, store.where())};
    DG_TRY(const std::string next, free_name(target, [&](const std::string& n) { return store.exists(n); }));
    d["target"] = next;
    d["record"]["target"] = store.where() + "/" + next;
    d["record"]["retarget"] = true;
    d["audited"] = false;
    DG_CHECK(write_file_atomically(decision_path, d.dump() + "\n"));
  }
  if (release) {
    // The unredacted original goes once its redacted copy is in place.
    if (unlink(claim.c_str()) != 0 && errno != ENOENT) return os_error(fmt::format("cannot remove {}", claim));
    DG_CHECK(fsync_at(AT_FDCWD, w.claims));
  }
  DG_CHECK(remove_tree(package));
  if (unlink(decision_path.c_str()) != 0 && errno != ENOENT) return os_error(fmt::format("cannot remove {}", decision_path));
  DG_CHECK(fsync_at(AT_FDCWD, w.decided));
  say_(fmt::format("{}: {} to {}/{} ({})", name, release ? "released" : "quarantined", store.where(),
                   d["target"].get<std::string>(), d.value("summary", "")));
  return ok_status();
}

Status Pipeline::recover_own(const WorkDirs& own) {
  for (const std::string& name : names_in(own.decided)) {
    const std::string path = own.decided + "/" + name;
    auto d = read_decision(path);
    // A temporary file of an interrupted atomic write (NAME.XXXXXX) names another dump.
    if (!d || (*d)["dump"] != name) {
      DG_CHECK(remove_tree(path));
      continue;
    }
    DG_CHECK(finish(own, name, true));
  }
  for (const std::string& name : names_in(own.claims)) DG_CHECK(process(own, name, true));
  for (const std::string& name : names_in(own.out)) {
    if (!present(own.claims + "/" + name) && !present(own.decided + "/" + name)) DG_CHECK(remove_tree(own.out + "/" + name));
  }
  return ok_status();
}

Status Pipeline::recover_stale(const WorkDirs& stale) {
  for (const std::string& name : names_in(stale.decided)) {
    auto d = read_decision(stale.decided + "/" + name);
    if (!d || (*d)["dump"] != name) {
      DG_CHECK(remove_tree(stale.decided + "/" + name));
      continue;
    }
    DG_CHECK(finish(stale, name, true));
  }
  for (const std::string& name : names_in(stale.claims)) {
    DG_TRY(const std::string back, free_name(name, [&](const std::string& n) { return inbox_.exists(n); }));
    DG_TRY(const bool put, inbox_.put(stale.claims + "/" + name, back));
    if (!put) return Error{Errc::io, 0, fmt::format("{}: cannot return it to the inbox", name)};
    DG_CHECK(record("returned", {{"dump", name},
                                 {"instance", stale.instance},
                                 {"by", own_id_},
                                 {"to", inbox_.where() + "/" + back},
                                 {"why", "its instance is gone: no process holds its lock and its lease expired"}}));
    say_(fmt::format("{}: returned to the inbox as {} (instance {} is gone)", name, back, stale.instance));
  }
  for (const std::string& name : names_in(stale.out)) DG_CHECK(remove_tree(stale.out + "/" + name));
  return ok_status();
}

}  // namespace dumpguard
