// First where a seed sits next to its public key (seed‖public key: libsodium, Go, OpenSSH):
// one derivation per copy of a public key. Then seeds stored apart (OpenSSL keeps the private
// half in an allocation of its own): islands of 32 random bytes (limb_candidates.hpp), one
// derivation each per key type sought, under a budget. Blind spots (README): seeds inside long
// runs of random bytes or not 8-byte aligned, and keys whose public half is neither in the
// dump nor supplied.
#include "detect/ed25519_seed_hunt.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>
#include <map>
#include <vector>

#include "crypto/private_key.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/exact_search.hpp"
#include "detect/limb_candidates.hpp"

namespace dumpguard {

namespace {

class Ed25519SeedHunt final : public Detector {
 public:
  explicit Ed25519SeedHunt(std::size_t island_budget) : island_budget_(island_budget) {}
  std::string_view name() const override { return "edwards-seed"; }
  Phase phase() const override { return Phase::hunt; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& /*sink*/) override {
    prepare(context);
    if (publics_.empty() || clock_.expired(context, area.file_offset)) return;
    publics_.search(area.bytes, [&](std::size_t offset, std::size_t, std::size_t tag) {
      const PublicKey* key = targets_[tag];
      if (offset < 32 || found_.count(key)) return;
      const auto* seed = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + offset - 32;
      if (distinct_bytes(seed, 32) < 16) return;
      const KeyCheck check = check_edwards(key->type, {seed, 32}, key->point);
      if (check.verified) found_.emplace(key, std::vector<std::uint8_t>(seed, seed + 32));
    });
    // Then seeds stored apart from their public key (OpenSSL keeps the private half in an
    // allocation of its own): islands of 32 random bytes, one derivation per key type.
    if (found_.size() == targets_.size() || stopped_at_) return;
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::uint64_t base = vaddr_of(context.dump, area, 0).value_or(area.file_offset);
    const LimbSearch search{{data, area.bytes.size()}, base, 8, 32};
    for_each_island(search, [&](std::size_t o) {
      if (stopped_at_ || !looks_random(data + o, 32) || clock_.expired(context, area.file_offset + o)) return;
      if (islands_ == island_budget_) {
        stopped_at_ = area.file_offset + o;
        return;
      }
      ++islands_;
      for (KeyType type : {KeyType::ed25519, KeyType::x25519}) {
        if (!wanted(type)) continue;
        const KeyCheck check = check_edwards(type, {data + o, 32}, {});
        if (!check.public_key) continue;
        for (const PublicKey* key : targets_) {
          if (key->type == type && key->point == check.public_key->point && !found_.count(key)) {
            found_.emplace(key, std::vector<std::uint8_t>(data + o, data + o + 32));
          }
        }
      }
    });
  }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    if (stopped_at_) {
      sink.limit(name(), fmt::format("the island budget of {} candidates was reached at file offset {:#x}; islands "
                                     "after it were not tested for seeds stored apart from their public key",
                                     island_budget_, *stopped_at_));
    }
    ExactPatterns seeds;
    std::vector<const PublicKey*> owners;
    for (const auto& [key, seed] : found_) {
      seeds.add(seed, owners.size());
      owners.push_back(key);
    }
    for (auto& [key, seed] : found_) OPENSSL_cleanse(seed.data(), seed.size());
    for (const ScanArea& area : context.areas) {
      seeds.search(area.bytes, [&](std::size_t offset, std::size_t length, std::size_t tag) {
        const PublicKey* key = owners[tag];
        const bool ed = key->type == KeyType::ed25519;
        sink.finding(proven_copy(context, area, offset, length, "edwards-seed",
                                 ed ? "ed25519-private-key" : "x25519-private-key", "raw-seed",
                                 fmt::format("the seed gives the {} public key {} ({})", ed ? "Ed25519" : "X25519",
                                             key->fingerprint, key->origin),
                                 key->fingerprint));
      });
    }
  }

 private:
  // A key of this type is still sought.
  bool wanted(KeyType type) const {
    for (const PublicKey* key : targets_) {
      if (key->type == type && !found_.count(key)) return true;
    }
    return false;
  }

  void prepare(const ScanContext& context) {
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

std::unique_ptr<Detector> make_ed25519_seed_hunt_detector(std::size_t island_budget) {
  return std::make_unique<Ed25519SeedHunt>(island_budget);
}

}  // namespace dumpguard
