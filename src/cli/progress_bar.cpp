#include "cli/progress_bar.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

#include "report/text_table.hpp"

namespace dumpguard::cli {

namespace {
constexpr auto kFirstDraw = std::chrono::milliseconds(200);
constexpr auto kInterval = std::chrono::milliseconds(200);

std::size_t terminal_width() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}
}  // namespace

bool progress_wanted(bool no_progress) { return !no_progress && isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(bool enabled, std::string label)
    : enabled_(enabled), label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::progress(const Progress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // A new stage is drawn at once (once the bar shows at all), so every stage of a long run is
  // seen, however quickly it follows the one before; within a stage, five times a second.
  if (now - start_ < kFirstDraw || (shown_ && now - last_ < kInterval && p.stage == stage_)) return;
  last_ = now;
  stage_ = std::string(p.stage);
  const double fraction = std::clamp(p.fraction(), 0.0, 1.0);
  constexpr std::size_t kBar = 20;
  const auto filled = static_cast<std::size_t>(fraction * kBar);
  // What matters first: a narrow terminal cuts the file name, then the step.
  std::string line = fmt::format("{} [{}{}] {:3.0f}%  {} / {}", p.stage, std::string(filled, '#'),
                                 std::string(kBar - filled, '.'), fraction * 100.0, human_bytes(p.done),
                                 human_bytes(p.total));
  if (p.passes > 1) line += fmt::format("  {} {}/{}", p.step, p.pass + 1, p.passes);
  if (!label_.empty()) line += "  " + label_;
  // Never wider than the terminal: a wrapped line cannot be erased with \r.
  const std::size_t width = terminal_width();
  if (line.size() >= width) line.resize(width > 1 ? width - 1 : 0);
  std::fputs(fmt::format("\r{}\x1b[K", line).c_str(), stderr);
  std::fflush(stderr);
  shown_ = true;
}

void ProgressBar::erase() {
  if (!shown_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace dumpguard::cli
