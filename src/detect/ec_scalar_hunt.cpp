// A scalar multiplication costs about 40-57 µs (P-256), so candidates are few and cheap tests
// come first. Structure first: glibc chunks and BIGNUMs sized for the scalar, with at least
// half the bytes distinct and no word that looks like a user-space pointer. Then everywhere
// else, under stricter prefilters: islands of random bytes (limb_candidates.hpp) that pass
// looks_random, under a budget. Each candidate costs one multiplication per byte order
// whatever the number of keys: d·G is compared with every target point. Blind spots (docs/detectors.md):
// scalars inside long runs of random bytes or not 8-byte aligned outside malloc chunks, and
// keys whose public point is neither in the dump nor supplied. Keys the scan does not know are
// hunted from memory (blind_hunt): a BIGNUM window or a number in a mapped runtime's layout (and
// with --exhaustive a chunk window) is proven when a coordinate of its d·G is elsewhere in the
// dump, which the closure's pass looks for; islands are not tried that way.
#include "detect/ec_scalar_hunt.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include "crypto/openssl_ptr.hpp"
#include "crypto/digest.hpp"
#include "crypto/private_key.hpp"
#include "crypto/spki.hpp"
#include "crypto/wiped_bytes.hpp"
#include "detect/limb_candidates.hpp"
#include "detect/number_layout.hpp"
#include "detect/pass_order.hpp"
#include "detect/runtime_numbers.hpp"

namespace dumpguard {

namespace {

struct Curve {
  int nid = 0;
  std::size_t scalar_len = 0;
  EcGroupPtr group;
  std::vector<const PublicKey*> targets;  // keys on this curve, compared by uncompressed point
  std::size_t found = 0;                  // targets whose scalar was found
  std::size_t islands = 0;                // island candidates tested
  std::optional<std::uint64_t> stopped_at;  // file offset where the budget ran out
};

// The curves whose scalars are hunted without a known public key: each candidate costs one
// multiplication per curve of its length and byte order.
constexpr std::array kBlindCurves{NID_X9_62_prime256v1, NID_secp256k1, NID_secp384r1, NID_secp521r1};

struct BlindCurve {
  int nid = 0;
  std::size_t scalar_len = 0;
  std::size_t field_len = 0;
  EcGroupPtr group;
  // Multiples of G stored in the group (precompute_generator): d·G is then a wNAF sum of them.
  bool precomputed = false;
};

// secp256k1 has no implementation of its own in OpenSSL: d·G is a generic Montgomery ladder,
// about 480 µs, where P-256's is 14 µs. With multiples of G stored in the group (0.9 ms, once)
// and d·G asked as d·G + 0·G, which takes OpenSSL's wNAF path instead of the ladder, it costs
// about 90 µs (bench/RESULTS.md). That path's time depends on d: a candidate's bits could be
// timed by a process on the same machine as the scan, as any variable-time code's could; the
// ladder stays for the curves that have their own implementation.
bool precompute_generator(BlindCurve& curve, BN_CTX* ctx) {
  if (curve.precomputed) return true;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  curve.precomputed = EC_GROUP_precompute_mult(curve.group.get(), ctx) == 1;
#pragma GCC diagnostic pop
  return curve.precomputed;
}

// The curves of the JVM's own EC provider (SunEC, JDK 16 on): its arrays are multiplied on
// these only. secp256k1 has no precomputed multiples of G in OpenSSL, and cost a JVM heap of
// 7,000 BigIntegers 3 s of CPU more; with --exhaustive its arrays go on to the closure, on
// every curve.
constexpr std::array kJvmCurves{NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};

// The curves V8's digit arrays are multiplied on: elliptic's P-256, secp256k1 and P-384. Not
// P-521: its scalars fill 20 or 21 digits, as does every product of two 256-bit numbers that
// elliptic computes (a Node.js heap that signed holds thousands), each a P-521 multiplication.
constexpr std::array kV8Curves{NID_X9_62_prime256v1, NID_secp256k1, NID_secp384r1};

// A window that may hold a scalar whose public point is only in memory.
struct BlindCandidate {
  std::uint64_t file_offset = 0;
  // In the mapping (a runtime's number: its slots, until read into big-endian bytes).
  const std::uint8_t* bytes = nullptr;
  std::size_t length = 0;
  // A BIGNUM's limbs are little-endian words (x86, ARM): one byte order. A window after a chunk
  // header may be a byte array of either order.
  bool both_orders = true;
  // A number in a runtime's layout: `digits` slots from file_offset, read into big-endian bytes
  // (one order) before it is tested.
  const NumberLayout* layout = nullptr;
  std::size_t digits = 0;
  // The whole of a JVM int[] (runtime_numbers.hpp): tested against the points the JVM holds.
  bool jvm_array = false;
  // A V8 digit array (runtime_numbers.hpp v8_digit_array_at): tested against the points V8 holds;
  // one followed by more digits only as a coordinate of them.
  bool v8_array = false;
  bool coordinate_only = false;

  bool read_as(bool little_endian) const {
    if (layout != nullptr) return !little_endian;
    return both_orders || little_endian;
  }
  // The file bytes the candidate occupies: a witness found inside them proves nothing.
  std::size_t span() const { return layout != nullptr ? digits * layout->slot_bytes : length; }
};

// d·G for one candidate, curve and byte order: its uncompressed encoding 04 || X || Y.
struct BlindPoint {
  std::size_t candidate = 0;
  std::size_t curve = 0;
  bool little_endian = false;
  std::vector<std::uint8_t> encoded;
};

// A runtime's arrays tested apart from the budget of candidates (prove_runtime_arrays): the
// distinct values tested, and where their budget ran out.
struct ArraysTested {
  std::set<std::array<std::uint8_t, 32>> seen;
  std::size_t tested = 0;
  std::optional<std::uint64_t> stopped_at;
};

class EcScalarHunt final : public HuntDetector {
 public:
  EcScalarHunt(std::size_t island_budget, std::size_t blind_budget, bool blind_chunks)
      : island_budget_(island_budget), blind_budget_(blind_budget), blind_chunks_(blind_chunks) {}
  std::string_view name() const override { return "ec-scalar"; }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    for (const Curve& curve : curves_) {
      if (!curve.stopped_at) continue;
      sink.limit(name(), fmt::format("{}: the island budget of {} candidates was reached at file offset {:#x}; islands "
                                     "after it were not tested",
                                     curve_name(curve.nid), island_budget_, *curve.stopped_at));
    }
    if (blind_stopped_at_) {
      sink.limit(name(), fmt::format("the budget of {} candidate scalars tested against public points in memory was "
                                     "reached at file offset {:#x}; candidates after it were tested only against "
                                     "public keys the scan knew",
                                     blind_budget_, *blind_stopped_at_));
    }
    if (jvm_.stopped_at) {
      sink.limit(name(), fmt::format("the budget of {} JVM int[] arrays tested against the points the JVM holds was "
                                     "reached at file offset {:#x}; arrays after it were not tested",
                                     kJvmArrayBudget, *jvm_.stopped_at));
    }
    if (v8_.stopped_at) {
      sink.limit(name(), fmt::format("the budget of {} V8 digit arrays tested against the points V8 holds was "
                                     "reached at file offset {:#x}; arrays after it were not tested",
                                     kV8ArrayBudget, *v8_.stopped_at));
    }
    if (walk_cut_at_) {
      sink.limit(name(), fmt::format("more candidate scalars than one chunk keeps; those from file offset {:#x} in "
                                     "that chunk were not tested",
                                     *walk_cut_at_));
    }
    // Scalars proven by a coordinate of their d·G among the JVM's arrays.
    for (PendingSecret& p : proven_) {
      if (p.key) sink.public_key(std::move(*p.key));
      sink.secret(std::move(p.secret));
    }
    proven_.clear();
    // Candidates whose proof is a coordinate of their d·G elsewhere in the dump: the closure
    // looks for the witnesses in its own pass.
    for (PendingSecret& p : pending_) sink.pending(std::move(p));
    pending_.clear();
    // Each proven scalar, for the closure: every copy in any layout is a finding.
    for (auto& [key, scalar] : found_) {
      WipedBytes value;
      value.bytes.resize(static_cast<std::size_t>(BN_num_bytes(scalar.get())));
      BN_bn2bin(scalar.get(), value.bytes.data());
      std::size_t width = value.bytes.size();
      for (const Curve& curve : curves_) {
        if (curve.nid == key->curve_nid) width = curve.scalar_len;
      }
      sink.secret(proven_secret(KnownSecret::Shape::number, value.bytes, width, "ec-scalar", "ec-private-scalar",
                                fmt::format("d·G equals the {} public key {} ({})", curve_name(key->curve_nid),
                                            key->fingerprint, key->origin),
                                key->fingerprint));
    }
  }

 private:
  void prepare(const ScanContext& context) override {
    if (prepared_) return;
    prepared_ = true;
    word_ = pointer_width(context.dump.model);
    map_.emplace(context.dump.model);
    for (int nid : kBlindCurves) {
      if (blind_budget_ == 0) break;
      EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
      if (!group) continue;
      BlindCurve c;
      c.nid = nid;
      c.scalar_len = static_cast<std::size_t>(BN_num_bytes(EC_GROUP_get0_order(group.get())));
      c.field_len = (static_cast<std::size_t>(EC_GROUP_get_degree(group.get())) + 7) / 8;
      c.group = std::move(group);
      if (std::find(blind_lengths_.begin(), blind_lengths_.end(), c.scalar_len) == blind_lengths_.end()) {
        blind_lengths_.push_back(c.scalar_len);
        blind_bits_.push_back(static_cast<unsigned>(EC_GROUP_order_bits(c.group.get())));
      }
      blind_curves_.push_back(std::move(c));
    }
    if (!blind_curves_.empty()) {
      blind_layouts_ = runtime_layouts(context.dump.model, 8 * word_, blind_chunks_);
      witness_layouts_ = closure_layouts(context.dump.model);
    }
    for (const PublicKey& k : context.keys.keys()) {
      if (k.type != KeyType::ec || k.ca) continue;
      Curve* curve = nullptr;
      for (Curve& c : curves_) {
        if (c.nid == k.curve_nid) curve = &c;
      }
      if (curve == nullptr) {
        EcGroupPtr group(EC_GROUP_new_by_curve_name(k.curve_nid));
        if (!group) continue;
        Curve c;
        c.nid = k.curve_nid;
        c.scalar_len = static_cast<std::size_t>(BN_num_bytes(EC_GROUP_get0_order(group.get())));
        c.group = std::move(group);
        curves_.push_back(std::move(c));
        curve = &curves_.back();
      }
      curve->targets.push_back(&k);
    }
  }

  // Streams of one area, in the order one pass tests them: for each curve, the limbs after
  // glibc chunk headers (each tried little- then big-endian) and the limbs BIGNUMs point to;
  // then for each curve its islands (little- then big-endian), under the island budget.
  std::size_t chunk_stream(std::size_t curve) const { return 2 * curve; }
  std::size_t bignum_stream(std::size_t curve) const { return 2 * curve + 1; }
  std::size_t island_stream(std::size_t curve) const { return 2 * curves_.size() + curve; }

  // A scalar multiplication whose point is a target's: where, and which target.
  struct Hit {
    std::size_t stream = 0;
    std::size_t index = 0;  // in the stream within the chunk; a window's two byte orders are 2j, 2j+1
    std::uint64_t file_offset = 0;
    bool little_endian = false;
    std::size_t target = 0;  // index into the curve's targets
    const std::uint8_t* bytes = nullptr;  // the window's bytes in the mapping
  };
  struct Island {
    std::uint64_t file_offset;
    const std::uint8_t* bytes;
  };
  struct ChunkOutcome {
    std::vector<Hit> hits;
    std::optional<Hit> stop;                        // where this chunk's clock ran out
    std::vector<std::vector<Island>> islands;  // per curve: windows that pass looks_random
  };

  void hunt(const ScanContext& context) override {
    hunt_known(context);
    blind_hunt(context);
  }

  // Scalars of the public keys the scan knows.
  void hunt_known(const ScanContext& context) {
    if (curves_.empty()) return;
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    // earliest[curve][target]: the first pass position where that key's scalar was found.
    std::vector<std::vector<EarliestHit>> earliest(curves_.size());
    for (std::size_t ci = 0; ci < curves_.size(); ++ci) {
      earliest[ci].resize(curves_[ci].targets.size());
      for (std::size_t t = 0; t < curves_[ci].targets.size(); ++t) {
        if (found_.count(curves_[ci].targets[t])) earliest[ci][t].note(0);
      }
    }
    std::vector<ChunkOutcome> outcomes(chunks.size());
    std::vector<BnCtxPtr> contexts(worker_count(context));
    // First on every thread: the structure streams, tested as they are walked, and the islands,
    // walked only (the budget counts them in pass order, which no thread knows yet).
    run_chunks(context, [&](std::size_t c, unsigned worker) {
      if (!contexts[worker]) contexts[worker].reset(BN_CTX_new());
      walk_structures(context, chunks, c, earliest, contexts[worker].get(), outcomes[c]);
    });
    // The islands one pass would test: per curve, the first island_budget_ in pass order.
    std::vector<std::vector<std::size_t>> budget_left(chunks.size(), std::vector<std::size_t>(curves_.size(), 0));
    for (std::size_t ci = 0; ci < curves_.size(); ++ci) {
      std::size_t left = island_budget_ > curves_[ci].islands ? island_budget_ - curves_[ci].islands : 0;
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        budget_left[c][ci] = std::min(left, outcomes[c].islands.empty() ? 0 : outcomes[c].islands[ci].size());
        left -= budget_left[c][ci];
      }
    }
    run_chunks(context, [&](std::size_t c, unsigned worker) {
      if (!contexts[worker]) contexts[worker].reset(BN_CTX_new());
      test_islands(context, chunks, c, earliest, budget_left[c], contexts[worker].get(), outcomes[c]);
    });
    replay(context, chunks, outcomes);
  }

  void walk_structures(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
                       std::vector<std::vector<EarliestHit>>& earliest, BN_CTX* ctx, ChunkOutcome& out) const {
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    out.islands.resize(curves_.size());
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    std::size_t longest = 0;
    for (const Curve& curve : curves_) longest = std::max(longest, curve.scalar_len);
    const ScanArea window = chunk_window(area, chunk, {island_reach(longest), island_reach(longest) + 64});
    const auto* data = reinterpret_cast<const std::uint8_t*>(window.bytes.data());
    std::set<std::pair<std::uint64_t, std::size_t>> tried;
    HuntClock clock;
    for (std::size_t ci = 0; ci < curves_.size() && !out.stop; ++ci) {
      const Curve& curve = curves_[ci];
      const LimbSearch search = chunk_limb_search(context, area, window, chunk, word_, curve.scalar_len);
      for (std::size_t stream : {chunk_stream(ci), bignum_stream(ci)}) {
        if (out.stop || all_found_before(earliest[ci], pass_position(chunk.area, stream, c))) continue;
        std::size_t index = 0;
        const auto try_at = [&](const std::uint8_t* p, std::uint64_t at, bool little_endian) {
          test(context, ci, p, at, little_endian, stream, index++, c, chunk.area, earliest, tried, clock, ctx, out);
        };
        if (stream == chunk_stream(ci)) {
          for_each_chunk(search, 32, [&](std::size_t o) {
            try_at(data + o, window.file_offset + o, true);
            try_at(data + o, window.file_offset + o, false);
          });
        } else {
          for_each_bignum(search, *map_, [&](std::uint64_t at) { try_at(all + at, at, true); });
        }
      }
      // Then everywhere else, with the strict prefilters: islands of random bytes.
      if (all_found_before(earliest[ci], pass_position(chunk.area, island_stream(ci), c))) continue;
      for_each_island(search, [&](std::size_t o) {
        if (looks_random(data + o, curve.scalar_len)) out.islands[ci].push_back({window.file_offset + o, data + o});
      });
    }
  }

  void test_islands(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
                    std::vector<std::vector<EarliestHit>>& earliest, const std::vector<std::size_t>& budget,
                    BN_CTX* ctx, ChunkOutcome& out) const {
    if (out.islands.empty() || out.stop) return;
    std::set<std::pair<std::uint64_t, std::size_t>> tried;
    HuntClock clock;
    for (std::size_t ci = 0; ci < curves_.size() && !out.stop; ++ci) {
      const std::size_t stream = island_stream(ci);
      for (std::size_t j = 0; j < budget[ci] && !out.stop; ++j) {
        if (all_found_before(earliest[ci], pass_position(chunks[c].area, stream, c))) break;
        const Island& at = out.islands[ci][j];
        test(context, ci, at.bytes, at.file_offset, true, stream, 2 * j, c, chunks[c].area, earliest, tried, clock, ctx,
             out);
        test(context, ci, at.bytes, at.file_offset, false, stream, 2 * j + 1, c, chunks[c].area, earliest, tried,
             clock, ctx, out);
      }
    }
  }

  // Scalars whose public point is only in memory. Candidates from structure alone, under
  // looks_random since no key narrows them: the limbs BIGNUM records of a scalar's size point
  // to, and numbers of a scalar's size in the layouts of the runtimes the process maps
  // (runtime_numbers.hpp), both gathered by the RSA hunt's walk over the heap's BIGNUMs and the
  // runtimes' numbers when it runs, so no pass is added; with --exhaustive also the limbs after
  // glibc chunk headers (a walk of its own: small chunks fill a heap, so that walk costs about
  // 0.45 s per GiB), and every runtime's layouts in every dump. The first blind_budget_
  // distinct ones in pass order. Islands are not: a heap of a few GiB has thousands, and every
  // candidate's point adds its forms to the search. d·G once for each (every curve of its
  // length, both byte orders); each point's coordinates in every number layout are handed to
  // the closure as witnesses, which it looks for in its one pass over the dump. A coordinate
  // found anywhere but in the candidate itself proves d: a random window's d·G has a given
  // coordinate of 32 bytes or more with probability at most 2^-256. (SEC1 encodings hold the
  // coordinates big-endian, so the "be" layout finds them.)
  void blind_hunt(const ScanContext& context) {
    if (blind_curves_.empty() || blind_stopped_at_ || clock_.stopped()) return;
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    std::vector<std::vector<BlindCandidate>> walked(chunks.size());
    const ScalarCandidates* shared = context.scalar_candidates;
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    if (!blind_chunks_ && shared && shared->walked && shared->per_chunk.size() == chunks.size()) {
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        for (const ScalarCandidate& k : shared->per_chunk[c]) {
          if (std::find(blind_lengths_.begin(), blind_lengths_.end(), k.length) == blind_lengths_.end()) continue;
          walked[c].push_back(
              {k.file_offset, all + k.file_offset, k.length, false, k.layout, k.digits, k.jvm_array, k.v8_array,
               k.v8_followed});
        }
        if (c < shared->cut_at.size() && shared->cut_at[c] && !walk_cut_at_) walk_cut_at_ = shared->cut_at[c];
      }
    } else {
      run_chunks(context, [&](std::size_t c, unsigned /*worker*/) { walk_blind(context, chunks, c, walked[c]); });
    }
    // Runtimes' numbers are read from their slots into big-endian bytes here, kept (and wiped)
    // until the hunt ends.
    std::deque<WipedBytes> numbers;
    const auto read_digits = [&](BlindCandidate& candidate) {
      if (candidate.layout == nullptr) return true;
      auto n = read_number(*candidate.layout, {candidate.bytes, candidate.span()}, candidate.digits, candidate.length);
      if (!n) return false;
      numbers.emplace_back().bytes = std::move(*n);
      candidate.bytes = numbers.back().bytes.data();
      return true;
    };
    for (auto& chunk : walked) {
      std::vector<BlindCandidate> numbers_read;
      for (BlindCandidate candidate : chunk) {
        if (read_digits(candidate)) numbers_read.push_back(candidate);
      }
      chunk = std::move(numbers_read);
    }
    prove_jvm_arrays(context, chunks, walked);
    prove_v8_arrays(context, chunks, walked);
    // The budget, in pass order, over distinct values. The JVM's and V8's arrays were tested
    // above; with --exhaustive those not proven there go on to the closure like the others.
    std::vector<BlindCandidate> candidates;
    std::vector<std::size_t> first_of(chunks.size() + 1, 0);
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      first_of[c] = candidates.size();
      for (const BlindCandidate& candidate : walked[c]) {
        if (blind_stopped_at_) break;
        if (((candidate.jvm_array || candidate.v8_array) && !blind_chunks_) || candidate.coordinate_only) continue;
        if (!blind_seen_.insert(sha256({candidate.bytes, candidate.length})).second) continue;
        if (blind_tested_ == blind_budget_) {
          blind_stopped_at_ = candidate.file_offset;
          break;
        }
        ++blind_tested_;
        candidates.push_back(candidate);
      }
    }
    first_of[chunks.size()] = candidates.size();
    for (auto& chunk_points : points_of(context, chunks, candidates, first_of)) {
      for (const BlindPoint& p : chunk_points) {
        if (auto pending = pending_for(context, candidates[p.candidate], p)) pending_.push_back(std::move(*pending));
      }
    }
  }

  // The whole int[] arrays of a JVM heap (runtime_numbers.hpp jvm_int_array_at) that may hold
  // a scalar: a BigInteger's magnitude, but also every other BigInteger a JVM computed with
  // (ECDSA signatures' r and s, intermediates), random enough to pass. A JVM keeps a public
  // point as BigIntegers too (java.security.spec.ECPoint, its coordinates' magnitudes) or as a
  // key the scan harvests (an X.509 encoding), so each candidate is tested here against those:
  // d·G's x among the values of the arrays themselves, or d·G a public key the scan knows. No
  // witness goes to the closure, so a heap's many arrays do not spend the budget of those; the
  // multiplications are the cost, the first kJvmArrayBudget distinct arrays in pass order. The
  // scalar of an EC key's DER (runtime_numbers.hpp jvm_key_der_at: a key pair the JVM made and
  // never read as a BigInteger) is one of them, under the same budget.
  void prove_jvm_arrays(const ScanContext& context, const std::vector<ChunkBounds>& chunks,
                        const std::vector<std::vector<BlindCandidate>>& walked) {
    prove_runtime_arrays(context, chunks, walked, {&BlindCandidate::jvm_array, kJvmCurves, kJvmArrayBudget, false},
                         jvm_);
  }

  // V8's digit arrays of a scalar's size (runtime_numbers.hpp v8_digit_array_at), as the JVM's
  // arrays above: bn.js keeps every number so (elliptic's keys, its signatures' r and s, its
  // precomputed multiples of G, intermediates), and a point as two such numbers, in normal form
  // (secp256k1's k256 reduction) or in Montgomery form (elliptic's P-256, P-384 and P-521 use
  // bn.js's BN.mont: x·2^260 mod p for P-256). An array followed by more digits (a coordinate
  // reduced in place keeps its product's stale digits) is looked for as a coordinate only.
  void prove_v8_arrays(const ScanContext& context, const std::vector<ChunkBounds>& chunks,
                       const std::vector<std::vector<BlindCandidate>>& walked) {
    prove_runtime_arrays(context, chunks, walked, {&BlindCandidate::v8_array, kV8Curves, kV8ArrayBudget, true}, v8_);
  }

  // A runtime's whole arrays, tested against the points the same runtime holds.
  struct ArrayRoute {
    bool BlindCandidate::*member = nullptr;  // the candidates it takes
    std::span<const int> curves;             // multiplied on these (empty: every curve of the length)
    std::size_t budget = 0;                  // distinct values, in pass order
    // Whether the runtime may keep a coordinate in Montgomery form with the radix of its digits,
    // x·2^(digit bits × digits of p) mod p, as bn.js's BN.mont and jsbn's Montgomery do.
    bool montgomery = false;
    bool multiplies_on(int nid) const {
      return curves.empty() || std::find(curves.begin(), curves.end(), nid) != curves.end();
    }
  };
  void prove_runtime_arrays(const ScanContext& context, const std::vector<ChunkBounds>& chunks,
                            const std::vector<std::vector<BlindCandidate>>& walked, const ArrayRoute& route,
                            ArraysTested& state) {
    struct Where {
      std::uint64_t file_offset = 0;
      const NumberLayout* layout = nullptr;
    };
    std::map<std::array<std::uint8_t, 32>, Where> coordinates;  // SHA-256 of a value: where it is
    std::vector<const NumberLayout*> layouts;  // of the arrays, for the Montgomery forms
    std::vector<BlindCandidate> arrays;
    std::vector<std::size_t> first_of(chunks.size() + 1, 0);
    // Whether a value of `length` bytes is multiplied on some curve of the route.
    const auto multiplied = [&](std::size_t length) {
      return std::any_of(blind_curves_.begin(), blind_curves_.end(), [&](const BlindCurve& curve) {
        return curve.scalar_len == length &&
               route.multiplies_on(curve.nid);
      });
    };
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      first_of[c] = arrays.size();
      for (const BlindCandidate& candidate : walked[c]) {
        if (!(candidate.*route.member)) continue;
        const auto id = sha256({candidate.bytes, candidate.length});
        // A coordinate is a runtime's array; a JVM key's DER (layout "be") holds a scalar, never a point.
        if (candidate.layout == nullptr || candidate.layout->name != "be") {
          coordinates.emplace(id, Where{candidate.file_offset, candidate.layout});
          if (std::find(layouts.begin(), layouts.end(), candidate.layout) == layouts.end()) {
            layouts.push_back(candidate.layout);
          }
        }
        if (candidate.coordinate_only || !multiplied(candidate.length) || state.stopped_at ||
            !state.seen.insert(id).second) {
          continue;
        }
        if (state.tested == route.budget) {
          state.stopped_at = candidate.file_offset;
          continue;
        }
        ++state.tested;
        arrays.push_back(candidate);
      }
    }
    first_of[chunks.size()] = arrays.size();
    BnCtxPtr ctx(BN_CTX_new());
    for (BlindCurve& curve : blind_curves_) {
      if (!arrays.empty() && curve.nid == NID_secp256k1 &&
          route.multiplies_on(curve.nid)) {
        precompute_generator(curve, ctx.get());
      }
    }
    for (auto& chunk_points : points_of(context, chunks, arrays, first_of, route.curves)) {
      for (const BlindPoint& p : chunk_points) {
        const BlindCandidate& candidate = arrays[p.candidate];
        const PublicKey pub = key_of(p);
        if (const PublicKey* known = context.keys.find(pub.fingerprint); known != nullptr && !known->ca) {
          BnPtr d(BN_bin2bn(candidate.bytes, static_cast<int>(candidate.length), nullptr));
          if (d && !found_.count(known)) found_.emplace(known, std::move(d));
          continue;
        }
        const auto where = coordinate_held(p, coordinates, layouts, route.montgomery, ctx.get());
        if (!where || where->first.file_offset == candidate.file_offset) continue;
        auto proven = pending_for(context, candidate, p, false);
        if (!proven) continue;
        const std::string text = fmt::format("{} laid out as {} at file offset {:#x}", where->second,
                                             where->first.layout != nullptr ? where->first.layout->name : "bytes",
                                             where->first.file_offset);
        proven->secret.proof += text;
        if (proven->key) proven->key->origin += text;
        blind_seen_.insert(sha256({candidate.bytes, candidate.length}));
        proven_.push_back(std::move(*proven));
      }
    }
  }

  // Where a coordinate of the point is among `coordinates` (SHA-256 of each array's value), and
  // which coordinate in which form: x, then y, each as it is and (with `montgomery`) in the
  // Montgomery form of each layout's radix.
  template <typename Where>
  std::optional<std::pair<Where, std::string>> coordinate_held(
      const BlindPoint& p, const std::map<std::array<std::uint8_t, 32>, Where>& coordinates,
      std::span<const NumberLayout* const> layouts, bool montgomery, BN_CTX* ctx) const {
    const BlindCurve& curve = blind_curves_[p.curve];
    const unsigned degree = static_cast<unsigned>(EC_GROUP_get_degree(curve.group.get()));
    BnPtr prime(BN_new()), value(BN_new());
    if (!prime || !value || EC_GROUP_get_curve(curve.group.get(), prime.get(), nullptr, nullptr, ctx) != 1) {
      return std::nullopt;
    }
    std::vector<std::uint8_t> form(curve.field_len);
    for (const bool is_y : {false, true}) {
      const std::uint8_t* coordinate = p.encoded.data() + 1 + (is_y ? curve.field_len : 0);
      const std::string_view name = is_y ? "y" : "x";
      if (const auto at = coordinates.find(sha256({coordinate, curve.field_len})); at != coordinates.end()) {
        return std::pair{at->second, fmt::format("{} of d·G", name)};
      }
      for (const NumberLayout* layout : layouts) {
        if (!montgomery || layout == nullptr) continue;
        const std::size_t shift = layout->digit_bits * digits_for(*layout, degree);
        if (!BN_bin2bn(coordinate, static_cast<int>(curve.field_len), value.get()) ||
            !BN_lshift(value.get(), value.get(), static_cast<int>(shift)) ||
            !BN_nnmod(value.get(), value.get(), prime.get(), ctx) ||
            BN_bn2binpad(value.get(), form.data(), static_cast<int>(form.size())) < 0) {
          continue;
        }
        if (const auto at = coordinates.find(sha256(form)); at != coordinates.end()) {
          return std::pair{at->second,
                           fmt::format("{} of d·G in Montgomery form ({}·2^{} mod p)", name, name, shift)};
        }
      }
    }
    return std::nullopt;
  }

  // d·G for each candidate (every curve of its length, or those of `only`; each byte order it
  // is read in), per chunk: on the scan's threads a chunk's candidates at a time when there are many; a few (a
  // heap's usual handful) on this thread, where a round of the runner would cost more than the
  // multiplications. Where the time budget ran out, the hunt's clock says so.
  std::vector<std::vector<BlindPoint>> points_of(const ScanContext& context, const std::vector<ChunkBounds>& chunks,
                                                 const std::vector<BlindCandidate>& candidates,
                                                 const std::vector<std::size_t>& first_of,
                                                 std::span<const int> only = {}) {
    std::vector<std::vector<BlindPoint>> computed(chunks.size());
    if (candidates.empty()) return computed;
    std::vector<std::optional<std::uint64_t>> stops(chunks.size());
    std::vector<BnCtxPtr> contexts(worker_count(context));
    const auto multiply_chunk = [&](std::size_t c, unsigned worker) {
      if (!contexts[worker]) contexts[worker].reset(BN_CTX_new());
      HuntClock clock;
      for (std::size_t i = first_of[c]; i < first_of[c + 1]; ++i) {
        if (clock.expired(context, candidates[i].file_offset)) {
          stops[c] = candidates[i].file_offset;
          return;
        }
        multiply(candidates[i], i, contexts[worker].get(), computed[c], only);
      }
    };
    constexpr std::size_t kFewCandidates = 64;
    if (candidates.size() <= kFewCandidates) {
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        if (first_of[c] == first_of[c + 1]) continue;
        multiply_chunk(c, 0);
        if (stops[c]) break;
      }
    } else {
      run_chunks(context, multiply_chunk);
    }
    for (const auto& stop : stops) {
      if (stop) {
        clock_.stop_at(*stop);
        break;
      }
    }
    return computed;
  }

  // The public key d·G is, fingerprinted.
  PublicKey key_of(const BlindPoint& point) const {
    const BlindCurve& curve = blind_curves_[point.curve];
    PublicKey pub;
    pub.type = KeyType::ec;
    pub.curve_nid = curve.nid;
    pub.point = point.encoded;
    pub.bits = static_cast<unsigned>(EC_GROUP_get_degree(curve.group.get()));
    fingerprint(pub);
    return pub;
  }

  // A candidate's scalar for one curve and byte order, proven if the closure's pass finds a
  // coordinate of its d·G (its witnesses); without witnesses, for a proof the caller completes.
  // Nothing when d·G is a known key whose scalar is found already.
  std::optional<PendingSecret> pending_for(const ScanContext& context, const BlindCandidate& candidate,
                                           const BlindPoint& point, bool witnesses = true) const {
    const BlindCurve& curve = blind_curves_[point.curve];
    PublicKey pub = key_of(point);
    const PublicKey* known = context.keys.find(pub.fingerprint);
    if (known != nullptr && found_.count(known)) return std::nullopt;
    const int n = static_cast<int>(candidate.length);
    BnPtr d(point.little_endian ? BN_lebin2bn(candidate.bytes, n, nullptr) : BN_bin2bn(candidate.bytes, n, nullptr));
    if (!d) return std::nullopt;
    WipedBytes value;
    value.bytes.resize(static_cast<std::size_t>(BN_num_bytes(d.get())));
    BN_bn2bin(d.get(), value.bytes.data());
    PendingSecret p;
    p.secret = proven_secret(KnownSecret::Shape::number, value.bytes, curve.scalar_len, "ec-scalar", "ec-private-scalar",
                             fmt::format("d·G is the {} public key {}: ", curve_name(curve.nid), pub.fingerprint),
                             pub.fingerprint);
    p.candidate_offset = candidate.file_offset;
    p.candidate_length = candidate.span();
    const std::span<const std::uint8_t> x(point.encoded.data() + 1, curve.field_len),
        y(point.encoded.data() + 1 + curve.field_len, curve.field_len);
    // x in every layout, y as bytes (SEC1 and full-width limbs): a runtime that keeps a point
    // in a layout keeps x in it too, and each witness adds to the closure's filter.
    for (const bool is_y : {false, true}) {
      if (!witnesses) break;
      const Magnitude magnitude = magnitude_of(is_y ? y : x);
      if (magnitude.bytes.size() < 8) continue;
      for (const NumberLayout* each : witness_layouts_) {
        const NumberLayout& layout = *each;
        if (is_y && layout.name != "be" && layout.name != "le") continue;
        LaidOut laid = lay_out_magnitude(layout, magnitude);
        p.witnesses.push_back({std::move(laid.bytes), std::move(laid.mask),
                               fmt::format("{} of d·G laid out as {}", is_y ? "y" : "x", layout.name)});
      }
    }
    if (known == nullptr) {
      pub.derived = true;
      pub.origin = fmt::format("the public point of a scalar at file offset {:#x}: ", candidate.file_offset);
      p.key = std::move(pub);
    }
    return p;
  }

  void walk_blind(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
                  std::vector<BlindCandidate>& out) const {
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    const std::size_t longest = *std::max_element(blind_lengths_.begin(), blind_lengths_.end());
    const unsigned most_bits = *std::max_element(blind_bits_.begin(), blind_bits_.end());
    const ScanArea window = chunk_window(
        area, chunk, {64, std::max(longest + 64, blind_layouts_.empty() ? 0 : runtime_number_reach(most_bits))});
    const auto* data = reinterpret_cast<const std::uint8_t*>(window.bytes.data());
    std::set<std::pair<std::uint64_t, std::size_t>> tried;
    const auto take = [&](std::size_t len, const std::uint8_t* p, std::uint64_t at, bool both_orders) {
      if (looks_random(p, len) && tried.insert({at, len}).second) out.push_back({at, p, len, both_orders});
    };
    // One walk of each kind for every scalar length.
    const LimbSearch search = chunk_limb_search(context, area, window, chunk, word_, longest);
    if (blind_chunks_) {
      std::vector<ChunkTarget> targets;
      for (const std::size_t len : blind_lengths_) targets.push_back({len, 32});
      for_each_chunk_of(search, targets, [&](std::size_t which, std::size_t o) {
        take(blind_lengths_[which], data + o, window.file_offset + o, true);
      });
    }
    for_each_bignum_of(search, blind_lengths_, *map_, [&](std::size_t which, std::uint64_t at) {
      take(blind_lengths_[which], all + at, at, false);
    });
    // The scalars of the EC keys a JVM made, by the DER each keeps (runtime_numbers.hpp
    // jvm_key_der_at): big-endian bytes, tested with its arrays.
    const auto jvm_key_scalar = [&](std::size_t which, std::size_t o) {
      const std::size_t len = blind_lengths_[which];
      out.push_back({window.file_offset + o, data + o, len, false, &layout_named("be"), len, true});
    };
    for_each_runtime_number(search, blind_layouts_, {}, {}, blind_bits_,
                            [&](std::size_t which, std::size_t o, const NumberLayout& layout, std::size_t digits) {
                              // As the RSA hunt's walk proposes them (rsa_factor_hunt.cpp).
                              const bool jvm = jvm_int_array_at(search, o, layout, digits);
                              const std::size_t len = blind_lengths_[which];
                              const bool v8 =
                                  !jvm && v8_multiplied(len) && v8_digit_array_at(search, o, layout, digits);
                              const bool followed = v8_digits_follow(search, o, layout, digits);
                              // A longer run is a number's prefix only in a V8 array.
                              if (followed && !v8) return;
                              if (!blind_chunks_ && !jvm && !v8 && !cpython_int_at(search, o, layout, digits)) return;
                              if (number_looks_random(layout, search.data.subspan(o), digits, len)) {
                                out.push_back(
                                    {window.file_offset + o, data + o, len, false, &layout, digits, jvm, v8, followed});
                              }
                            },
                            blind_lengths_, jvm_key_scalar);
  }

  // Whether V8's arrays of `length` bytes are multiplied on some curve (kV8Curves).
  bool v8_multiplied(std::size_t length) const {
    return std::any_of(blind_curves_.begin(), blind_curves_.end(), [&](const BlindCurve& curve) {
      return curve.scalar_len == length && std::find(kV8Curves.begin(), kV8Curves.end(), curve.nid) != kV8Curves.end();
    });
  }

  // d·G for every curve of the candidate's length and both byte orders. Any thread.
  void multiply(const BlindCandidate& candidate, std::size_t index, BN_CTX* ctx, std::vector<BlindPoint>& out,
                std::span<const int> only = {}) const {
    const int n = static_cast<int>(candidate.length);
    for (std::size_t ci = 0; ci < blind_curves_.size(); ++ci) {
      const BlindCurve& curve = blind_curves_[ci];
      if (curve.scalar_len != candidate.length) continue;
      if (!only.empty() && std::find(only.begin(), only.end(), curve.nid) == only.end()) continue;
      for (const bool little_endian : {false, true}) {
        if (!candidate.read_as(little_endian)) continue;
        BnPtr d(little_endian ? BN_lebin2bn(candidate.bytes, n, nullptr) : BN_bin2bn(candidate.bytes, n, nullptr));
        if (!d || BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(curve.group.get())) >= 0) continue;
        EcPointPtr q(EC_POINT_new(curve.group.get()));
        BnPtr zero(curve.precomputed ? BN_new() : nullptr);
        if (!q || (curve.precomputed && !zero)) continue;
        const int multiplied =
            curve.precomputed
                ? EC_POINT_mul(curve.group.get(), q.get(), d.get(), EC_GROUP_get0_generator(curve.group.get()),
                               zero.get(), ctx)
                : EC_POINT_mul(curve.group.get(), q.get(), d.get(), nullptr, nullptr, ctx);
        if (multiplied != 1) continue;
        BlindPoint point{index, ci, little_endian, std::vector<std::uint8_t>(1 + 2 * curve.field_len)};
        if (EC_POINT_point2oct(curve.group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.encoded.data(),
                               point.encoded.size(), ctx) != point.encoded.size()) {
          continue;
        }
        out.push_back(std::move(point));
      }
    }
  }

  static bool all_found_before(const std::vector<EarliestHit>& earliest, std::uint64_t position) {
    for (const EarliestHit& e : earliest) {
      if (!e.before(position)) return false;
    }
    return true;
  }

  // One scalar multiplication, if the window passes the prefilters and a target it could be
  // the first for is left. Any thread.
  void test(const ScanContext& context, std::size_t ci, const std::uint8_t* p, std::uint64_t file_offset,
            bool little_endian, std::size_t stream, std::size_t index, std::size_t chunk, std::size_t area,
            std::vector<std::vector<EarliestHit>>& earliest, std::set<std::pair<std::uint64_t, std::size_t>>& tried,
            HuntClock& clock, BN_CTX* ctx, ChunkOutcome& out) const {
    if (out.stop) return;
    if (clock.expired(context, file_offset)) {
      out.stop = Hit{stream, index, file_offset, little_endian, 0, p};
      return;
    }
    const Curve& curve = curves_[ci];
    const std::size_t len = curve.scalar_len;
    if (distinct_bytes(p, len) < len / 2 || has_pointer_word(p, len)) return;
    const std::uint64_t position = pass_position(area, stream, chunk);
    if (all_found_before(earliest[ci], position)) return;
    if (!tried.insert({file_offset, len * 2 + (little_endian ? 1 : 0)}).second) return;
    BnPtr d(little_endian ? BN_lebin2bn(p, static_cast<int>(len), nullptr) : BN_bin2bn(p, static_cast<int>(len), nullptr));
    if (!d || BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(curve.group.get())) >= 0) return;
    EcPointPtr q(EC_POINT_new(curve.group.get()));
    if (!q || EC_POINT_mul(curve.group.get(), q.get(), d.get(), nullptr, nullptr, ctx) != 1) return;
    std::vector<std::uint8_t> point(
        EC_POINT_point2oct(curve.group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, ctx));
    EC_POINT_point2oct(curve.group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(), point.size(), ctx);
    for (std::size_t t = 0; t < curve.targets.size(); ++t) {
      const PublicKey* key = curve.targets[t];
      if (key->point.size() == point.size() && std::equal(point.begin(), point.end(), key->point.begin())) {
        earliest[ci][t].note(position);
        out.hits.push_back({stream, index, file_offset, little_endian, t, p});
        return;
      }
    }
  }

  // The outcomes in the order of one pass: the first window whose scalar gives a target's point
  // proves it, a curve's streams stop once all its keys are proven, islands count against the
  // budget, and the clock stops at the first position that saw it run out.
  void replay(const ScanContext& context, const std::vector<ChunkBounds>& chunks,
              std::vector<ChunkOutcome>& outcomes) {
    const PassStop stop = PassStop::earliest(chunks, outcomes);
    const auto stopped = [&](std::size_t c, std::size_t stream, std::size_t index) {
      return stop.covers(chunks[c].area, stream, c, index);
    };
    const auto apply = [&](Curve& curve, const Hit& h) {
      const PublicKey* key = curve.targets[h.target];
      if (found_.count(key)) return;
      const std::uint8_t* p = h.bytes;
      const int n = static_cast<int>(curve.scalar_len);
      BnPtr d(h.little_endian ? BN_lebin2bn(p, n, nullptr) : BN_bin2bn(p, n, nullptr));
      if (!d) return;
      found_.emplace(key, std::move(d));
      ++curve.found;
    };
    sort_hits_in_pass_order(outcomes);
    for (std::size_t first = 0; first < chunks.size();) {
      std::size_t last = first;
      while (last < chunks.size() && chunks[last].area == chunks[first].area) ++last;
      const ScanArea& area = context.areas[chunks[first].area];
      if (stopped(first, 0, 0)) break;
      if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) {
        first = last;
        continue;
      }
      for (std::size_t ci = 0; ci < curves_.size(); ++ci) {
        Curve& curve = curves_[ci];
        if (curve.found == curve.targets.size()) continue;
        for (std::size_t stream : {chunk_stream(ci), bignum_stream(ci)}) {
          for (std::size_t c = first; c < last; ++c) {
            for (const Hit& h : outcomes[c].hits) {
              if (h.stream != stream) continue;
              if (stopped(c, h.stream, h.index)) return clock_.stop_at(stop.file_offset());
              apply(curve, h);
            }
          }
        }
      }
      for (std::size_t ci = 0; ci < curves_.size(); ++ci) {
        Curve& curve = curves_[ci];
        if (curve.found == curve.targets.size()) continue;
        const std::size_t stream = island_stream(ci);
        for (std::size_t c = first; c < last; ++c) {
          if (outcomes[c].islands.empty()) continue;
          const auto& islands = outcomes[c].islands[ci];
          auto hit = std::find_if(outcomes[c].hits.begin(), outcomes[c].hits.end(),
                                  [&](const Hit& h) { return h.stream == stream; });
          for (std::size_t j = 0; j < islands.size(); ++j) {
            if (curve.stopped_at) break;
            if (curve.islands == island_budget_) {
              curve.stopped_at = islands[j].file_offset;
              break;
            }
            ++curve.islands;
            if (stopped(c, stream, 2 * j)) return clock_.stop_at(stop.file_offset());
            for (; hit != outcomes[c].hits.end() && hit->stream == stream && hit->index <= 2 * j + 1; ++hit) {
              if (stopped(c, stream, hit->index)) return clock_.stop_at(stop.file_offset());
              apply(curve, *hit);
            }
          }
        }
      }
      first = last;
    }
    if (stop) clock_.stop_at(stop.file_offset());
  }

  std::size_t island_budget_;
  std::size_t blind_budget_;
  bool blind_chunks_;
  HuntClock clock_;
  bool prepared_ = false;
  unsigned word_ = 8;
  std::optional<AddressMap> map_;
  std::vector<Curve> curves_;
  std::map<const PublicKey*, BnPtr> found_;
  // Scalars without a known public key: the curves, the candidates tested so far, where the
  // budget ran out, and the keys whose points only memory holds (stable: found_ points at them).
  std::vector<BlindCurve> blind_curves_;
  std::vector<std::size_t> blind_lengths_;
  std::vector<unsigned> blind_bits_;  // the order's bits for each of blind_lengths_
  std::vector<const NumberLayout*> blind_layouts_;  // of the runtimes the process maps
  std::vector<const NumberLayout*> witness_layouts_;  // closure_layouts(): the forms of a point's witnesses
  std::set<std::array<std::uint8_t, 32>> blind_seen_;
  std::size_t blind_tested_ = 0;
  std::optional<std::uint64_t> blind_stopped_at_;
  std::vector<PendingSecret> pending_;
  // The runtimes' arrays (prove_runtime_arrays): distinct values tested and where their budget
  // ran out, for the JVM's and V8's; the scalars proven by a coordinate among them; where the
  // walk kept no more candidates.
  ArraysTested jvm_, v8_;
  std::vector<PendingSecret> proven_;
  std::optional<std::uint64_t> walk_cut_at_;
};

}  // namespace

std::unique_ptr<HuntDetector> make_ec_scalar_hunt_detector(const EcScalarSettings& settings) {
  return std::make_unique<EcScalarHunt>(settings.island_budget, settings.blind_budget, settings.exhaustive);
}

}  // namespace dumpguard
