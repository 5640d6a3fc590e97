// The scanner: builds the list of areas (every region, every unaccounted range), runs the
// structure detectors over all of them, then the hunt detectors with the public keys the
// first phase harvested, then hands the raw findings to key grouping.
#include "dumpguard/scan.hpp"

#include <algorithm>

#include "detect/registry.hpp"
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

ScanReport scan_dump(const Dump& dump, const ScanOptions& options, std::string_view progress_stage) {
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
  // Progress: one pass per detector over every area, reported after each area.
  std::uint64_t pass_bytes = 0;
  for (const ScanArea& area : areas) pass_bytes += area.bytes.size();
  Progress progress{progress_stage, {}, 0, detectors.size(), 0, pass_bytes};
  for (Detector::Phase phase : {Detector::Phase::structure, Detector::Phase::hunt}) {
    if (phase == Detector::Phase::hunt) {
      sink.ring.mark_ca(options.trusted_public_keys);
      // Supplied keys are hunted whatever they are: the user asked about them.
      for (const PublicKey& k : supplied) sink.ring.add_supplied(k);
    }
    for (auto& detector : detectors) {
      if (detector->phase() != phase) continue;
      progress.step = detector->name();
      progress.done = 0;
      if (options.progress) options.progress(progress);
      for (const ScanArea& area : areas) {
        detector->scan(context, area, sink);
        progress.done += area.bytes.size();
        if (options.progress) options.progress(progress);
      }
      detector->finish(context, sink);
      ++progress.pass;
    }
  }

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
  return report;
}

}  // namespace dumpguard
