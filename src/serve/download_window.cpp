#include "serve/download_window.hpp"

namespace dumpguard {

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

}  // namespace dumpguard
