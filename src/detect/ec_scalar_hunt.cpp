// A scalar multiplication costs about 40-57 µs (P-256), so candidates are few and cheap tests
// come first. Structure first: glibc chunks and BIGNUMs sized for the scalar, with at least
// half the bytes distinct and no word that looks like a user-space pointer. Then everywhere
// else, under stricter prefilters: islands of random bytes (limb_candidates.hpp) that pass
// looks_random, under a budget. Each candidate costs one multiplication per byte order
// whatever the number of keys: d·G is compared with every target point. Blind spots (README):
// scalars inside long runs of random bytes or not 8-byte aligned outside malloc chunks, and
// keys whose public point is neither in the dump nor supplied.
#include "detect/ec_scalar_hunt.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "crypto/openssl_ptr.hpp"
#include "crypto/private_key.hpp"
#include "detect/exact_search.hpp"
#include "detect/limb_candidates.hpp"

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

class EcScalarHunt final : public Detector {
 public:
  explicit EcScalarHunt(std::size_t island_budget) : island_budget_(island_budget) {}
  std::string_view name() const override { return "ec-scalar"; }
  Phase phase() const override { return Phase::hunt; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& /*sink*/) override {
    prepare(context);
    if (curves_.empty() || clock_.expired(context, area.file_offset)) return;
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    const std::uint64_t base = vaddr_of(context.dump, area, 0).value_or(area.file_offset);
    for (Curve& curve : curves_) {
      if (curve.found == curve.targets.size()) continue;  // every key on this curve is proven
      const LimbSearch search{{data, area.bytes.size()}, base, word_, curve.scalar_len};
      for_each_chunk(search, 32, [&](std::size_t o) {
        test(context, curve, data + o, area.file_offset + o, true);
        test(context, curve, data + o, area.file_offset + o, false);
      });
      for_each_bignum(search, *map_, [&](std::uint64_t at) { test(context, curve, all + at, at, true); });
    }
    // Then everywhere else, with the strict prefilters: islands of random bytes.
    for (Curve& curve : curves_) {
      if (curve.found == curve.targets.size()) continue;
      const LimbSearch search{{data, area.bytes.size()}, base, word_, curve.scalar_len};
      for_each_island(search, [&](std::size_t o) {
        if (!looks_random(data + o, curve.scalar_len) || curve.stopped_at) return;
        if (curve.islands == island_budget_) {
          curve.stopped_at = area.file_offset + o;
          return;
        }
        ++curve.islands;
        test(context, curve, data + o, area.file_offset + o, true);
        test(context, curve, data + o, area.file_offset + o, false);
      });
    }
  }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    for (const Curve& curve : curves_) {
      if (!curve.stopped_at) continue;
      sink.limit(name(), fmt::format("{}: the island budget of {} candidates was reached at file offset {:#x}; islands "
                                     "after it were not tested",
                                     curve_name(curve.nid), island_budget_, *curve.stopped_at));
    }
    ExactPatterns patterns;
    struct Origin {
      const PublicKey* key;
      bool little_endian;
    };
    std::vector<Origin> origins;
    for (auto& [key, scalar] : found_) {
      const int n = BN_num_bytes(scalar.get());
      std::vector<std::uint8_t> buf(static_cast<std::size_t>(n));
      for (bool le : {false, true}) {
        if (le) {
          BN_bn2lebinpad(scalar.get(), buf.data(), n);
        } else {
          BN_bn2bin(scalar.get(), buf.data());
        }
        patterns.add(buf, origins.size());
        origins.push_back({key, le});
      }
      OPENSSL_cleanse(buf.data(), buf.size());
    }
    for (const ScanArea& area : context.areas) {
      patterns.search(area.bytes, [&](std::size_t offset, std::size_t length, std::size_t tag) {
        const Origin& o = origins[tag];
        sink.finding(proven_copy(context, area, offset, length, "ec-scalar", "ec-private-scalar",
                                 o.little_endian ? "le" : "be",
                                 fmt::format("d·G equals the {} public key {} ({})", curve_name(o.key->curve_nid),
                                             o.key->fingerprint, o.key->origin),
                                 o.key->fingerprint));
      });
    }
  }

 private:
  void prepare(const ScanContext& context) {
    if (prepared_) return;
    prepared_ = true;
    word_ = pointer_width(context.dump.model);
    map_.emplace(context.dump.model);
    ctx_.reset(BN_CTX_new());
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

  void test(const ScanContext& context, Curve& curve, const std::uint8_t* p, std::uint64_t file_offset,
            bool little_endian) {
    if (clock_.expired(context, file_offset)) return;
    const std::size_t len = curve.scalar_len;
    if (distinct_bytes(p, len) < len / 2 || has_pointer_word(p, len)) return;
    if (!tried_.insert({file_offset, len * 2 + (little_endian ? 1 : 0)}).second) return;
    BnPtr d(little_endian ? BN_lebin2bn(p, static_cast<int>(len), nullptr) : BN_bin2bn(p, static_cast<int>(len), nullptr));
    if (!d || BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(curve.group.get())) >= 0) return;
    EcPointPtr q(EC_POINT_new(curve.group.get()));
    ++multiplications_;
    if (!q || EC_POINT_mul(curve.group.get(), q.get(), d.get(), nullptr, nullptr, ctx_.get()) != 1) return;
    std::vector<std::uint8_t> point(EC_POINT_point2oct(curve.group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED,
                                                       nullptr, 0, ctx_.get()));
    EC_POINT_point2oct(curve.group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(), point.size(), ctx_.get());
    for (const PublicKey* key : curve.targets) {
      if (key->point.size() == point.size() && std::equal(point.begin(), point.end(), key->point.begin()) &&
          !found_.count(key)) {
        found_.emplace(key, std::move(d));
        ++curve.found;
        return;
      }
    }
  }

  std::size_t island_budget_;
  HuntClock clock_;
  bool prepared_ = false;
  unsigned word_ = 8;
  std::optional<AddressMap> map_;
  BnCtxPtr ctx_;
  std::vector<Curve> curves_;
  std::map<const PublicKey*, BnPtr> found_;
  std::set<std::pair<std::uint64_t, std::size_t>> tried_;
  std::uint64_t multiplications_ = 0;
};

}  // namespace

std::unique_ptr<Detector> make_ec_scalar_hunt_detector(std::size_t island_budget) {
  return std::make_unique<EcScalarHunt>(island_budget);
}

}  // namespace dumpguard
