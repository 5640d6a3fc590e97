#include "report/audit_history.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <set>
#include <utility>

#include "io/path_names.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMaxSummary = 200;
constexpr std::size_t kMaxName = 60;
constexpr int kMaxDepth = 16;  // records are depth-checked at 64 when parsed; summaries go less deep
constexpr int kMaxFollow = 4;  // rounds of following a dump's digests to other records

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_hex_prefix(const std::string& s) {
  return s.size() >= 8 && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Printable ASCII kept; every other byte as \xNN, so nothing from the log reaches a terminal raw.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::string shorten(const std::string& value) { return is_hex64(value) ? value.substr(0, 12) : value; }

// Every leaf of `j` as (dotted path, value), depth-bounded.
void leaves(const nlohmann::json& j, const std::string& path, int depth,
            std::vector<std::pair<std::string, const nlohmann::json*>>& out) {
  if (j.is_object() && depth < kMaxDepth) {
    for (auto it = j.begin(); it != j.end(); ++it) leaves(*it, path.empty() ? it.key() : path + "." + it.key(), depth + 1, out);
  } else {
    out.emplace_back(path, &j);
  }
}

// Strings anywhere in `j`, object keys included, depth-bounded.
template <class F>
bool any_string(const nlohmann::json& j, int depth, F&& match) {
  if (depth > kMaxDepth) return false;
  if (j.is_string()) return match(j.get_ref<const std::string&>());
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (match(it.key()) || any_string(*it, depth + 1, match)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& e : j) {
      if (any_string(e, depth + 1, match)) return true;
    }
  }
  return false;
}

bool names_sha256(const std::string& path) { return path.find("sha256") != std::string::npos; }

// The SHA-256 values of a record's data, in fields whose name says sha256: a dump's digests.
void digests_of(const nlohmann::json& data, std::set<std::string>& out) {
  std::vector<std::pair<std::string, const nlohmann::json*>> all;
  leaves(data, "", 0, all);
  for (const auto& [path, value] : all) {
    if (names_sha256(path) && value->is_string() && is_hex64(value->get<std::string>())) out.insert(value->get<std::string>());
  }
}

const nlohmann::json& data_of(const AuditShown& s) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = s.record.find("data");
  return it != s.record.end() && it->is_object() ? *it : empty;
}

std::string string_field(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The dump a record is about: data.dump, .name, .file, .path, or the same inside data.input.
std::pair<std::string, std::string> dump_name(const nlohmann::json& data) {
  for (const char* field : {"dump", "name", "file", "path"}) {
    const std::string v = string_field(data, field);
    if (!v.empty()) return {field, v};
  }
  const auto input = data.find("input");
  if (input != data.end() && input->is_object()) {
    for (const char* field : {"path", "name", "dump", "file"}) {
      const std::string v = string_field(*input, field);
      if (!v.empty()) return {std::string("input.") + field, v};
    }
  }
  return {};
}

}  // namespace

Result<std::string> parse_iso8601_utc(std::string_view text) {
  const auto bad = [&](const char* what) {
    return Error{Errc::bad_value, 0,
                 fmt::format("'{}' is not an ISO 8601 time ({}): e.g. 2026-11-27, 2026-11-27T05:28:55Z", printable(text.substr(0, 64)), what)};
  };
  std::size_t i = 0;
  const auto number = [&](int width, int& out) {
    if (i + static_cast<std::size_t>(width) > text.size()) return false;
    out = 0;
    for (int k = 0; k < width; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += static_cast<std::size_t>(width);
    return true;
  };
  const auto take = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !take('-') || !number(2, month) || !take('-') || !number(2, day)) return bad("expected YYYY-MM-DD");
  if (take('T') || take('t') || take(' ')) {
    if (!number(2, hour) || !take(':') || !number(2, minute)) return bad("expected HH:MM after the date");
    if (take(':')) {
      if (!number(2, second)) return bad("expected SS");
      if (take('.') || take(',')) {
        const std::size_t from = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - from < 9) ++i;
        if (i == from) return bad("expected digits after the decimal point");
      }
    }
  }
  long offset = 0;  // seconds east of UTC
  if (take('Z') || take('z')) {
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const bool east = text[i] == '+';
    ++i;
    int oh = 0, om = 0;
    if (!number(2, oh)) return bad("expected an offset +HH:MM");
    take(':');
    if (i < text.size() && !number(2, om)) return bad("expected an offset +HH:MM");
    if (oh > 23 || om > 59) return bad("offset out of range");
    offset = (east ? 1 : -1) * (oh * 3600L + om * 60L);
  }
  if (i != text.size()) return bad("unexpected characters at the end");
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return bad("a field out of range");
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t local = timegm(&tm);
  std::tm check{};
  gmtime_r(&local, &check);
  if (check.tm_mday != day || check.tm_mon != month - 1) return bad("no such day");
  const std::time_t utc = local - offset;
  std::tm out{};
  if (gmtime_r(&utc, &out) == nullptr) return bad("out of range");
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", out.tm_year + 1900, out.tm_mon + 1, out.tm_mday, out.tm_hour,
                     out.tm_min, out.tm_sec);
}

std::vector<const AuditShown*> pick_audit_records(const std::vector<AuditShown>& all, const AuditFilter& filter) {
  // The records about the dump: those that name it, then those that name its digests.
  std::vector<bool> about_dump(all.size(), filter.dump.empty());
  if (!filter.dump.empty()) {
    const std::string& d = filter.dump;
    const bool hex_prefix = is_hex_prefix(d);
    std::set<std::string> digests;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const bool named = any_string(data_of(all[i]), 0, [&](const std::string& v) {
        return v == d || base_name(v) == d || (hex_prefix && is_hex64(v) && v.compare(0, d.size(), d) == 0);
      });
      if (named) {
        about_dump[i] = true;
        digests_of(data_of(all[i]), digests);
      }
    }
    for (int round = 0; round < kMaxFollow && !digests.empty(); ++round) {
      std::set<std::string> more;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (about_dump[i]) continue;
        std::set<std::string> mine;
        digests_of(data_of(all[i]), mine);
        if (std::any_of(mine.begin(), mine.end(), [&](const std::string& h) { return digests.count(h) > 0; })) {
          about_dump[i] = true;
          more.insert(mine.begin(), mine.end());
        }
      }
      for (const auto& h : digests) more.erase(h);
      digests = std::move(more);
    }
  }
  std::vector<const AuditShown*> out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const AuditShown& s = all[i];
    if (!about_dump[i]) continue;
    const std::string event = string_field(s.record, "event");
    if (!filter.events.empty() && std::find(filter.events.begin(), filter.events.end(), event) == filter.events.end()) continue;
    if (!filter.user.empty() && string_field(data_of(s), "user") != filter.user) continue;
    if (filter.since || filter.until) {
      const auto time = parse_iso8601_utc(string_field(s.record, "time"));
      if (!time) continue;
      if (filter.since && *time < *filter.since) continue;
      if (filter.until && *time >= *filter.until) continue;
    }
    if (!filter.key_fingerprint.empty()) {
      const std::string& fp = filter.key_fingerprint;
      const bool prefix_ok = fp.size() >= 8;
      const bool found = any_string(data_of(s), 0, [&](const std::string& v) {
        if (v == fp) return true;
        if (!prefix_ok) return false;
        if (v.compare(0, fp.size(), fp) == 0) return true;
        const auto colon = v.rfind(':');
        return colon != std::string::npos && v.compare(colon + 1, fp.size(), fp) == 0;
      });
      if (!found) continue;
    }
    out.push_back(&s);
  }
  return out;
}

std::string audit_record_line(const AuditShown& shown) {
  const nlohmann::json& data = data_of(shown);
  const auto [name_field, name] = dump_name(data);
  std::vector<std::pair<std::string, const nlohmann::json*>> all;
  leaves(data, "", 0, all);
  // Digests first, then the rest, in the record's order.
  std::stable_partition(all.begin(), all.end(), [](const auto& leaf) { return names_sha256(leaf.first); });
  std::string summary;
  for (const auto& [path, value] : all) {
    if (path == name_field) continue;
    std::string v;
    if (value->is_string()) {
      v = shorten(value->get<std::string>());
    } else if (value->is_array()) {
      v = fmt::format("[{} items]", value->size());
    } else if (value->is_object()) {
      v = "{...}";
    } else {
      v = value->dump();
    }
    std::string label = path;
    if (names_sha256(label) && label != "sha256") {
      for (const char* suffix : {".sha256", "_sha256"}) {
        if (label.size() > std::strlen(suffix) && label.compare(label.size() - std::strlen(suffix), std::string::npos, suffix) == 0) {
          label.resize(label.size() - std::strlen(suffix));
        }
      }
    }
    if (!summary.empty()) summary += ' ';
    summary += label + "=" + v;
    if (summary.size() > kMaxSummary) {
      summary.resize(kMaxSummary - 3);
      summary += "...";
      break;
    }
  }
  std::string shown_name = name.empty() ? "-" : name;
  if (shown_name.size() > kMaxName) shown_name = "..." + shown_name.substr(shown_name.size() - (kMaxName - 3));
  const auto seq = shown.record.find("seq");
  return printable(fmt::format("{}{}  #{:<6} {:<12} {}  {}", shown.sound ? "" : "UNVERIFIED ", string_field(shown.record, "time"),
                               seq != shown.record.end() ? seq->dump() : "?", string_field(shown.record, "event"), shown_name,
                               summary));
}

std::string audit_verdict_line(const AuditVerdict& v, std::size_t files, bool anchored) {
  if (!v.ok) {
    return printable(fmt::format("NOT verified: {} record {} is broken: {} ({} records before it are sound)", v.file,
                                 v.broken.value_or(0), v.problem, v.records));
  }
  // Without an anchor the verdict is "unanchored", never plain "verified": a log emptied with its
  // checkpoint deleted reads the same as a whole one.
  return fmt::format("{}: {} record{} in {} file{}: the chain{}{}; head {}{}",
                     anchored ? "verified" : "UNANCHORED (verified, but nothing anchors its end)", v.records,
                     v.records == 1 ? "" : "s", files, files == 1 ? "" : "s",
                     v.signatures_checked ? " and every signature" : " (signatures not checked: no --key)",
                     anchored ? ", ending where the checkpoint says"
                              : " (no checkpoint: records cut from the end, or the whole log emptied, would not show)",
                     v.head, v.note.empty() ? "" : "; note: " + v.note);
}

nlohmann::ordered_json audit_history_json(const std::vector<const AuditShown*>& picked, const AuditVerdict& v,
                                          std::size_t files, bool anchored) {
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (const AuditShown* s : picked) {
    records.push_back({{"file", s->file},
                       {"line", s->line},
                       {"sound", s->sound},
                       {"key", s->key_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s->key_id)},
                       {"record", s->record}});
  }
  nlohmann::ordered_json broken;
  if (!v.ok) broken = {{"file", v.file}, {"line", v.broken.value_or(0)}, {"problem", v.problem}};
  return {{"records", std::move(records)},
          {"verification",
           {{"verdict", !v.ok ? "broken" : anchored ? "sound" : "unanchored"},
            {"verified", v.ok},
            {"records", v.records},
            {"files", files},
            {"signatures_checked", v.signatures_checked},
            {"anchored", anchored},
            {"head", v.head},
            {"broken", std::move(broken)},
            {"note", v.note.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(v.note)}}}};
}

}  // namespace dumpguard
