// What a long run (a scan, a redaction) tells its caller besides its result: how far it is,
// and what each part cost. The caller decides whether and how to show it (the CLI draws a bar
// on a terminal, and prints the costs for `scan --stats`); the library never prints. Neither
// says anything about the dump's content: stage, step, byte counts, seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dumpguard {

struct Progress {
  std::string_view stage;   // "scan", "hash", "write", "verify"
  std::string_view step;    // what runs now within the stage (a detector's name), or empty
  std::size_t pass = 0;     // a scan makes one pass over the dump per detector
  std::size_t passes = 1;
  std::uint64_t done = 0;   // bytes of this pass done
  std::uint64_t total = 0;  // bytes of this pass

  // How far the whole stage is, from 0 to 1.
  double fraction() const {
    const double within = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    return passes == 0 ? 1.0 : (static_cast<double>(pass) + within) / static_cast<double>(passes);
  }
};

// What each detector cost: CPU time summed over the threads that ran it.
struct DetectorCost {
  std::string detector;
  double scan_cpu_seconds = 0;    // scan() over every chunk (hunts: their walk and tests)
  double finish_cpu_seconds = 0;  // finish(): deriving what the closure searches for
};

// What a scan cost, for `scan --stats` and the benchmarks; never part of a report.
struct ScanStats {
  std::vector<DetectorCost> detectors;  // in the order they ran
  double structure_seconds = 0;         // wall time of the structure phase
  double hunt_seconds = 0;              // wall time of the hunt phase
  double settle_seconds = 0;            // grouping and statuses after the detectors
  unsigned threads = 0;                 // threads the scan used
  std::uint64_t chunks = 0;             // pieces the areas were split into
  double anchor_cpu_seconds = 0;        // the shared anchor pass for anchored detectors
  double closure_cpu_seconds = 0;       // the closure: every copy of every known secret, in one pass
  std::string anchor_engine;            // what ran the anchor pass ("vector prefilter (AVX2)", ...)
  std::string text_rules;               // how many text rules, and where their database came from
};

// The one way a run reports to its caller while it works. Override what you need; the rest
// does nothing. Calls never overlap, and may come from any of the run's threads.
class Observer {
 public:
  virtual ~Observer() = default;
  // Called often (after each region of each pass, each piece written); an observer that draws
  // throttles itself.
  virtual void progress(const Progress& /*progress*/) {}
  // Whether the scan should time its detectors (a clock read per chunk and detector).
  virtual bool wants_stats() const { return false; }
  // Once at the end of each scan, when wants_stats() said yes.
  virtual void stats(const ScanStats& /*stats*/) {}
};

// An observer that hands progress to a function, for callers that want nothing else.
class ProgressObserver : public Observer {
 public:
  explicit ProgressObserver(std::function<void(const Progress&)> on_progress) : on_progress_(std::move(on_progress)) {}
  void progress(const Progress& p) override {
    if (on_progress_) on_progress_(p);
  }

 private:
  std::function<void(const Progress&)> on_progress_;
};

}  // namespace dumpguard
