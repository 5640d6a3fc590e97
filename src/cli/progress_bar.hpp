// The progress bar the CLI draws on stderr while scan and redact run, from the library's
// progress reports (an Observer, dumpguard/observer.hpp): only when stderr is a terminal and --no-progress
// is not given, at most five times a second, first after a fifth of a second (a short run shows
// nothing), and erased when the run ends, so the reports and errors that follow start on a
// clean line.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "dumpguard/observer.hpp"

namespace dumpguard::cli {

class ProgressBar : public Observer {
 public:
  // Draws only if `enabled` (see progress_wanted).
  explicit ProgressBar(bool enabled, std::string label = {});
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() override { erase(); }

  void progress(const Progress& p) override;
  // Removes the bar from the terminal, if it is there. Drawing resumes on the next update.
  void erase();

 private:
  bool enabled_;
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::string stage_;  // the stage last drawn
  bool shown_ = false;
};

// True when stderr is a terminal and --no-progress was not given.
bool progress_wanted(bool no_progress);

}  // namespace dumpguard::cli
