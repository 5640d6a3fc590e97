#include "audit/chain.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <set>

#include "crypto/digest.hpp"
#include "io/path_names.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kPrefix = "{\"record\":";
constexpr std::string_view kSigOpen = ",\"sig\":\"";
constexpr std::string_view kKeyOpen = ",\"key\":\"";
constexpr std::string_view kAlgOpen = ",\"alg\":\"";
constexpr std::size_t kKeyIdSize = 32;
// The whole file is read to be verified; capped so that a hostile file cannot size the
// allocation beyond it.
constexpr std::uint64_t kMaxLogFile = std::uint64_t{1} << 30;
// Files followed back by --chain: far more than any installation keeps, and a bound that does
// not come from the files.
constexpr std::size_t kMaxChainFiles = 1'000'000;
// How deep a record's JSON may nest: a gate record has three or four levels.
constexpr int kMaxRecordDepth = 64;

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

std::string alg_name(const AuditLine& line) {
  return std::string(to_string(line.alg.value_or(AuditAlg::hmac_sha256)));
}

std::string describe_key(std::string_view alg, std::string_view id) {
  return id.empty() ? fmt::format("{} (no key id: the first writer's form)", alg) : fmt::format("{} key {}", alg, id);
}


const nlohmann::json* member(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const nlohmann::json& object, const char* name) {
  const nlohmann::json* m = member(object, name);
  return m != nullptr && m->is_string() ? m->get<std::string>() : std::string();
}

}  // namespace

std::optional<AuditLine> parse_audit_line(std::string_view line) {
  if (line.size() < kPrefix.size() + 2 || line.substr(0, kPrefix.size()) != kPrefix || !ends_with(line, "\"}")) {
    return std::nullopt;
  }
  AuditLine out;
  std::string_view rest = line.substr(0, line.size() - 2);  // up to the signature's closing quote
  const auto sig_at = rest.rfind(kSigOpen);
  if (sig_at == std::string_view::npos) return std::nullopt;
  out.sig = rest.substr(sig_at + kSigOpen.size());
  rest = rest.substr(0, sig_at);
  // The record object ends with '}', so a "key" field before "sig" cannot be part of it.
  if (ends_with(rest, "\"")) {
    const auto key_at = rest.rfind(kKeyOpen);
    if (key_at == std::string_view::npos) return std::nullopt;
    out.key_id = rest.substr(key_at + kKeyOpen.size(), rest.size() - 1 - key_at - kKeyOpen.size());
    rest = rest.substr(0, key_at);
    const auto alg_at = rest.rfind(kAlgOpen);
    if (alg_at == std::string_view::npos || !ends_with(rest, "\"")) return std::nullopt;
    const std::string_view alg = rest.substr(alg_at + kAlgOpen.size(), rest.size() - 1 - alg_at - kAlgOpen.size());
    if (alg == "hmac-sha256") {
      out.alg = AuditAlg::hmac_sha256;
    } else if (alg == "ed25519") {
      out.alg = AuditAlg::ed25519;
    } else {
      return std::nullopt;
    }
    rest = rest.substr(0, alg_at);
    if (out.key_id.size() != kKeyIdSize || !is_lower_hex(out.key_id)) return std::nullopt;
  }
  out.record = rest.substr(kPrefix.size());
  const std::size_t sig_size = out.alg == AuditAlg::ed25519 ? 128 : 64;
  if (out.sig.size() != sig_size || !is_lower_hex(out.sig)) return std::nullopt;
  if (out.record.size() < 2 || out.record.front() != '{' || out.record.back() != '}') return std::nullopt;
  return out;
}

std::string audit_line_hash(std::string_view line) {
  return hex(sha256({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}));
}

std::optional<nlohmann::json> parse_audit_record(std::string_view record) {
  // Nesting is bounded before parsing: what reads records later (dump(), summaries) recurses.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxRecordDepth) return std::nullopt;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  auto j = nlohmann::json::parse(record, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const nlohmann::json* seq = member(j, "seq");
  const nlohmann::json* data = member(j, "data");
  const nlohmann::json* prev = member(j, "prev");
  if (seq == nullptr || !seq->is_number_unsigned() || data == nullptr || !data->is_object() || prev == nullptr ||
      !prev->is_string()) {
    return std::nullopt;
  }
  for (const char* name : {"time", "host", "version", "event"}) {
    const nlohmann::json* m = member(j, name);
    if (m == nullptr || !m->is_string()) return std::nullopt;
  }
  const auto& p = prev->get_ref<const std::string&>();
  if (p.size() != 64 || !is_lower_hex(p)) return std::nullopt;
  return j;
}

AuditVerdict verify_audit_files(const std::vector<AuditFile>& files, std::span<const AuditKey* const> keys,
                                const AuditChainOptions& options,
                                const std::function<void(const AuditEntry&)>& on_entry) {
  AuditVerdict v;
  v.head = options.opening_prev;
  v.signatures_checked = !keys.empty();
  bool broken = false;
  const auto fail = [&](const std::string& file, std::uint64_t line, std::string problem) {
    if (broken) return;
    broken = true;
    v.broken = line;
    v.file = file;
    v.problem = std::move(problem);
  };
  std::optional<std::uint64_t> last_seq;
  // The previous file's signing key (alg, id) and the key its seal named for the next file.
  std::string prev_alg, prev_key_id, announced_key;
  // Whether a line has named its algorithm yet, and the prev of the last sound record.
  bool named = false;
  std::string last_prev;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const AuditFile& file = files[f];
    const std::string& text = file.text;
    bool sealed = false;
    std::uint64_t file_records = 0;
    std::string file_alg, file_key_id;
    const AuditKey* file_key = nullptr;
    std::uint64_t n = 0;
    for (std::size_t at = 0; at < text.size(); ) {
      ++n;
      const std::size_t end = text.find('\n', at);
      if (end == std::string::npos) {
        fail(file.name, n, "cut short: the file does not end with a complete record");
        break;
      }
      const std::string_view line = std::string_view(text).substr(at, end - at);
      at = end + 1;
      const auto parts = parse_audit_line(line);
      std::optional<nlohmann::json> record;
      if (parts) record = parse_audit_record(parts->record);
      const auto entry = [&](bool sound) {
        if (on_entry && record) on_entry(AuditEntry{&file.name, n, &*record, parts->key_id, sound});
      };
      if (broken) {
        entry(false);
        continue;
      }
      if (!parts) {
        fail(file.name, n, "not in the log's form");
        continue;
      }
      // The first writer's form (no alg, no key id) is history only: after a line that named
      // its algorithm, one without is someone rewriting a record, whatever the signature.
      if (parts->alg) {
        named = true;
      } else if (named) {
        fail(file.name, n, "in the first writer's form (no alg, no key) after records that name their algorithm: "
                           "the record was rewritten");
        entry(false);
        continue;
      }
      // A file that does not continue the one before: say so first (a missing file explains
      // a changed key too).
      if (n == 1 && f > 0 && record && (*record)["prev"] != v.head) {
        const std::string previous = string_member((*record)["data"], "previous");
        fail(file.name, n, fmt::format("it does not continue {}{}: a file is missing between them, or the files are "
                                       "out of order",
                                       files[f - 1].name, previous.empty() ? "" : fmt::format(" (it continues {})", previous)));
        entry(false);
        continue;
      }
      // The key: one per file; a new one only where the sealed file before named it.
      const std::string alg = alg_name(*parts);
      const std::string id(parts->key_id);
      if (file_records == 0 && file_alg.empty()) {
        if (f > 0 && announced_key.empty() && (alg != prev_alg || (!id.empty() && !prev_key_id.empty() && id != prev_key_id))) {
          fail(file.name, n, fmt::format("signed with {}, but {} was signed with {} and its seal names no new key",
                                         describe_key(alg, id), files[f - 1].name, describe_key(prev_alg, prev_key_id)));
          entry(false);
          continue;
        }
        if (f > 0 && !announced_key.empty() && id != announced_key) {
          fail(file.name, n, fmt::format("signed with {}, but the seal of {} names key {} for the next file",
                                         describe_key(alg, id), files[f - 1].name, announced_key));
          entry(false);
          continue;
        }
        file_alg = alg;
        file_key_id = id;
      } else if (alg != file_alg || (!id.empty() && !file_key_id.empty() && id != file_key_id)) {
        fail(file.name, n, fmt::format("signed with {}, not {} like the records before it: the log mixes {}",
                                       describe_key(alg, id), describe_key(file_alg, file_key_id),
                                       alg != file_alg ? "signature algorithms" : "keys"));
        entry(false);
        continue;
      } else if (file_key_id.empty()) {
        file_key_id = id;
      }
      if (!keys.empty()) {
        if (file_key == nullptr || (!id.empty() && file_key->id() != id)) {
          file_key = nullptr;
          for (const AuditKey* k : keys) {
            if (std::string(to_string(k->alg())) != alg) continue;
            if (id.empty() ? k->verify(parts->record, parts->sig) : k->id() == id) {
              file_key = k;
              break;
            }
          }
          if (file_key == nullptr) {
            std::string given;
            for (const AuditKey* k : keys) given += (given.empty() ? "" : ", ") + describe_key(to_string(k->alg()), k->id());
            fail(file.name, n,
                 id.empty() ? fmt::format("its signature does not verify under any given key ({}): the record was "
                                          "changed, or the key is not the log's",
                                          given)
                            : fmt::format("signed with {}, which is not a given key ({})", describe_key(alg, id), given));
            entry(false);
            continue;
          }
        }
        if (!file_key->verify(parts->record, parts->sig)) {
          fail(file.name, n, "its signature does not verify: the record was changed, or the key is not the log's");
          entry(false);
          continue;
        }
      }
      if (!record) {
        fail(file.name, n, "a record without seq, time, host, version, event, data or prev of the right type");
        continue;
      }
      const std::uint64_t seq = (*record)["seq"].get<std::uint64_t>();
      const std::string prev = (*record)["prev"].get<std::string>();
      const std::string event = (*record)["event"].get<std::string>();
      const nlohmann::json& data = (*record)["data"];
      if (prev != v.head) {
        const std::string previous = event == "opened" ? string_member(data, "previous") : std::string();
        if (n == 1 && f == 0 && event == "opened") {
          fail(file.name, n, fmt::format("it continues {} (head {}), which was not given: give the files in order, "
                                         "or use --chain or --continues",
                                         previous.empty() ? "a rotated file" : previous, prev));
        } else if (n == 1 && f > 0) {
          fail(file.name, n, fmt::format("it does not continue {}{}: a file is missing between them, or the files are "
                                         "out of order",
                                         files[f - 1].name, previous.empty() ? "" : fmt::format(" (it continues {})", previous)));
        } else {
          fail(file.name, n, "it does not continue the record before it: records were removed, inserted or reordered");
        }
        entry(false);
        continue;
      }
      const bool genesis = prev == kGenesisHash;
      if ((last_seq && seq != *last_seq + 1) || (!last_seq && genesis && seq != 1)) {
        fail(file.name, n, fmt::format("record number {} where {} belongs: records were removed or reordered", seq,
                                       last_seq ? *last_seq + 1 : 1));
        entry(false);
        continue;
      }
      if (sealed) {
        fail(file.name, n, "a record after the file's sealed record");
        entry(false);
        continue;
      }
      if (event == "opened") {
        const nlohmann::json* head = member(data, "head");
        if (n != 1 || genesis || head == nullptr || !head->is_string() || head->get<std::string>() != prev ||
            string_member(data, "previous").empty()) {
          fail(file.name, n, "an opened record that is not the first of a file continuing a sealed one");
          entry(false);
          continue;
        }
      } else if (n == 1 && f > 0) {
        fail(file.name, n, fmt::format("it continues {} but is a '{}' record, not 'opened'", files[f - 1].name, event));
        entry(false);
        continue;
      }
      if (event == "sealed") {
        const nlohmann::json* head = member(data, "head");
        const nlohmann::json* count = member(data, "records");
        const nlohmann::json* next = member(data, "next_key");
        if (head == nullptr || !head->is_string() || head->get<std::string>() != prev || count == nullptr ||
            !count->is_number_unsigned() || count->get<std::uint64_t>() != file_records ||
            (next != nullptr && (!next->is_string() || next->get<std::string>().size() != kKeyIdSize))) {
          fail(file.name, n, "a sealed record whose count or head is not its file's");
          entry(false);
          continue;
        }
        sealed = true;
        announced_key = next != nullptr ? next->get<std::string>() : std::string();
      }
      last_prev = prev;
      v.head = audit_line_hash(line);
      last_seq = seq;
      v.last_seq = seq;
      ++v.records;
      ++file_records;
      entry(true);
    }
    if (broken) continue;
    if (f + 1 < files.size() && !sealed) {
      fail(file.name, n + 1, fmt::format("the file ends without a sealed record, yet {} follows it: records may be "
                                         "missing from its end",
                                         files[f + 1].name));
    } else if (f > 0 && n == 0) {
      fail(file.name, 1, fmt::format("empty, yet {} was sealed: its opened record is missing", files[f - 1].name));
    }
    prev_alg = file_alg;
    prev_key_id = file_key_id;
    if (!sealed) announced_key.clear();
  }
  if (broken) return v;
  const std::uint64_t end_seq = last_seq.value_or(0);
  const std::string last_name = files.empty() ? std::string() : files.back().name;
  const std::uint64_t after = files.empty() ? 1 : static_cast<std::uint64_t>(std::count(files.back().text.begin(), files.back().text.end(), '\n')) + 1;
  // One record past the checkpoint, which names the record before it: what a writer stopped
  // between its record and its checkpoint leaves (the gate continues from it, and brings the
  // checkpoint level). Sound, with a note.
  if (options.expect_records && *options.expect_records + 1 == end_seq && options.expect_head &&
      *options.expect_head == last_prev) {
    v.note = fmt::format("the log is one record ahead of its checkpoint (record {} was written, the checkpoint not "
                         "yet: the writer stopped in between, as a crash leaves it; its next record brings the "
                         "checkpoint level)",
                         end_seq);
    v.ok = true;
    return v;
  }
  if (options.expect_records && *options.expect_records != end_seq) {
    fail(last_name, after,
         fmt::format("the checkpoint counts {} records; the log ends at {}: records were cut from the end{}",
                     *options.expect_records, end_seq, *options.expect_records < end_seq ? ", or the checkpoint is old" : ""));
    return v;
  }
  if (options.expect_head && *options.expect_head != v.head) {
    fail(last_name, after, "the log's head is not the checkpoint's: records were cut from the end or replaced");
    return v;
  }
  v.ok = true;
  return v;
}

AuditVerdict verify_audit_log(const std::string& text, std::span<const std::uint8_t> key, std::string_view opening_prev,
                              std::optional<std::string> expect_head, std::optional<std::uint64_t> expect_records) {
  auto k = AuditKey::from_bytes(key);
  if (!k) {
    AuditVerdict v;
    v.broken = 1;
    v.problem = k.error().message;
    return v;
  }
  const AuditKey* keys[] = {&*k};
  AuditChainOptions options;
  options.opening_prev = std::string(opening_prev);
  options.expect_head = std::move(expect_head);
  options.expect_records = expect_records;
  return verify_audit_files({AuditFile{"the log", text}}, keys, options);
}

Result<std::string> read_audit_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{Errc::io, 0, fmt::format("cannot read audit log {}: {}", path, ec.message())};
  if (size > kMaxLogFile) return Error{Errc::limit, 0, fmt::format("{}: larger than 1 GiB; rotate the log", path)};
  std::string text(static_cast<std::size_t>(size) + 1, '\0');  // one more: a log that grew is read whole or refused
  DG_TRY(const std::size_t got, read_file_into(path, text));
  if (got > size) return Error{Errc::io, 0, fmt::format("{}: the log grew while it was read; read it again", path)};
  text.resize(got);
  return text;
}

Result<AuditChainFiles> find_audit_chain(const std::string& newest) {
  AuditChainFiles out;
  const std::filesystem::path dir = std::filesystem::path(newest).parent_path();
  std::vector<std::string> backwards{newest};
  std::set<std::string> seen{base_name(newest)};
  while (backwards.size() < kMaxChainFiles) {
    const std::string& current = backwards.back();
    // The first line is enough: read a bounded prefix.
    std::string first(1 << 20, '\0');
    DG_TRY(const std::size_t got, read_file_into(current, first));
    first.resize(got);
    const auto nl = first.find('\n');
    if (nl == std::string::npos) break;
    const auto parts = parse_audit_line(std::string_view(first).substr(0, nl));
    const auto record = parts ? parse_audit_record(parts->record) : std::nullopt;
    if (!record || (*record)["event"] != "opened") break;
    const std::string previous = string_member((*record)["data"], "previous");
    // Only a plain file name in the same directory: a record never sends the reader elsewhere.
    if (previous.empty() || previous.find('/') != std::string::npos || previous == "." || previous == "..") break;
    if (!seen.insert(previous).second) {
      return Error{Errc::bad_value, 0, fmt::format("{}: the opened records form a cycle at {}", newest, previous)};
    }
    const std::string path = (dir / previous).string();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      out.missing = fmt::format("{} is missing: the first record of {} continues it", path, current);
      break;
    }
    backwards.push_back(path);
  }
  out.paths.assign(backwards.rbegin(), backwards.rend());
  return out;
}

Result<std::pair<std::string, std::uint64_t>> read_audit_checkpoint(const std::string& path) {
  std::string text(4096, '\0');
  DG_TRY(const std::size_t got, read_file_into(path, text));
  text.resize(got);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("head") || !j["head"].is_string() || !j.contains("records") ||
      !j["records"].is_number_unsigned()) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not an audit checkpoint", path)};
  }
  return std::make_pair(j["head"].get<std::string>(), j["records"].get<std::uint64_t>());
}

std::optional<nlohmann::json> find_sound_record(const std::vector<AuditFile>& files, const AuditKey& key,
                                                const std::string& event,
                                                const std::function<bool(const nlohmann::json&)>& match) {
  if (files.empty()) return std::nullopt;
  // The first file may continue an older one: its first record's prev is where it starts.
  AuditChainOptions options;
  const std::string& first_text = files.front().text;
  if (const auto first = parse_audit_line(std::string_view(first_text).substr(0, first_text.find('\n')))) {
    if (const auto record = parse_audit_record(first->record)) options.opening_prev = (*record)["prev"].get<std::string>();
  }
  const AuditKey* keys[] = {&key};
  std::optional<nlohmann::json> found;
  verify_audit_files(files, keys, options, [&](const AuditEntry& entry) {
    if (!entry.sound || !entry.record->is_object()) return;
    const nlohmann::json& r = *entry.record;
    if (r.value("event", "") == event && r.contains("data") && r["data"].is_object() && match(r["data"])) found = r["data"];
  });
  return found;
}

}  // namespace dumpguard
