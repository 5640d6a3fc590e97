// The scanner: builds the list of areas (every region, every unaccounted range), splits them
// into chunks, runs the structure detectors over all chunks on every core, then the hunt
// detectors with the public keys the first phase harvested, then hands the raw findings to
// key grouping. Chunking does not depend on the thread count, and outputs are merged in a
// fixed order, so the report is the same for any --threads.
#include "dumpguard/scan.hpp"

#include <algorithm>

#include "detect/secret_closure.hpp"
#include "rules/text_rules.hpp"
#include "detect/detector_list.hpp"
#include "scan/cpu_clock.hpp"
#include "scan/detector_settings.hpp"
#include "scan/key_groups.hpp"
#include "scan/supplied_keys.hpp"
#include "scan/thread_runner.hpp"

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
  void secret(KnownSecret s) override { secrets.push_back(std::move(s)); }
  void pending(PendingSecret s) override { pending_secrets.push_back(std::move(s)); }

  std::vector<Finding> findings;
  KeyRing ring;
  std::vector<PendingSecret> pending_secrets;
  std::vector<MacToken> tokens;
  std::vector<HuntLimit> limits;
  std::vector<KnownSecret> secrets;
};

// Every byte of the file that a region or an unaccounted range holds, searched once. Regions
// may claim the same file bytes (a hostile minidump can point every descriptor at one block,
// a core can repeat PT_LOADs): searched once per claim, a small file would cost the square of
// its size. So each region's area is cut to the part no earlier area covers, in file order
// with the longer area first at equal offsets: a repeated or nested range adds nothing, and a
// range that overlaps the end of another adds only its tail. The bytes kept keep the region
// (and the address) of the area that covers them; a structure that straddles the point where
// one region's range ends inside another's is seen only in parts, which is why readers warn
// about overlaps (the dump is then incomplete). Areas stay in model order: for a dump without
// overlaps nothing changes.
std::vector<ScanArea> areas_of(const Dump& dump) {
  std::vector<ScanArea> claims;
  const auto all = dump.bytes();
  for (std::size_t i = 0; i < dump.model.regions.size(); ++i) {
    const Region& r = dump.model.regions[i];
    if (r.size == 0 || r.file_offset >= all.size()) continue;
    claims.push_back({r.file_offset, dump.bytes_of(r), i});
  }
  for (const ByteRange& u : dump.model.unaccounted) {
    if (u.size == 0 || u.file_offset >= all.size()) continue;
    claims.push_back({u.file_offset, all.subspan(u.file_offset, std::min<std::uint64_t>(u.size, all.size() - u.file_offset)),
                      std::nullopt});
  }
  std::vector<std::size_t> by_offset(claims.size());
  for (std::size_t i = 0; i < by_offset.size(); ++i) by_offset[i] = i;
  std::stable_sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) {
    if (claims[a].file_offset != claims[b].file_offset) return claims[a].file_offset < claims[b].file_offset;
    return claims[a].bytes.size() > claims[b].bytes.size();
  });
  std::vector<bool> kept(claims.size(), false);
  std::uint64_t covered = 0;  // every byte below this is in a kept area
  for (std::size_t i : by_offset) {
    ScanArea& a = claims[i];
    const std::uint64_t end = a.file_offset + a.bytes.size();
    if (end <= covered) continue;
    if (a.file_offset < covered) {
      a.bytes = a.bytes.subspan(static_cast<std::size_t>(covered - a.file_offset));
      a.file_offset = covered;
    }
    covered = end;
    kept[i] = true;
  }
  std::vector<ScanArea> areas;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (kept[i]) areas.push_back(claims[i]);
  }
  return areas;
}

// The bytes the areas cover (areas_of leaves no two overlapping; the count does not rely on it).
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


// What one detector found in one chunk: kept apart per chunk and detector, so that merging them
// in detector order, then chunk order, gives the same sequence whatever the thread count.
class ChunkSink final : public FindingSink {
 public:
  void finding(Finding f) override { findings.push_back(std::move(f)); }
  void public_key(PublicKey k) override { keys.push_back(std::move(k)); }
  void mac_token(MacToken t) override { tokens.push_back(std::move(t)); }
  void limit(std::string_view detector, std::string what) override {
    limits.push_back({std::string(detector), std::move(what)});
  }
  void secret(KnownSecret s) override { secrets.push_back(std::move(s)); }
  void pending(PendingSecret s) override { pending_secrets.push_back(std::move(s)); }

  std::vector<Finding> findings;
  std::vector<PublicKey> keys;
  std::vector<PendingSecret> pending_secrets;
  std::vector<MacToken> tokens;
  std::vector<HuntLimit> limits;
  std::vector<KnownSecret> secrets;
};

void add_limit(std::vector<HuntLimit>& limits, HuntLimit limit) {
  for (const HuntLimit& l : limits) {
    if (l.detector == limit.detector && l.what == limit.what) return;  // one per instance and thread
  }
  limits.push_back(std::move(limit));
}

// The structure phase: every structure detector over every chunk, on the runner's threads,
// each thread with its own detector instances, the anchored ones fed by one shared Vectorscan
// pass per chunk; then the outputs merged in a fixed order, each finding kept only by the
// chunk where it starts.
void structure_phase(const ScanContext& context, const DetectorSettings& settings, bool timed, const ChunkRunner& runner,
                     std::vector<std::unique_ptr<StructureDetector>>& detectors, CollectingSink& sink,
                     std::vector<DetectorCost>& costs, double& anchor_seconds, std::string& anchor_engine) {
  const auto chunks = runner.chunks();
  const std::size_t n = detectors.size();
  // The anchors of every anchored detector, in one database: detector k's patterns are
  // first_anchor[k] .. first_anchor[k + 1].
  std::vector<AnchorPattern> patterns;
  std::vector<std::size_t> first_anchor;
  Reach anchored_reach;
  for (std::size_t k = 0; k < n; ++k) {
    first_anchor.push_back(patterns.size());
    const StructureDetector& d = *detectors[k];
    for (AnchorPattern& p : d.anchors()) patterns.push_back(std::move(p));
    if (patterns.size() > first_anchor.back()) {
      anchored_reach.before = std::max(anchored_reach.before, d.reach().before);
      anchored_reach.after = std::max(anchored_reach.after, d.reach().after);
    }
  }
  first_anchor.push_back(patterns.size());
  const AnchorDatabase database(std::move(patterns));
  anchor_engine = database.engine();
  std::vector<std::unique_ptr<AnchorScanner>> anchor_scanners(runner.threads());
  std::vector<ChunkSink> outputs(chunks.size() * n);
  // Worker 0 uses the scan's own instances; the others make theirs when they start.
  std::vector<std::vector<std::unique_ptr<StructureDetector>>> instances(runner.threads());
  std::vector<std::vector<double>> cpu(runner.threads(), std::vector<double>(n + 1, 0.0));
  std::vector<AnchorHits> scratch_hits(runner.threads());
  runner.run([&](std::size_t c, unsigned worker) {
    auto& mine = instances[worker];
    if (worker != 0 && mine.empty()) mine = make_detectors(settings).structure;
    auto& set = worker == 0 ? detectors : mine;
    if (!anchor_scanners[worker]) anchor_scanners[worker] = std::make_unique<AnchorScanner>(database);
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    // One pass finds every anchored detector's anchors in the widest window any of them needs.
    const double t0 = timed ? thread_cpu_seconds() : 0;
    const ScanArea wide = chunk_window(area, chunk, anchored_reach);
    AnchorHits all;
    if (!database.patterns().empty()) anchor_scanners[worker]->scan(wide.bytes, all);
    if (timed) cpu[worker][n] += thread_cpu_seconds() - t0;
    AnchorHits& hits = scratch_hits[worker];
    for (std::size_t k = 0; k < n; ++k) {
      StructureDetector& detector = *set[k];
      const double t1 = timed ? thread_cpu_seconds() : 0;
      const ScanArea window = chunk_window(area, chunk, detector.reach());
      if (first_anchor[k + 1] == first_anchor[k]) {
        detector.scan(context, window, outputs[c * n + k]);
      } else {
        // This detector's matches that lie wholly in its own window, as offsets into it.
        const std::size_t shift = static_cast<std::size_t>(window.file_offset - wide.file_offset);
        hits.resize(first_anchor[k + 1] - first_anchor[k]);
        for (std::size_t j = 0; j < hits.size(); ++j) {
          const std::size_t id = first_anchor[k] + j;
          const std::size_t length = database.patterns()[id].length();
          hits[j].clear();
          for (std::size_t at : all[id]) {
            if (at >= shift && at - shift + length <= window.bytes.size()) hits[j].push_back(at - shift);
          }
        }
        detector.scan_anchored(context, window, hits, outputs[c * n + k]);
      }
      if (timed) cpu[worker][k] += thread_cpu_seconds() - t1;
    }
  });
  if (timed) {
    double anchor_cpu = 0;
    for (const auto& per_worker : cpu) anchor_cpu += per_worker[n];
    anchor_seconds = anchor_cpu;
  }
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      ChunkSink& out = outputs[c * n + k];
      const ScanArea& area = context.areas[chunks[c].area];
      for (Finding& f : out.findings) {
        if (owns(area, chunks[c], f.file_offset)) sink.finding(std::move(f));
      }
      for (PublicKey& key : out.keys) sink.public_key(std::move(key));
      for (MacToken& token : out.tokens) sink.mac_token(std::move(token));
      for (HuntLimit& limit : out.limits) add_limit(sink.limits, std::move(limit));
      // A secret seen in a chunk is known whichever chunk owns its finding: the closure dedups.
      for (KnownSecret& secret : out.secrets) sink.secret(std::move(secret));
      for (PendingSecret& p : out.pending_secrets) sink.pending(std::move(p));
      out = ChunkSink();
    }
    for (const auto& per_worker : cpu) costs[k].scan_cpu_seconds += per_worker[k];
  }
  // finish() once, on the scan's own instances (the environment blocks are read there).
  for (std::size_t k = 0; k < n; ++k) {
    const double t0 = thread_cpu_seconds();
    detectors[k]->finish(context, sink);
    costs[k].finish_cpu_seconds += thread_cpu_seconds() - t0;
  }
}

// 4 MiB: the detectors that run one after another over a chunk find it in the core's cache
// (measured: 16 MiB chunks cost 15 % more CPU), 256 chunks per GiB keep the threads busy to
// the end, and the longest reach (kMaxStructure, 256 KiB) adds 1/16 to the two detectors
// that use it.
constexpr std::uint64_t kDefaultChunkSize = std::uint64_t{4} << 20;
// Resident pages are dropped after every 64 MiB of finished chunks (docs/commands/scan.md, "Bounded memory").
constexpr std::uint64_t kReleaseEvery = std::uint64_t{64} << 20;

}  // namespace

std::string_view to_string(Presence presence) {
  switch (presence) {
    case Presence::present: return "present";
    case Presence::absent: return "absent";
    case Presence::incomplete: return "incomplete";
    case Presence::not_searched: return "not searched";
  }
  return "not searched";
}

ScanReport scan_dump(const Dump& dump, const ScanOptions& options, Observer* observer, std::string_view progress_stage) {
  const bool timed = observer != nullptr && observer->wants_stats();
  ScanStats stats;
  const std::vector<ScanArea> areas = areas_of(dump);
  const DetectorSettings settings = detector_settings(options);
  Detectors detectors = make_detectors(settings);
  CollectingSink sink;
  const unsigned threads = options.threads > 0 ? options.threads : available_cores();
  // Chunks of at most 1 GiB: a window (a chunk and its reach) must stay under 4 GiB for Vectorscan.
  const std::uint64_t chunk_size = std::min<std::uint64_t>(options.chunk_size > 0 ? options.chunk_size : kDefaultChunkSize,
                                                           std::uint64_t{1} << 30);
  ThreadRunner runner(areas, chunk_size, threads,
                      dump.file.get(), kReleaseEvery);
  ScanContext context{dump, sink.ring, areas, options.fingerprint_key, &sink.tokens};
  context.runner = &runner;
  ScalarCandidates scalar_candidates;
  context.scalar_candidates = &scalar_candidates;
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

  // Progress: the structure detectors share one pass over the areas (their chunks, counted as
  // they finish), then each hunt is a pass of its own.
  std::uint64_t area_bytes = 0;
  for (const ScanArea& a : areas) area_bytes += a.bytes.size();
  Progress progress{progress_stage, "structure", 0, 1 + detectors.hunts.size(), 0, area_bytes};
  if (observer != nullptr) {
    observer->progress(progress);
    runner.on_progress([&](std::uint64_t done) {
      progress.done = done;
      observer->progress(progress);
    });
  }

  const std::vector<PublicKey> supplied = supplied_public_keys(options.supplied_keys);
  // Per detector: the structure detectors', then the hunts'.
  const std::size_t structures = detectors.structure.size();
  std::vector<DetectorCost> costs(structures + detectors.hunts.size());
  auto phase_start = std::chrono::steady_clock::now();
  double anchor_seconds = 0;
  std::string anchor_engine;
  structure_phase(context, settings, timed, runner, detectors.structure, sink, costs, anchor_seconds, anchor_engine);
  if (timed) stats.structure_seconds = seconds_since(phase_start);
  runner.on_progress(nullptr);

  phase_start = std::chrono::steady_clock::now();
  sink.ring.mark_ca(options.trusted_public_keys);
  // Supplied keys are hunted whatever they are: the user asked about them.
  for (const PublicKey& k : supplied) sink.ring.add_supplied(k);
  for (std::size_t h = 0; h < detectors.hunts.size(); ++h) {
    HuntDetector& hunt = *detectors.hunts[h];
    ++progress.pass;
    progress.step = hunt.name();
    progress.done = 0;
    if (observer != nullptr) observer->progress(progress);
    // Hunts run one at a time, so the process's CPU time is this hunt's, on every thread.
    const double t0 = process_cpu_seconds();
    hunt.prepare(context);
    hunt.hunt(context);
    const double t1 = process_cpu_seconds();
    hunt.finish(context, sink);
    costs[structures + h].scan_cpu_seconds += t1 - t0;
    costs[structures + h].finish_cpu_seconds += process_cpu_seconds() - t1;
    progress.done = area_bytes;
    if (observer != nullptr) observer->progress(progress);
  }
  // Every copy of every secret the detectors and hunts learnt, in one pass over the dump.
  const double closures_start = process_cpu_seconds();
  close_over_secrets(context, std::move(sink.secrets), std::move(sink.pending_secrets), sink);
  const double closure_seconds = process_cpu_seconds() - closures_start;
  if (timed) stats.hunt_seconds = seconds_since(phase_start);

  const auto settle_start = std::chrono::steady_clock::now();

  ScanReport report;
  for (const auto& d : detectors.structure) report.detectors.emplace_back(d->name());
  for (const auto& h : detectors.hunts) report.detectors.emplace_back(h->name());
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
  if (timed) {
    stats.settle_seconds = seconds_since(settle_start);
    stats.threads = runner.threads();
    stats.chunks = runner.chunks().size();
    stats.anchor_cpu_seconds = anchor_seconds;
    stats.closure_cpu_seconds = closure_seconds;
    stats.anchor_engine = anchor_engine;
    const TextRules rules = options.text_rules ? *options.text_rules : TextRules::builtin();
    stats.text_rules = fmt::format("{} rules, {}", rules.size(), rules.origin());
    stats.detectors.clear();
    for (std::size_t d = 0; d < costs.size(); ++d) {
      costs[d].detector = std::string(d < structures ? detectors.structure[d]->name() : detectors.hunts[d - structures]->name());
      stats.detectors.push_back(costs[d]);
    }
    observer->stats(stats);
  }
  return report;
}

}  // namespace dumpguard
