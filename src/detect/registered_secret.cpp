#include "detect/registered_secret.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <unordered_map>

namespace dumpguard {

namespace {

// The targets of one window length: the unblinded prefilter values, and a bitmap of their top
// bits that rejects nearly every window with one memory access.
struct WindowTargets {
  static constexpr unsigned kBits = 20;
  std::vector<std::uint64_t> bitmap = std::vector<std::uint64_t>((std::size_t{1} << kBits) / 64);
  std::unordered_multimap<std::uint64_t, std::pair<std::size_t, std::size_t>> targets;  // hash -> (secret, form)

  void add(std::uint64_t h, std::size_t secret, std::size_t form) {
    const std::uint64_t slot = h >> (64 - kBits);
    bitmap[slot / 64] |= std::uint64_t{1} << (slot % 64);
    targets.emplace(h, std::make_pair(secret, form));
  }
  bool maybe(std::uint64_t h) const {
    const std::uint64_t slot = h >> (64 - kBits);
    return (bitmap[slot / 64] >> (slot % 64)) & 1;
  }
};

class RegisteredSecretDetector final : public StructureDetector {
 public:
  RegisteredSecretDetector(std::vector<RegisteredSecret> secrets, std::span<const std::uint8_t> key)
      : secrets_(std::move(secrets)) {
    for (std::size_t s = 0; s < secrets_.size(); ++s) {
      for (std::size_t f = 0; f < secrets_[s].forms.size(); ++f) {
        const SecretForm& form = secrets_[s].forms[f];
        const std::size_t window = std::min(form.length, kAnchorLength);
        by_window_[window].add(form.prefilter ^ form_mask(key, form.salt), s, f);
      }
    }
  }

  std::string_view name() const override { return "registered-secret"; }
  Reach reach() const override {
    std::size_t longest = 0;
    for (const RegisteredSecret& s : secrets_) {
      for (const SecretForm& f : s.forms) longest = std::max(longest, f.length);
    }
    return {0, longest};
  }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) override {
    const auto* p = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t n = area.bytes.size();
    for (const auto& [window, targets] : by_window_) {
      if (n < window) continue;
      const RollingHash rolling(context.fingerprint_key, window);
      std::uint64_t h = rolling.of({p, window});
      for (std::size_t i = 0;; ++i) {
        if (targets.maybe(h)) {
          auto [lo, hi] = targets.targets.equal_range(h);
          for (auto it = lo; it != hi; ++it) confirm(context, area, i, it->second, sink);
        }
        if (i + window >= n) break;
        h = rolling.roll(h, p[i], p[i + window]);
      }
    }
  }

 private:
  void confirm(const ScanContext& context, const ScanArea& area, std::size_t at,
               std::pair<std::size_t, std::size_t> target, FindingSink& sink) {
    const RegisteredSecret& secret = secrets_[target.first];
    const SecretForm& form = secret.forms[target.second];
    if (form.length > area.bytes.size() - at) return;
    const auto* window = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + at;
    if (form_hmac(context.fingerprint_key, {window, form.length}) != form.hmac) return;
    Finding f = finding_at(context, area, at, form.length, "registered-secret", "registered-secret", form.encoding);
    f.verified = true;
    f.proof = fmt::format("the keyed HMAC of these {} bytes equals the registered fingerprint of \"{}\" ({} form)",
                          form.length, secret.name, form.encoding);
    f.key = secret.id;
    f.severity = Severity::critical;
    // Found raw, the secret is now known: the closure finds it in the forms it was not
    // registered in (other alignments of base64, UTF-16LE of its hex, number layouts).
    if (form.encoding == "raw") sink.secret(secret_of(f, KnownSecret::Shape::bytes, {window, form.length}));
    sink.finding(std::move(f));
  }

  std::vector<RegisteredSecret> secrets_;
  std::map<std::size_t, WindowTargets> by_window_;
};

}  // namespace

std::unique_ptr<StructureDetector> make_registered_secret_detector(const RegisteredSecretSettings& settings) {
  return std::make_unique<RegisteredSecretDetector>(settings.secrets, settings.fingerprint_key);
}

}  // namespace dumpguard
