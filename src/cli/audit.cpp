// `dumpguard audit verify FILE --key FILE [--checkpoint FILE | --expect-head HASH]`: checks the
// audit log's chain and signatures and names the first broken record. Exit 0 sound, 1 broken,
// 2 error (the log or the key cannot be read).
#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "gate/audit_log.hpp"
#include "io/whole_file.hpp"

namespace dumpguard::cli {

namespace {
// The whole file: an audit log is read entirely to be verified. Capped so that a hostile file
// cannot size the allocation beyond it.
constexpr std::size_t kMaxLog = std::size_t{1} << 30;

Result<std::string> read_log(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{Errc::io, 0, fmt::format("cannot read audit log {}: {}", path, ec.message())};
  if (size > kMaxLog) return Error{Errc::limit, 0, fmt::format("{}: larger than 1 GiB; rotate the log", path)};
  std::string text(static_cast<std::size_t>(size) + 1, '\0');  // one more: a log that grew is read whole or refused
  DG_TRY(const std::size_t got, read_file_into(path, text));
  if (got > size) return Error{Errc::io, 0, fmt::format("{}: the log grew while it was read; verify again", path)};
  text.resize(got);
  return text;
}
}  // namespace

int run_audit_verify(const AuditVerifyOptions& options) {
  std::vector<std::uint8_t> key(65);
  auto key_size = read_file_into(options.key, {reinterpret_cast<char*>(key.data()), key.size()});
  if (!key_size || *key_size < 16 || *key_size > 64) {
    fmt::print(stderr, "dumpguard: {}: not an audit key (16 to 64 bytes)\n", options.key);
    return kExitError;
  }
  key.resize(*key_size);
  auto text = read_log(options.log);
  if (!text) {
    fmt::print(stderr, "dumpguard: {}\n", text.error().message);
    return kExitError;
  }
  std::optional<std::string> head = options.expect_head.empty() ? std::nullopt : std::optional(options.expect_head);
  std::optional<std::uint64_t> records;
  if (!options.checkpoint.empty()) {
    auto cp = read_audit_checkpoint(options.checkpoint);
    if (!cp) {
      fmt::print(stderr, "dumpguard: {}\n", cp.error().message);
      return kExitError;
    }
    head = cp->first;
    records = cp->second;
  }
  const std::string opening = options.continues.empty() ? std::string(kGenesisHash) : options.continues;
  const AuditVerdict v = verify_audit_log(*text, key, opening, head, records);
  if (!v.ok) {
    fmt::print("{}: record {} is broken: {} ({} records before it are sound)\n", options.log, *v.broken, v.problem,
               v.records);
    return kExitFindings;
  }
  fmt::print("{}: {} records, chain and signatures verified{}; head {}\n", options.log, v.records,
             head ? ", and it ends where the checkpoint says" : " (no checkpoint: records cut from the end would not show)",
             v.head);
  return kExitOk;
}

}  // namespace dumpguard::cli
