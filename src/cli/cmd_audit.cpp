// `dumpguard audit verify|show|rotate|keygen`: the audit log's commands. verify and show check
// the chain and signatures of one or more files (rotated files oldest first) and name the first
// broken record: exit 0 sound, 1 broken, 2 error (a file or key cannot be read). rotate seals
// the live file and opens the next; keygen makes a key file that it never overwrites.
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "audit/chain.hpp"
#include "audit/key.hpp"
#include "audit/log.hpp"
#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"
#include "report/audit_history.hpp"

namespace dumpguard::cli {

namespace {

void report(const Error& e) { print_stderr("dumpguard: {}\n", e.message); }

// Key files for checking. A secret key that others may read is used, with a warning: the harm
// is done, and refusing would not let anyone verify.
std::optional<std::vector<AuditKey>> load_keys_for_checking(const std::vector<std::string>& paths) {
  std::vector<AuditKey> keys;
  for (const auto& path : paths) {
    auto loaded = load_audit_key(path);
    if (!loaded) {
      report(loaded.error());
      return std::nullopt;
    }
    if (loaded->loose_mode) {
      print_stderr("dumpguard: warning: audit key {} is a secret that group or others may read; chmod 600 it\n", path);
    }
    keys.push_back(std::move(loaded->key));
  }
  return keys;
}

// A key that signs: its file must be the owner's alone, like an SSH private key.
std::optional<AuditKey> load_signing_key(const std::string& path) {
  auto loaded = load_audit_key(path);
  if (!loaded) {
    report(loaded.error());
    return std::nullopt;
  }
  if (!loaded->key.can_sign()) {
    print_stderr("dumpguard: audit key {}: an Ed25519 public key cannot sign; give the private key\n", path);
    return std::nullopt;
  }
  if (loaded->loose_mode) {
    print_stderr("dumpguard: audit key {}: group or others may read it; chmod 600 it\n", path);
    return std::nullopt;
  }
  return std::move(loaded->key);
}

// The files to read, oldest first: as given, or found by following opened records back. A
// named file that is missing is a broken chain (printed, returns nothing with *broken set).
std::optional<std::vector<AuditFile>> read_files(const std::vector<std::string>& logs, bool chain, bool* broken) {
  std::vector<std::string> paths = logs;
  if (chain) {
    if (logs.size() != 1) {
      print_stderr("dumpguard: --chain takes one log, the live file: its rotated files are found from it\n");
      return std::nullopt;
    }
    auto found = find_audit_chain(logs.front());
    if (!found) {
      report(found.error());
      return std::nullopt;
    }
    if (found->missing) {
      fmt::print("NOT verified: {} record 1 is broken: {}\n", found->paths.front(), *found->missing);
      *broken = true;
      return std::nullopt;
    }
    paths = found->paths;
  }
  std::vector<AuditFile> files;
  for (const auto& path : paths) {
    auto text = read_audit_file(path);
    if (!text) {
      report(text.error());
      return std::nullopt;
    }
    files.push_back(AuditFile{path, std::move(*text)});
  }
  return files;
}

std::optional<AuditChainOptions> chain_options(const std::string& checkpoint, const std::string& expect_head,
                                               const std::string& continues) {
  AuditChainOptions options;
  if (!continues.empty()) options.opening_prev = continues;
  if (!expect_head.empty()) options.expect_head = expect_head;
  if (!checkpoint.empty()) {
    auto cp = read_audit_checkpoint(checkpoint);
    if (!cp) {
      report(cp.error());
      return std::nullopt;
    }
    options.expect_head = cp->first;
    options.expect_records = cp->second;
  }
  return options;
}

std::vector<const AuditKey*> pointers(const std::vector<AuditKey>& keys) {
  std::vector<const AuditKey*> out;
  for (const auto& k : keys) out.push_back(&k);
  return out;
}

// Writes a new file of `mode` that must not exist: a temporary file beside it, fsync, then
// link(2), which fails rather than replace an existing file.
Status write_new_file(const std::string& path, std::string_view content, mode_t mode) {
  std::string temp = path + ".XXXXXX";
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) return os_error(fmt::format("cannot create a file beside {}", path));
  const auto fail = [&](const std::string& what) {
    Error e = os_error(what);
    ::unlink(temp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(fmt::format("cannot set the mode of {}", temp));
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(fmt::format("cannot write {}", temp));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(fmt::format("cannot fsync {}", temp));
  if (::link(temp.c_str(), path.c_str()) != 0) {
    const bool exists = errno == EEXIST;
    Error e = fail(fmt::format("cannot write {}", path));
    if (exists) e.message = fmt::format("{} exists; refusing to overwrite a key", path);
    return e;
  }
  ::unlink(temp.c_str());
  const auto slash = path.rfind('/');
  const std::string dir_path = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd dir(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return ok_status();
}

}  // namespace

int run_audit_verify(const AuditVerifyOptions& options) {
  auto keys = load_keys_for_checking(options.keys);
  if (!keys) return kExitError;
  if (options.logs.empty() == options.nats.url.empty() || (options.chain && !options.nats.url.empty())) {
    print_stderr("dumpguard: audit verify: give the log's files, or --nats URL (without --chain) for the cluster's "
                 "audit stream\n");
    return kExitError;
  }
  bool broken = false;
  std::optional<std::vector<AuditFile>> files;
  if (!options.nats.url.empty()) {
    // The stream is one log: its records, oldest first, are what `audit export` writes.
    auto text = read_cluster_audit(options.nats, "dumpguard audit verify");
    if (!text) return kExitError;
    files.emplace().push_back(AuditFile{fmt::format("the audit stream on {}", printable_url(options.nats.url)), std::move(*text)});
  } else {
    files = read_files(options.logs, options.chain, &broken);
  }
  if (!files) return broken ? kExitFindings : kExitError;
  auto chain = chain_options(options.checkpoint, options.expect_head, options.continues);
  if (!chain) return kExitError;
  const auto key_ptrs = pointers(*keys);
  const AuditVerdict v = verify_audit_files(*files, key_ptrs, *chain);
  const std::string name = files->size() == 1 ? files->front().name
                                              : fmt::format("{} .. {} ({} files)", files->front().name,
                                                            files->back().name, files->size());
  if (!v.ok) {
    fmt::print("{}: record {} is broken: {} ({} records before it are sound)\n", v.file, *v.broken, v.problem, v.records);
    return kExitFindings;
  }
  const bool anchored = chain->expect_head.has_value();
  if (!anchored) {
    // Nothing ties the end of the chain to anything: a log cut short, or emptied with its
    // checkpoint deleted, verifies the same. Not "sound": said on both streams.
    fmt::print("{}: UNANCHORED: {} records, chain and signatures verified, but nothing anchors where the log ends: "
               "records cut from the end, or the whole log emptied, would not show (give --checkpoint or "
               "--expect-head); head {}\n",
               name, v.records, v.head);
    print_stderr("dumpguard: warning: {}: unanchored: without --checkpoint or --expect-head, verify cannot tell a log "
                 "cut short or emptied from a whole one\n",
                 name);
    return kExitOk;
  }
  fmt::print("{}: sound: {} records, chain and signatures verified, and it ends where the {} says; head {}\n", name,
             v.records, options.checkpoint.empty() ? "expected head" : "checkpoint", v.head);
  if (!v.note.empty()) fmt::print("{}: note: {}\n", name, v.note);
  return kExitOk;
}

int run_audit_show(const AuditShowOptions& options) {
  auto keys = load_keys_for_checking(options.keys);
  if (!keys) return kExitError;
  AuditFilter filter;
  filter.dump = options.dump;
  filter.key_fingerprint = options.key_fingerprint;
  filter.events = options.events;
  filter.user = options.user;
  for (auto [text, out] : {std::pair{&options.since, &filter.since}, std::pair{&options.until, &filter.until}}) {
    if (text->empty()) continue;
    auto t = parse_iso8601_utc(*text);
    if (!t) {
      report(t.error());
      return kExitError;
    }
    *out = *t;
  }
  bool broken = false;
  auto files = read_files(options.logs, options.chain, &broken);
  if (!files) return broken ? kExitFindings : kExitError;
  auto chain = chain_options(options.checkpoint, {}, {});
  if (!chain) return kExitError;
  std::vector<AuditShown> all;
  const auto key_ptrs = pointers(*keys);
  const AuditVerdict v = verify_audit_files(*files, key_ptrs, *chain, [&](const AuditEntry& e) {
    all.push_back(AuditShown{*e.file, e.line, *e.record, std::string(e.key_id), e.sound});
  });
  const auto picked = pick_audit_records(all, filter);
  const bool anchored = chain->expect_head.has_value();
  if (options.json) {
    fmt::print("{}\n", audit_history_json(picked, v, files->size(), anchored)
                           .dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
  } else {
    bool marked = false;
    for (const AuditShown* s : picked) {
      if (!s->sound && !marked) {
        fmt::print("-- {} record {} is broken; what follows is not verified --\n", v.file, v.broken.value_or(0));
        marked = true;
      }
      fmt::print("{}\n", audit_record_line(*s));
    }
    fmt::print("{}\n", audit_verdict_line(v, files->size(), anchored));
  }
  if (v.ok && !anchored) {
    print_stderr("dumpguard: warning: unanchored: without --checkpoint, a log cut short or emptied shows the same\n");
  }
  return v.ok ? kExitOk : kExitFindings;
}

int run_audit_rotate(const AuditRotateOptions& options) {
  auto key = load_signing_key(options.key);
  if (!key) return kExitError;
  std::optional<AuditKey> next;
  if (!options.new_key.empty()) {
    next = load_signing_key(options.new_key);
    if (!next) return kExitError;
  }
  AuditLogOptions log_options;
  log_options.checkpoint = options.checkpoint;
  auto log = AuditLog::open(options.log, std::move(*key), log_options);
  if (!log && log.error().code == Errc::unsupported && next) {
    // A rotation to the new key was interrupted after the seal: opening with that key finishes it.
    const std::string id = next->id();
    auto finished = AuditLog::open(options.log, std::move(*next), log_options);
    if (!finished) {
      report(finished.error());
      return kExitError;
    }
    fmt::print("{}: finished the interrupted rotation; the log continues with key {}; head {}\n", options.log, id,
               finished->head());
    return kExitOk;
  }
  if (!log) {
    report(log.error());
    return kExitError;
  }
  if (const auto& done = log->finished_rotation()) {
    // A crashed rotation was finished on open: that was the rotation asked for.
    fmt::print("{}: finished an interrupted rotation: sealed as {} ({} records, head {}); {} opened continuing it\n",
               options.log, done->sealed_as, done->records, done->head, options.log);
    return kExitOk;
  }
  auto rotation = log->rotate(std::move(next));
  if (!rotation) {
    report(rotation.error());
    return kExitError;
  }
  fmt::print("{}: sealed as {} ({} records, head {}); {} opened continuing it, signed with {} key {}\n", options.log,
             rotation->sealed_as, rotation->records, rotation->head, options.log, to_string(log->key().alg()),
             log->key().id());
  return kExitOk;
}

int run_audit_keygen(const AuditKeygenOptions& options) {
  const std::string pub = options.output + ".pub";
  struct stat st {};
  for (const std::string& path : options.ed25519 ? std::vector{options.output, pub} : std::vector{options.output}) {
    if (::lstat(path.c_str(), &st) == 0) {
      print_stderr("dumpguard: {} exists; refusing to overwrite a key\n", path);
      return kExitError;
    }
  }
  auto key = AuditKey::generate(options.ed25519 ? AuditAlg::ed25519 : AuditAlg::hmac_sha256);
  if (!key) {
    report(key.error());
    return kExitError;
  }
  auto secret = key->private_file();
  if (!secret) {
    report(secret.error());
    return kExitError;
  }
  const Status written = write_new_file(options.output, *secret, 0600);
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!written) {
    report(written.error());
    return kExitError;
  }
  if (options.ed25519) {
    auto public_text = key->public_file();
    const Status pub_written = public_text ? write_new_file(pub, *public_text, 0644) : Status(public_text.error());
    if (!pub_written) {
      report(pub_written.error());
      ::unlink(options.output.c_str());  // ours, just made: no half pair is left
      return kExitError;
    }
    fmt::print("{}: an Ed25519 private key (mode 0600); {}: its public key, all a verifier needs; key id {}\n",
               options.output, pub, key->id());
  } else {
    fmt::print("{}: an HMAC-SHA256 key, 32 random bytes (mode 0600); verifiers need this file too; key id {}\n",
               options.output, key->id());
  }
  return kExitOk;
}

}  // namespace dumpguard::cli
