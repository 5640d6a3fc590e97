// Per-user counts of downloads in the last hour, for serve's rate limit and its alert hook.
// Times are given by the caller (steady clock seconds), so the rules are testable without waiting.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace dumpguard {

struct DownloadLimits {
  std::uint64_t rate_limit = 0;       // downloads a user may start per window; 0: no limit
  std::uint64_t alert_downloads = 0;  // alert when a user's downloads in the window exceed this; 0: never
  double window_seconds = 3600;
};

struct DownloadDecision {
  bool allowed = false;
  std::uint64_t in_window = 0;  // this user's downloads in the window, this one included when allowed
  bool alert = false;           // this download took the user past alert_downloads (once per crossing)
};

class DownloadWindow {
 public:
  explicit DownloadWindow(DownloadLimits limits) : limits_(limits) {}
  // Decides one download by `user` at time `now` and, when allowed, counts it. The alert fires
  // when the count first exceeds alert_downloads, and again only after the count has fallen back
  // to it: one alert per burst, not one per download.
  DownloadDecision admit(const std::string& user, double now);

 private:
  struct PerUser {
    std::deque<double> times;
    bool alerted = false;
  };
  DownloadLimits limits_;
  std::map<std::string, PerUser> users_;
};

}  // namespace dumpguard
