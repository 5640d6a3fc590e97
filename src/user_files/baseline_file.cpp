#include "user_files/baseline_file.hpp"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace dumpguard {

Result<std::set<std::string>> read_baseline_file(const std::string& path) {
  constexpr std::size_t kMaxFile = 256u << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::io, 0, fmt::format("cannot read baseline file {}", path)};
  std::string text(kMaxFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxFile) return Error{Errc::limit, 0, fmt::format("{}: baseline file larger than 256 MiB", path)};
  const auto j = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [&](std::string_view what) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not a dumpguard scan report: {}", path, what)};
  };
  if (j.is_discarded()) return bad("not JSON");
  std::set<std::string> accepted;
  const auto take = [&](const nlohmann::json& report) -> bool {
    if (!report.is_object() || !report.contains("schema") || report["schema"] != "dumpguard-scan/1" ||
        !report.contains("keys") || !report["keys"].is_array()) {
      return false;
    }
    for (const auto& key : report["keys"]) {
      if (key.is_object() && key.contains("fingerprint") && key["fingerprint"].is_string() &&
          !key["fingerprint"].get<std::string>().empty()) {
        accepted.insert(key["fingerprint"].get<std::string>());
      }
    }
    return true;
  };
  if (j.is_array()) {
    for (const auto& report : j) {
      if (!take(report)) return bad("an element is not a report with \"schema\": \"dumpguard-scan/1\"");
    }
  } else if (!take(j)) {
    return bad("no \"schema\": \"dumpguard-scan/1\" with a keys[] array");
  }
  return accepted;
}

}  // namespace dumpguard
