// The two interfaces detectors implement (structure detectors, which run per chunk on many
// threads, and hunts, which run once after them), and what they receive. Detectors push
// findings and harvested public keys into a sink; they never print, never read files, and
// never know which reporter will show their findings: data flows one way, from the dump to the
// report.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/jwt.hpp"
#include "detect/anchors.hpp"
#include "detect/chunks.hpp"
#include "detect/known_secret.hpp"
#include "detect/number_layout.hpp"
#include "crypto/public_key.hpp"
#include "dumpguard/dump.hpp"
#include "dumpguard/finding.hpp"

namespace dumpguard {

// A contiguous stretch of the file to search: one region's bytes, or an unaccounted range.
struct ScanArea {
  std::uint64_t file_offset = 0;
  std::span<const std::byte> bytes;
  std::optional<std::size_t> region;  // null for unaccounted bytes
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void finding(Finding finding) = 0;
  virtual void public_key(PublicKey key) = 0;
  // A MAC'd token (an HS256/384/512 JWT) whose key the HMAC hunt looks for.
  virtual void mac_token(MacToken /*token*/) {}
  // A hunt that had to stop short (its candidate budget reached) says what it left out, so no
  // statement claims a search that did not happen.
  virtual void limit(std::string_view /*detector*/, std::string /*what*/) {}
  // A secret value now known (a proven key part, a found symmetric key, a text secret): the
  // closure finds its every other copy after all detectors ran (detect/secret_closure.hpp).
  // Every sink keeps them or passes them on: one that dropped them would hide copies.
  virtual void secret(KnownSecret secret) = 0;
  // A secret whose proof the closure's pass may show (detect/known_secret.hpp PendingSecret). A
  // sink that drops it loses only a proof not yet made, never a known copy.
  virtual void pending(PendingSecret /*secret*/) {}
};

// Windows that may hold an EC scalar whose public key the scan does not know, collected by
// the RSA hunt's walk over the heap's BIGNUM records and runtimes' numbers (which it makes
// anyway), so the EC hunt needs no pass of its own: per chunk of the scan, in walk order, where
// the number starts and its length in bytes: the limbs a BIGNUM of a scalar's size points to
// (little-endian), or the first of `digits` slots of a number in a runtime's layout
// (runtime_numbers.hpp).
struct ScalarCandidate {
  std::uint64_t file_offset = 0;
  std::size_t length = 0;
  const NumberLayout* layout = nullptr;  // null: a BIGNUM's limbs
  std::size_t digits = 0;
  // The whole of a JVM int[] (runtime_numbers.hpp jvm_int_array_at), or the scalar of a JVM EC
  // key's DER (jvm_key_der_at; layout "be"): the EC hunt tests it against the points the
  // JVM holds, beside the budget of candidates the closure proves.
  bool jvm_array = false;
  // A V8 digit array (runtime_numbers.hpp v8_digit_array_at): tested against the points V8
  // holds, beside that budget too; one followed by more digits (v8_digits_follow) is only
  // looked for as a coordinate.
  bool v8_array = false;
  bool v8_followed = false;
};
struct ScalarCandidates {
  bool walked = false;  // set by the walk that filled `per_chunk`
  std::vector<std::vector<ScalarCandidate>> per_chunk;
  // Per chunk: the file offset of the first candidate the walk did not keep (a chunk keeps a
  // bounded number), if any.
  std::vector<std::optional<std::uint64_t>> cut_at;
};

// What detectors may read besides the bytes: the model and the public keys known so far.
struct ScanContext {
  const Dump& dump;
  const KeyRing& keys;  // harvested in the structure phase, read in the hunt phase
  std::span<const ScanArea> areas;
  // The installation's 32-byte fingerprint key, for keyed fingerprints of symmetric secrets
  // (crypto/digest.hpp keyed_fingerprint).
  std::span<const std::uint8_t> fingerprint_key;
  // MAC'd tokens harvested in the structure phase or supplied (--token); null in unit tests.
  const std::vector<MacToken>* tokens = nullptr;
  // --time-budget: when the hunts must stop, and the budget in seconds (for their reports).
  std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt;
  double time_budget = 0;
  // The scan's chunks and threads (detect/chunks.hpp); null when a test runs a detector alone.
  const ChunkRunner* runner = nullptr;
  // Filled by the RSA hunt's walk, read by the EC hunt after it; null in unit tests (the EC hunt
  // then walks itself).
  ScalarCandidates* scalar_candidates = nullptr;
};

// A hunt's view of the scan's time budget: once it has run out the hunt stops where it is,
// and in finish() reports a limit that says where, so no statement claims the rest.
class HuntClock {
 public:
  // True once the budget ran out; the first call that sees it remembers `file_offset`.
  bool expired(const ScanContext& context, std::uint64_t file_offset) {
    if (stopped_at_) return true;
    if (context.deadline && std::chrono::steady_clock::now() >= *context.deadline) stopped_at_ = file_offset;
    return stopped_at_.has_value();
  }
  bool stopped() const { return stopped_at_.has_value(); }
  // Records a stop another thread's clock saw (hunts that test on several threads).
  void stop_at(std::uint64_t file_offset) {
    if (!stopped_at_) stopped_at_ = file_offset;
  }
  void report(std::string_view detector, const ScanContext& context, FindingSink& sink) const;

 private:
  std::optional<std::uint64_t> stopped_at_;
};

// A structure detector: it recognises what it finds by shape (a PEM block, a CNG blob, an
// expanded AES schedule) in the bytes around it. The scanner calls scan() on chunk windows
// (detect/chunks.hpp), from several threads, each with its own instance, and keeps the findings
// that start in the chunk. So scan() keeps no state from one call to the next that changes what
// it finds, and reach() says how far around a chunk it must see to find every structure
// starting in it as a single pass over the area would.
class StructureDetector {
 public:
  virtual ~StructureDetector() = default;
  virtual std::string_view name() const = 0;
  virtual void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) = 0;
  virtual Reach reach() const { return {}; }
  // Anchored detectors (AnchoredDetector) list the fixed-length patterns they start at; the
  // scanner finds the matches of every detector's anchors in one pass over a chunk.
  virtual std::vector<AnchorPattern> anchors() const { return {}; }
  // With every match of anchors()[k] in `area` (its start offsets) in hits[k].
  virtual void scan_anchored(const ScanContext& /*context*/, const ScanArea& /*area*/, const AnchorHits& /*hits*/,
                             FindingSink& /*sink*/) {}
  // Once after every chunk was scanned, on the scan's own instance: what belongs to the model
  // rather than to an area (the environment blocks) is read here.
  virtual void finish(const ScanContext& /*context*/, FindingSink& /*sink*/) {}
};

// A structure detector that starts at anchors: scan() finds them itself (unit tests, fuzz
// targets); the scanner hands it the matches of its shared pass instead.
class AnchoredDetector : public StructureDetector {
 public:
  void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) final {
    const std::vector<AnchorPattern> patterns = anchors();
    AnchorHits hits;
    find_anchors(patterns, area.bytes, hits);
    scan_anchored(context, area, hits, sink);
  }
};

// A hunt: it tests candidates against what the structure phase harvested (public keys, MAC'd
// tokens), so the scanner runs it once, after that phase, on one instance: prepare() with the
// whole scan's context (the keys to hunt, the address map), then hunt() over context.areas on
// the runner's threads, testing candidates in the order of a single pass so that what crosses
// areas (keys found, budgets, candidates tried) comes out the same for any thread count; then
// finish() hands what it proved, and where it stopped short, to the sink.
class HuntDetector {
 public:
  virtual ~HuntDetector() = default;
  virtual std::string_view name() const = 0;
  virtual void prepare(const ScanContext& /*context*/) {}
  virtual void hunt(const ScanContext& context) = 0;
  virtual void finish(const ScanContext& context, FindingSink& sink) = 0;
};

// One detector run by itself over one area on this thread, then finished: how unit tests, fuzz
// targets and micro-benchmarks run a detector (the scanner runs chunks and threads instead).
inline void run_alone(StructureDetector& detector, const ScanContext& context, const ScanArea& area,
                      FindingSink& sink) {
  detector.scan(context, area, sink);
  detector.finish(context, sink);
}
inline void run_alone(HuntDetector& hunt, const ScanContext& context, const ScanArea& area, FindingSink& sink) {
  hunt.prepare(context);
  ScanContext one = context;
  one.areas = std::span<const ScanArea>(&area, 1);
  one.runner = nullptr;
  hunt.hunt(one);
  hunt.finish(context, sink);
}

// The file offset of the byte at `at` within the area, and its virtual address if any.
inline std::optional<std::uint64_t> vaddr_of(const Dump& dump, const ScanArea& area, std::uint64_t at) {
  if (!area.region) return std::nullopt;
  const Region& r = dump.model.regions[*area.region];
  if (!r.vaddr) return std::nullopt;
  return *r.vaddr + (area.file_offset + at - r.file_offset);
}

// A finding for [at, at + length) of the area, with its file offset, address and region
// filled in; the detector sets the rest (verified, proof, key, severity).
inline Finding finding_at(const ScanContext& context, const ScanArea& area, std::uint64_t at, std::uint64_t length,
                          std::string_view detector, std::string_view kind, std::string_view encoding) {
  Finding f;
  f.detector = std::string(detector);
  f.kind = std::string(kind);
  f.encoding = std::string(encoding);
  f.file_offset = area.file_offset + at;
  f.length = length;
  f.vaddr = vaddr_of(context.dump, area, at);
  f.region = area.region;
  return f;
}

// A secret a hunt has proven (a factor, a scalar, a seed, an HMAC key): verified and critical,
// of `key`. The closure reports each copy of it, the one the hunt tested included.
inline KnownSecret proven_secret(KnownSecret::Shape shape, std::span<const std::uint8_t> value, std::size_t width,
                                 std::string_view detector, std::string_view kind, std::string proof, std::string key) {
  KnownSecret s;
  s.shape = shape;
  s.value.bytes.assign(value.begin(), value.end());
  s.width = width;
  s.detector = std::string(detector);
  s.kind = std::string(kind);
  s.proof = std::move(proof);
  s.key = std::move(key);
  s.verified = true;
  s.severity = Severity::critical;
  return s;
}

// The secret value behind finding `f` (its key, verdict, severity and proof), for the closure;
// `kind` names the value when it is not what the finding spans (the raw key of a schedule).
inline KnownSecret secret_of(const Finding& f, KnownSecret::Shape shape, std::span<const std::uint8_t> value,
                             std::size_t width = 0, std::string_view kind = {}) {
  KnownSecret s;
  s.shape = shape;
  s.value.bytes.assign(value.begin(), value.end());
  s.width = width;
  s.detector = f.detector;
  s.kind = kind.empty() ? f.kind : std::string(kind);
  s.key = f.key;
  s.proof = f.proof;
  s.verified = f.verified;
  s.severity = f.severity;
  return s;
}

inline void HuntClock::report(std::string_view detector, const ScanContext& context, FindingSink& sink) const {
  if (!stopped_at_) return;
  sink.limit(detector, fmt::format("the time budget of {} s ran out at file offset {:#x}; the bytes after it were "
                                   "not searched by this hunt",
                                   context.time_budget, *stopped_at_));
}

// The width of the process's pointers and size_t: 4 on 32-bit x86 and ARM, else 8.
inline unsigned pointer_width(const DumpModel& model) {
  return (model.arch == "x86" || model.arch == "arm") ? 4 : 8;
}

}  // namespace dumpguard
