#include "relay/rate_limit.hpp"

#include <ctime>

namespace dumpguard::relay {

void RateLimit::close(const std::string& client, const Window& w) {
  if (w.refused > 0) ended_.push_back({client, w.start_wall, limit_, w.refused});
}

void RateLimit::sweep(Clock::time_point now, bool all) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (all || now - it->second.start >= kWindow) {
      close(it->first, it->second);
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  swept_ = now;
}

RateLimit::Verdict RateLimit::admit(const std::string& client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto found = windows_.find(client);
  if (found != windows_.end() && now - found->second.start >= kWindow) {
    close(found->first, found->second);
    windows_.erase(found);
    found = windows_.end();
  }
  if (found == windows_.end()) {
    if (windows_.size() >= kMaxClients) sweep(now, false);
    const std::string& key = windows_.size() >= kMaxClients ? std::string("other") : client;
    found = windows_.find(key);
    if (found == windows_.end()) {
      found = windows_.emplace(key, Window{now, static_cast<std::int64_t>(std::time(nullptr)), 0, 0}).first;
    }
  }
  Window& w = found->second;
  if (w.count < limit_) {
    ++w.count;
    return {};
  }
  ++w.refused;
  const auto left = std::chrono::ceil<std::chrono::seconds>(w.start + kWindow - now).count();
  return {false, static_cast<unsigned>(left < 1 ? 1 : left)};
}

std::vector<RateRefusals> RateLimit::ended(Clock::time_point now, bool all) {
  std::lock_guard lock(mutex_);
  if (all || now - swept_ >= std::chrono::seconds(1)) sweep(now, all);
  std::vector<RateRefusals> out;
  out.swap(ended_);
  return out;
}

}  // namespace dumpguard::relay
