// Uploads per client address per minute. Each address has a window of 60 s that starts with
// its first upload; past the limit the relay answers 429 with Retry-After (the window's end).
// What was refused is summed per address and window, so that a flood adds one audit record per
// address a minute, not one per request; the table of addresses is bounded too.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace dumpguard::relay {

struct RateRefusals {
  std::string client;
  std::int64_t window_start = 0;  // seconds since the epoch
  unsigned limit = 0;
  std::uint64_t refused = 0;
};

class RateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kWindow{60};
  // Addresses beyond this many with a live window share one window, named "other".
  static constexpr std::size_t kMaxClients = 65536;

  explicit RateLimit(unsigned per_minute) : limit_(per_minute) {}

  struct Verdict {
    bool allowed = true;
    unsigned retry_after = 0;  // seconds, when refused
  };
  Verdict admit(const std::string& client, Clock::time_point now);
  // The refusals of windows that ended by `now` (every window, when `all`), each once. Looks at
  // the table at most once a second unless `all`.
  std::vector<RateRefusals> ended(Clock::time_point now, bool all = false);

 private:
  struct Window {
    Clock::time_point start;
    std::int64_t start_wall = 0;
    unsigned count = 0;
    std::uint64_t refused = 0;
  };
  void close(const std::string& client, const Window& w);
  void sweep(Clock::time_point now, bool all);

  const unsigned limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::vector<RateRefusals> ended_;
  Clock::time_point swept_{};
};

}  // namespace dumpguard::relay
