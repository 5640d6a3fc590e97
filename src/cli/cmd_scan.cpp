// `dumpguard scan`: find key material in each dump; exit 0 none, 1 findings, 2 error.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/progress_bar.hpp"
#include "dumpguard/scan.hpp"
#include "report/scan_json.hpp"
#include "report/scan_sarif.hpp"
#include "report/scan_text.hpp"

namespace dumpguard::cli {

namespace {
Severity parse_severity(const std::string& s) {
  if (s == "low") return Severity::low;
  if (s == "high") return Severity::high;
  if (s == "critical") return Severity::critical;
  return Severity::medium;
}

// --stats: what each detector cost, on stderr (never in a report: it is about this machine).
void print_stats(const std::string& path, const ScanStats& stats) {
  print_stderr("dumpguard: {}: stats: {} thread(s), {} chunk(s); structure phase {:.3f} s, hunt phase {:.3f} s, "
                     "settling {:.3f} s (wall)\n",
             path, stats.threads, stats.chunks, stats.structure_seconds, stats.hunt_seconds, stats.settle_seconds);
  double total = stats.anchor_cpu_seconds + stats.closure_cpu_seconds;
  for (const DetectorCost& c : stats.detectors) total += c.scan_cpu_seconds + c.finish_cpu_seconds;
  print_stderr("dumpguard: {}: stats: {:<18} scan {:8.3f} s                     CPU (anchors of every structure detector; {})\n",
             path, "(shared anchors)", stats.anchor_cpu_seconds, stats.anchor_engine);
  for (const DetectorCost& c : stats.detectors) {
    print_stderr("dumpguard: {}: stats: {:<18} scan {:8.3f} s  finish {:8.3f} s  CPU\n", path, c.detector,
               c.scan_cpu_seconds, c.finish_cpu_seconds);
  }
  print_stderr("dumpguard: {}: stats: {:<18} scan {:8.3f} s                     CPU (every copy of every known secret, one pass)\n",
             path, "(closure)", stats.closure_cpu_seconds);
  print_stderr("dumpguard: {}: stats: {:<18} {:8.3f} s CPU in detectors\n", path, "total", total);
  print_stderr("dumpguard: {}: stats: text rules: {}\n", path, stats.text_rules);
}

// Per dump: its progress bar, and its costs when --stats asks for them.
class DumpObserver : public ProgressBar {
 public:
  DumpObserver(bool draw, std::string label, bool stats) : ProgressBar(draw, std::move(label)), wants_stats_(stats) {}
  bool wants_stats() const override { return wants_stats_; }
  void stats(const ScanStats& s) override { costs = s; }
  ScanStats costs;

 private:
  bool wants_stats_;
};
}  // namespace

int run_scan(const ScanCliOptions& given) {
  ScanCliOptions options = given;
  std::optional<ScanOptions> built = build_scan_options(options);
  if (!built) return kExitError;
  // A bar per dump, drawn on stderr while it is scanned (only on a terminal).
  const bool progress = progress_wanted(options.no_progress);
  const ScanOptions& scan_options = *built;
  const Severity fail_on = parse_severity(options.fail_on.value_or("medium"));

  const OpenOptions open = to_open_options(options.input);
  const TextStyle style = text_style(options.color);
  bool error = false, failing = false;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& path : options.input.dumps) {
    Result<Dump> dump = open_dump(path, open);
    if (!dump) {
      print_error(path, dump.error());
      error = true;
      continue;
    }
    print_warnings(*dump);
    DumpObserver observer(progress, base_name(path), options.stats);
    const ScanReport report = scan_dump(*dump, scan_options, &observer);
    observer.erase();
    if (options.stats) print_stats(path, observer.costs);
    for (const Finding& f : report.findings) failing = failing || f.severity >= fail_on;
    if (options.sarif) {
      all.push_back(sarif_run(*dump, report));
    } else if (options.json) {
      all.push_back(scan_json(*dump, report, fail_on));
    } else {
      std::fputs(scan_text(*dump, report, style).c_str(), stdout);
    }
  }
  if (options.sarif) {
    // ASCII only, as info --json (cli/cmd_info.cpp).
    std::cout << sarif_log(std::move(all)).dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace)
              << '\n';  // one log, one run per dump
  } else if (options.json && !all.empty()) {
    std::cout << (options.input.dumps.size() == 1 ? all[0] : all)
                     .dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace)
              << '\n';
  }
  if (error) return kExitError;
  return failing ? kExitFindings : kExitOk;
}

}  // namespace dumpguard::cli
