// Per-user counts of downloads in the last hour, for serve's rate limit and its alert hook.
// Times are given by the caller (steady clock seconds), so the rules are testable without waiting.
#pragma once
#include <cstdint>
#include <ctime>
#include <deque>
#include <map>
#include <string>

#include "dumpguard/result.hpp"

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
  // A download `user` started at `when` (the same clock), before this process began: counted as
  // one it granted, in the order given (oldest first). A user already past alert_downloads
  // counts as alerted, so that a restart does not alert again for the same burst.
  void recall(const std::string& user, double when);

 private:
  struct PerUser {
    std::deque<double> times;
    bool alerted = false;
  };
  DownloadLimits limits_;
  std::map<std::string, PerUser> users_;

 public:
  double window_seconds() const { return limits_.window_seconds; }
};

// Recalls into `window` the downloads that the audit log `audit` (and the files rotated before
// it, newest first, while they may hold any) records as granted (`downloading`) within the
// window before `now_wall`; `now` is the window's clock at that moment. A restart of serve
// thus keeps its users' counts. Lines that are not sound records are passed over: they could
// only have counted downloads that did not happen, a refusal too many, never one too few.
Status recall_downloads(DownloadWindow& window, const std::string& audit, double now, std::time_t now_wall);

}  // namespace dumpguard
