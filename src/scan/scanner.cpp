// The scanner: builds the list of areas (every region, every unaccounted range), runs the
// structure detectors over all of them, then the hunt detectors with the public keys the
// first phase harvested, then hands the raw findings to key grouping.
#include "dumpguard/scan.hpp"

#include <algorithm>

#include "detect/registry.hpp"
#include "scan/cpu_clock.hpp"
#include "scan/key_groups.hpp"
#include "scan/supplied_keys.hpp"

namespace dumpguard {

namespace {

class CollectingSink final : public FindingSink {
 public:
  void finding(Finding f) override { findings.push_back(std::move(f)); }
  void public_key(PublicKey k) override { ring.add(std::move(k)); }
  void mac_token(MacToken t) override {
    for (const MacToken& known : tokens) {
      if (known.signature == t.signature && known.signing_input == t.signing_input) return;
    }
    tokens.push_back(std::move(t));
  }

  void limit(std::string_view detector, std::string what) override {
    limits.push_back({std::string(detector), std::move(what)});
  }

  std::vector<Finding> findings;
  KeyRing ring;
  std::vector<MacToken> tokens;
  std::vector<HuntLimit> limits;
};

// Regions can overlap (a minidump may list a range twice): each byte is searched once per
// region that claims it, and duplicate findings are merged afterwards.
std::vector<ScanArea> areas_of(const Dump& dump) {
  std::vector<ScanArea> areas;
  const auto all = dump.bytes();
  for (std::size_t i = 0; i < dump.model.regions.size(); ++i) {
    const Region& r = dump.model.regions[i];
    if (r.size == 0 || r.file_offset >= all.size()) continue;
    areas.push_back({r.file_offset, dump.bytes_of(r), i});
  }
  for (const ByteRange& u : dump.model.unaccounted) {
    if (u.size == 0 || u.file_offset >= all.size()) continue;
    areas.push_back({u.file_offset, all.subspan(u.file_offset, std::min<std::uint64_t>(u.size, all.size() - u.file_offset)),
                     std::nullopt});
  }
  return areas;
}

std::uint64_t distinct_bytes(std::vector<ScanArea> areas) {
  std::sort(areas.begin(), areas.end(), [](const ScanArea& a, const ScanArea& b) { return a.file_offset < b.file_offset; });
  std::uint64_t total = 0, cursor = 0;
  for (const ScanArea& a : areas) {
    const std::uint64_t end = a.file_offset + a.bytes.size();
    if (end > cursor) total += end - std::max(cursor, a.file_offset);
    cursor = std::max(cursor, end);
  }
  return total;
}

// Findings of keys a baseline accepts leave the report; it counts them and names the keys.
void suppress_baseline(ScanReport& report, const std::set<std::string>& baseline) {
  std::set<std::string> keys;
  std::vector<Finding> kept;
  for (Finding& f : report.findings) {
    if (!f.key.empty() && baseline.count(f.key)) {
      ++report.suppressed_findings;
      keys.insert(f.key);
    } else {
      kept.push_back(std::move(f));
    }
  }
  report.findings = std::move(kept);
  report.suppressed_keys.assign(keys.begin(), keys.end());
}

}  // namespace

ScanReport scan_dump(const Dump& dump, const ScanOptions& options) {
  const std::vector<ScanArea> areas = areas_of(dump);
  auto detectors = make_detectors(options);
  CollectingSink sink;
  ScanContext context{dump, sink.ring, areas, options.fingerprint_key, &sink.tokens};
  if (options.time_budget > 0) {
    context.time_budget = options.time_budget;
    context.deadline = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(options.time_budget));
  }
  for (const std::string& text : options.tokens) {
    std::size_t length = 0;
    if (auto token = parse_hmac_jwt(text, length)) {
      token->origin = "supplied " + token->alg + " JWT";
      sink.mac_token(std::move(*token));
    }
  }

  const std::vector<PublicKey> supplied = supplied_public_keys(options.supplied_keys);
  std::vector<DetectorCost> costs(detectors.size());
  for (Detector::Phase phase : {Detector::Phase::structure, Detector::Phase::hunt}) {
    const auto phase_start = std::chrono::steady_clock::now();
    if (phase == Detector::Phase::hunt) {
      sink.ring.mark_ca(options.trusted_public_keys);
      // Supplied keys are hunted whatever they are: the user asked about them.
      for (const PublicKey& k : supplied) sink.ring.add_supplied(k);
    }
    for (std::size_t d = 0; d < detectors.size(); ++d) {
      Detector& detector = *detectors[d];
      if (detector.phase() != phase) continue;
      const double t0 = thread_cpu_seconds();
      for (const ScanArea& area : areas) detector.scan(context, area, sink);
      const double t1 = thread_cpu_seconds();
      detector.finish(context, sink);
      costs[d].scan_cpu_seconds += t1 - t0;
      costs[d].finish_cpu_seconds += thread_cpu_seconds() - t1;
    }
    if (options.stats) {
      (phase == Detector::Phase::structure ? options.stats->structure_seconds : options.stats->hunt_seconds) =
          seconds_since(phase_start);
    }
  }
  const auto settle_start = std::chrono::steady_clock::now();

  ScanReport report;
  for (const auto& d : detectors) report.detectors.emplace_back(d->name());
  report.bytes_searched = distinct_bytes(areas);
  report.exhaustive = options.exhaustive;
  report.limits = std::move(sink.limits);
  report.findings = std::move(sink.findings);
  settle_findings(report.findings, sink.ring);
  if (!options.baseline.empty()) suppress_baseline(report, options.baseline);
  report.keys = group_keys(report.findings, sink.ring);
  for (const PublicKey& k : sink.ring.keys()) {
    report.public_keys.push_back({k.fingerprint, key_type_name(k), k.origin, k.ca, k.derived});
  }
  report.supplied = supplied_status(options.supplied_keys, supplied, report, dump, options.exhaustive);
  report.supplied_tokens = supplied_token_status(options.tokens, report, dump);
  report.registered = registered_status(options.registered_secrets, report, dump);
  if (options.stats) {
    options.stats->settle_seconds = seconds_since(settle_start);
    options.stats->threads = 1;
    options.stats->detectors.clear();
    for (std::size_t d = 0; d < detectors.size(); ++d) {
      costs[d].detector = std::string(detectors[d]->name());
      options.stats->detectors.push_back(costs[d]);
    }
  }
  return report;
}

}  // namespace dumpguard
