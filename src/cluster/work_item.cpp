#include "cluster/work_item.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dumpguard {

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string safe_submitted_name(std::string_view path) {
  const auto slash = path.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string out;
  for (const char c : base.substr(0, 100)) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    out.push_back(plain ? c : '_');
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), 'd');
  return out;
}

std::string work_message(const WorkItem& item) {
  const nlohmann::ordered_json j = {
      {"schema", "dumpguard-work/1"}, {"sha256", item.sha256}, {"size", item.size}, {"name", item.name}};
  return j.dump();
}

Result<WorkItem> parse_work_message(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return Error{Errc::bad_value, 0, fmt::format("the work message is not a dump reference: {}", why)};
  };
  if (text.size() > 4096) return bad("longer than 4 KiB");
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (!j.contains("schema") || j["schema"] != "dumpguard-work/1") return bad("no schema dumpguard-work/1");
  if (!j.contains("sha256") || !j["sha256"].is_string() || !is_sha256_hex(j["sha256"].get<std::string>())) {
    return bad("sha256 is not 64 lower-case hex digits");
  }
  if (!j.contains("size") || !j["size"].is_number_unsigned()) return bad("size is not a number of bytes");
  if (!j.contains("name") || !j["name"].is_string()) return bad("name is not a string");
  WorkItem item;
  item.sha256 = j["sha256"].get<std::string>();
  item.size = j["size"].get<std::uint64_t>();
  item.name = j["name"].get<std::string>();
  if (item.name != safe_submitted_name(item.name)) return bad("name is not a plain file name of at most 100 bytes");
  return item;
}

std::string work_file_name(const WorkItem& item) { return item.sha256 + "-" + item.name; }

}  // namespace dumpguard
