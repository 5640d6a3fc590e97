// First where a seed sits next to its public key (seed‖public key: libsodium, Go, OpenSSH):
// one derivation per copy of a public key. Then seeds stored apart (OpenSSL keeps the private
// half in an allocation of its own): islands of 32 random bytes (limb_candidates.hpp), one
// derivation each per key type sought, under a budget. Blind spots (docs/detectors.md): seeds inside long
// runs of random bytes or not 8-byte aligned, and keys whose public half is neither in the
// dump nor supplied.
#include "detect/ed25519_seed_hunt.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "crypto/private_key.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/exact_search.hpp"
#include "detect/limb_candidates.hpp"
#include "detect/pass_order.hpp"

namespace dumpguard {

namespace {

class Ed25519SeedHunt final : public HuntDetector {
 public:
  explicit Ed25519SeedHunt(std::size_t island_budget) : island_budget_(island_budget) {}
  std::string_view name() const override { return "edwards-seed"; }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    if (stopped_at_) {
      sink.limit(name(), fmt::format("the island budget of {} candidates was reached at file offset {:#x}; islands "
                                     "after it were not tested for seeds stored apart from their public key",
                                     island_budget_, *stopped_at_));
    }
    // Each proven seed, for the closure: every copy in any form is a finding.
    for (auto& [key, seed] : found_) {
      const bool ed = key->type == KeyType::ed25519;
      sink.secret(proven_secret(KnownSecret::Shape::bytes, seed, seed.size(), "edwards-seed",
                                ed ? "ed25519-private-key" : "x25519-private-key",
                                fmt::format("the seed gives the {} public key {} ({})", ed ? "Ed25519" : "X25519",
                                            key->fingerprint, key->origin),
                                key->fingerprint));
      OPENSSL_cleanse(seed.data(), seed.size());
    }
  }

 private:
  // Streams of one area, in the order one pass tests them: the 32 bytes before each copy of a
  // public key (seed‖public key), then the islands of 32 random bytes, under the budget.
  static constexpr std::size_t kBesidePublic = 0;
  static constexpr std::size_t kIslands = 1;

  // A seed that gives a target's public key: where, and which target.
  struct Hit {
    std::size_t stream = 0;
    std::size_t index = 0;  // in the stream within the chunk
    std::uint64_t file_offset = 0;
    const std::uint8_t* seed = nullptr;  // in the mapping
    std::size_t target = 0;              // index into targets_
  };
  struct Island {
    std::uint64_t file_offset;
    const std::uint8_t* bytes;
  };
  struct ChunkOutcome {
    std::vector<Hit> hits;
    std::optional<Hit> stop;     // where this chunk's clock ran out
    std::vector<Island> islands;  // windows that pass looks_random (live areas only)
  };

  void hunt(const ScanContext& context) override {
    if (publics_.empty()) return;
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    std::vector<EarliestHit> earliest(targets_.size());
    for (std::size_t t = 0; t < targets_.size(); ++t) {
      if (found_.count(targets_[t])) earliest[t].note(0);
    }
    std::vector<ChunkOutcome> outcomes(chunks.size());
    run_chunks(context, [&](std::size_t c, unsigned /*worker*/) { walk(context, chunks, c, earliest, outcomes[c]); });
    // The islands one pass would test: the first island_budget_ in pass order.
    std::size_t left = island_budget_ > islands_ ? island_budget_ - islands_ : 0;
    std::vector<std::size_t> budget(chunks.size(), 0);
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      budget[c] = std::min(left, outcomes[c].islands.size());
      left -= budget[c];
    }
    run_chunks(context, [&](std::size_t c, unsigned /*worker*/) {
      test_islands(context, chunks, c, earliest, budget[c], outcomes[c]);
    });
    replay(context, chunks, outcomes);
  }

  void walk(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
            std::vector<EarliestHit>& earliest, ChunkOutcome& out) const {
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    HuntClock clock;
    if (clock.expired(context, area.file_offset + chunk.begin)) {
      out.stop = Hit{kBesidePublic, 0, area.file_offset + chunk.begin, nullptr, 0};
      return;
    }
    const ScanArea window = chunk_window(area, chunk, {island_reach(32), island_reach(32) + 64});
    const auto* data = reinterpret_cast<const std::uint8_t*>(window.bytes.data());
    const std::uint64_t position = pass_position(chunk.area, kBesidePublic, c);
    std::size_t index = 0;
    publics_.search(window.bytes, [&](std::size_t offset, std::size_t, std::size_t tag) {
      const std::uint64_t at = window.file_offset + offset;
      if (!owns(area, chunk, at)) return;
      const std::size_t i = index++;
      if (at - area.file_offset < 32 || earliest[tag].before(position)) return;
      const std::uint8_t* seed = data + offset - 32;  // the window reaches 32 bytes before the chunk
      if (distinct_bytes(seed, 32) < 16) return;
      const PublicKey* key = targets_[tag];
      if (check_edwards(key->type, {seed, 32}, key->point).verified) {
        earliest[tag].note(position);
        out.hits.push_back({kBesidePublic, i, at - 32, seed, tag});
      }
    });
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    if (all_found_before(earliest, pass_position(chunk.area, kIslands, c))) return;
    const LimbSearch search = chunk_limb_search(context, area, window, chunk, 8, 32);
    for_each_island(search, [&](std::size_t o) {
      if (looks_random(data + o, 32)) out.islands.push_back({window.file_offset + o, data + o});
    });
  }

  void test_islands(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
                    std::vector<EarliestHit>& earliest, std::size_t budget, ChunkOutcome& out) const {
    if (out.stop) return;
    const std::uint64_t position = pass_position(chunks[c].area, kIslands, c);
    HuntClock clock;
    for (std::size_t j = 0; j < budget; ++j) {
      const Island& island = out.islands[j];
      if (clock.expired(context, island.file_offset)) {
        out.stop = Hit{kIslands, j, island.file_offset, nullptr, 0};
        return;
      }
      for (KeyType type : {KeyType::ed25519, KeyType::x25519}) {
        bool open = false;
        for (std::size_t t = 0; t < targets_.size() && !open; ++t) {
          open = targets_[t]->type == type && !earliest[t].before(position);
        }
        if (!open) continue;
        const KeyCheck check = check_edwards(type, {island.bytes, 32}, {});
        if (!check.public_key) continue;
        for (std::size_t t = 0; t < targets_.size(); ++t) {
          if (targets_[t]->type == type && targets_[t]->point == check.public_key->point) {
            earliest[t].note(position);
            out.hits.push_back({kIslands, j, island.file_offset, island.bytes, t});
          }
        }
      }
    }
  }

  static bool all_found_before(const std::vector<EarliestHit>& earliest, std::uint64_t position) {
    for (const EarliestHit& e : earliest) {
      if (!e.before(position)) return false;
    }
    return true;
  }

  // The outcomes in the order of one pass: the first seed that gives a target's public key
  // proves it, islands stop once every key is proven, count against the budget, and the clock
  // stops at the first position that saw it run out.
  void replay(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::vector<ChunkOutcome>& outcomes) {
    const PassStop stop = PassStop::earliest(chunks, outcomes);
    const auto stopped = [&](std::size_t c, std::size_t stream, std::size_t index) {
      return stop.covers(chunks[c].area, stream, c, index);
    };
    const auto apply = [&](const Hit& h) {
      const PublicKey* key = targets_[h.target];
      if (!found_.count(key)) found_.emplace(key, std::vector<std::uint8_t>(h.seed, h.seed + 32));
    };
    sort_hits_in_pass_order(outcomes);
    for (std::size_t first = 0; first < chunks.size();) {
      std::size_t last = first;
      while (last < chunks.size() && chunks[last].area == chunks[first].area) ++last;
      const ScanArea& area = context.areas[chunks[first].area];
      if (stopped(first, kBesidePublic, 0)) break;
      for (std::size_t c = first; c < last; ++c) {
        for (const Hit& h : outcomes[c].hits) {
          if (h.stream == kBesidePublic) apply(h);
        }
      }
      const bool live = !area.region || may_hold_live_keys(context.dump.model.regions[*area.region]);
      if (found_.size() == targets_.size() || stopped_at_ || !live) {
        first = last;
        continue;
      }
      for (std::size_t c = first; c < last && !stopped_at_; ++c) {
        auto hit = std::find_if(outcomes[c].hits.begin(), outcomes[c].hits.end(),
                                [](const Hit& h) { return h.stream == kIslands; });
        const auto& islands = outcomes[c].islands;
        for (std::size_t j = 0; j < islands.size(); ++j) {
          if (stopped(c, kIslands, j)) return clock_.stop_at(stop.file_offset());
          if (islands_ == island_budget_) {
            stopped_at_ = islands[j].file_offset;
            break;
          }
          ++islands_;
          for (; hit != outcomes[c].hits.end() && hit->index == j; ++hit) apply(*hit);
        }
      }
      first = last;
    }
    if (stop) clock_.stop_at(stop.file_offset());
  }

  void prepare(const ScanContext& context) override {
    if (prepared_) return;
    prepared_ = true;
    for (const PublicKey& k : context.keys.keys()) {
      if ((k.type != KeyType::ed25519 && k.type != KeyType::x25519) || k.point.size() != 32) continue;
      publics_.add(k.point, targets_.size());
      targets_.push_back(&k);
    }
  }

  bool prepared_ = false;
  ExactPatterns publics_;  // public keys are not secret, but the class wipes them all the same
  std::vector<const PublicKey*> targets_;
  std::map<const PublicKey*, std::vector<std::uint8_t>> found_;
  std::size_t island_budget_;
  HuntClock clock_;
  std::size_t islands_ = 0;
  std::optional<std::uint64_t> stopped_at_;
};

}  // namespace

std::unique_ptr<HuntDetector> make_ed25519_seed_hunt_detector(std::size_t island_budget) {
  return std::make_unique<Ed25519SeedHunt>(island_budget);
}

}  // namespace dumpguard
