#include "serve/download_window.hpp"

#include <time.h>

#include <string_view>
#include <utility>
#include <vector>

#include "audit/chain.hpp"

namespace dumpguard {
namespace {

// "YYYY-MM-DDTHH:MM:SSZ", as audit records write their time; -1 for anything else.
std::time_t record_time(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return end != nullptr && *end == '\0' ? timegm(&tm) : -1;
}

}  // namespace

DownloadDecision DownloadWindow::admit(const std::string& user, double now) {
  PerUser& u = users_[user];
  while (!u.times.empty() && u.times.front() <= now - limits_.window_seconds) u.times.pop_front();
  if (limits_.alert_downloads > 0 && u.times.size() <= limits_.alert_downloads) u.alerted = false;
  DownloadDecision d;
  if (limits_.rate_limit > 0 && u.times.size() >= limits_.rate_limit) {
    d.in_window = u.times.size();
    return d;
  }
  u.times.push_back(now);
  d.allowed = true;
  d.in_window = u.times.size();
  if (limits_.alert_downloads > 0 && d.in_window > limits_.alert_downloads && !u.alerted) {
    u.alerted = true;
    d.alert = true;
  }
  return d;
}

void DownloadWindow::recall(const std::string& user, double when) {
  PerUser& u = users_[user];
  u.times.push_back(when);
  if (limits_.alert_downloads > 0 && u.times.size() > limits_.alert_downloads) u.alerted = true;
}

Status recall_downloads(DownloadWindow& window, const std::string& audit, double now, std::time_t now_wall) {
  DG_TRY(const AuditChainFiles chain, find_audit_chain(audit));
  const double span = window.window_seconds();
  // Newest file first; each file's downloads are kept in order, and the files' lists joined
  // oldest first at the end.
  std::vector<std::vector<std::pair<std::string, double>>> by_file;
  for (auto path = chain.paths.rbegin(); path != chain.paths.rend(); ++path) {
    DG_TRY(const std::string text, read_audit_file(*path));
    std::vector<std::pair<std::string, double>> found;
    bool older = false;  // the file starts before the window: the files before it are older still
    std::size_t start = 0;
    for (bool first = true; start < text.size(); first = false) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + start, end - start);
      start = end + 1;
      const auto parts = parse_audit_line(line);
      const auto record = parts ? parse_audit_record(parts->record) : std::nullopt;
      if (!record) continue;
      const std::time_t at = record_time(record->at("time").get<std::string>());
      if (at < 0) continue;
      const double age = static_cast<double>(now_wall - at);
      if (first && age >= span) older = true;
      if (record->at("event") != "downloading" || age >= span || age < 0) continue;
      const auto& data = record->at("data");
      const auto user = data.find("user");
      if (user == data.end() || !user->is_string()) continue;
      found.emplace_back(user->get<std::string>(), now - age);
    }
    by_file.push_back(std::move(found));
    if (older) break;
  }
  for (auto file = by_file.rbegin(); file != by_file.rend(); ++file) {
    for (const auto& [user, when] : *file) window.recall(user, when);
  }
  return ok_status();
}

}  // namespace dumpguard
