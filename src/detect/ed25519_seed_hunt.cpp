// One derivation per copy of a public key, so the hunt costs nothing where the public key is
// absent. Blind spots (README): seeds stored apart from their public key (OpenSSL keeps the
// private half in its own allocation), and public keys the dump does not hold.
#include "detect/ed25519_seed_hunt.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>
#include <map>
#include <vector>

#include "crypto/private_key.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/exact_search.hpp"

namespace dumpguard {

namespace {

class Ed25519SeedHunt final : public Detector {
 public:
  std::string_view name() const override { return "edwards-seed"; }
  Phase phase() const override { return Phase::hunt; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& /*sink*/) override {
    prepare(context);
    if (publics_.empty()) return;
    publics_.search(area.bytes, [&](std::size_t offset, std::size_t, std::size_t tag) {
      const PublicKey* key = targets_[tag];
      if (offset < 32 || found_.count(key)) return;
      const auto* seed = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + offset - 32;
      if (distinct_bytes(seed, 32) < 16) return;
      const KeyCheck check = check_edwards(key->type, {seed, 32}, key->point);
      if (check.verified) found_.emplace(key, std::vector<std::uint8_t>(seed, seed + 32));
    });
  }

  void finish(const ScanContext& context, FindingSink& sink) override {
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
};

}  // namespace

std::unique_ptr<Detector> make_ed25519_seed_hunt_detector() { return std::make_unique<Ed25519SeedHunt>(); }

}  // namespace dumpguard
