// Candidates (DECISIONS.md, HMAC candidates): printable runs of 8 to 128 characters, in ASCII
// and in UTF-16LE (most HS256 secrets are configuration strings), and binary windows of 16,
// 20, 24, 32, 48 and 64 bytes at glibc malloc chunks sized for them that pass the entropy
// prefilter (half the bytes distinct, no pointer-shaped word). An HMAC costs about 3.4 µs,
// so the hunt runs only when there is a token, and costs (candidates × tokens) HMACs.
// Blind spots (README): secrets embedded in a longer printable run (only whole runs are
// tried), binary keys outside malloc chunks of their size, and keys of tokens not in the dump.
#include "detect/hmac_key_hunt.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <set>
#include <vector>

#include "crypto/digest.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/exact_search.hpp"
#include "detect/limb_candidates.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMinRun = 8;
constexpr std::size_t kMaxRun = 128;
constexpr std::array<std::size_t, 6> kBinarySizes{16, 20, 24, 32, 48, 64};

bool printable(std::uint8_t c) { return c > 0x20 && c < 0x7f; }

class HmacKeyHunt final : public Detector {
 public:
  std::string_view name() const override { return "hmac-key"; }
  Phase phase() const override { return Phase::hunt; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& /*sink*/) override {
    if (context.tokens == nullptr || context.tokens->empty()) return;
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    if (found_.size() == context.tokens->size() || clock_.expired(context, area.file_offset)) return;
    area_offset_ = area.file_offset;
    const auto* p = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t n = area.bytes.size();
    // ASCII runs.
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i;
      while (j < n && printable(p[j])) ++j;
      if (j - i >= kMinRun && j - i <= kMaxRun) test(context, {p + i, j - i});
      i = j + 1;
    }
    // UTF-16LE runs, tried as the UTF-8 (ASCII) bytes a framework would sign with. A run
    // longer than kMaxRun is skipped whole, as an ASCII one is: only whole runs are tried.
    std::vector<std::uint8_t> narrow;
    for (std::size_t i = 0; i + 1 < n;) {
      std::size_t j = i;
      narrow.clear();
      while (j + 1 < n && printable(p[j]) && p[j + 1] == 0) {
        if (narrow.size() <= kMaxRun) narrow.push_back(p[j]);
        j += 2;
      }
      if (narrow.size() >= kMinRun && narrow.size() <= kMaxRun) test(context, narrow);
      i = j > i ? j : i + 1;
    }
    OPENSSL_cleanse(narrow.data(), narrow.size());
    // Binary keys in malloc chunks of their size.
    const unsigned word = pointer_width(context.dump.model);
    const std::uint64_t base = vaddr_of(context.dump, area, 0).value_or(area.file_offset);
    for (std::size_t size : kBinarySizes) {
      for_each_chunk(LimbSearch{{p, n}, base, word, size}, 16, [&](std::size_t o) {
        if (distinct_bytes(p + o, size) >= size / 2 && !has_pointer_word(p + o, size)) test(context, {p + o, size});
      });
    }
  }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    ExactPatterns patterns;
    struct Origin {
      std::size_t secret;
      const char* encoding;
    };
    std::vector<Origin> origins;
    for (std::size_t s = 0; s < secrets_.size(); ++s) {
      const auto& bytes = secrets_[s].bytes;
      const bool text = std::all_of(bytes.begin(), bytes.end(), printable);
      patterns.add(bytes, origins.size());
      origins.push_back({s, text ? "ascii" : "binary"});
      if (text) {
        std::vector<std::uint8_t> wide;
        for (std::uint8_t c : bytes) {
          wide.push_back(c);
          wide.push_back(0);
        }
        patterns.add(wide, origins.size());
        origins.push_back({s, "utf16le"});
        OPENSSL_cleanse(wide.data(), wide.size());
      }
    }
    for (const ScanArea& area : context.areas) {
      patterns.search(area.bytes, [&](std::size_t offset, std::size_t length, std::size_t tag) {
        const Secret& secret = secrets_[origins[tag].secret];
        sink.finding(proven_copy(context, area, offset, length, "hmac-key", "hmac-key", origins[tag].encoding,
                                 fmt::format("the {} signature of the {} verifies under it", secret.alg,
                                             secret.token_origin),
                                 secret.fingerprint));
      });
    }
    for (Secret& s : secrets_) OPENSSL_cleanse(s.bytes.data(), s.bytes.size());
  }

 private:
  struct Secret {
    std::vector<std::uint8_t> bytes;
    std::string fingerprint;
    std::string alg;
    std::string token_origin;
  };

  void test(const ScanContext& context, std::span<const std::uint8_t> candidate) {
    // An HMAC costs a few µs: the clock is read every 256 candidates.
    if (clock_.stopped() || (++tests_ % 256 == 0 && clock_.expired(context, area_offset_))) return;
    if (tried_before(candidate)) return;
    for (std::size_t t = 0; t < context.tokens->size(); ++t) {
      if (found_.count(t)) continue;
      const MacToken& token = (*context.tokens)[t];
      if (!verifier_.verifies(token, candidate)) continue;
      found_.insert(t);
      const std::string fp = keyed_fingerprint(context.fingerprint_key, candidate);
      bool known = false;
      for (const Secret& s : secrets_) known = known || s.fingerprint == fp;
      if (!known) {
        secrets_.push_back({std::vector<std::uint8_t>(candidate.begin(), candidate.end()), fp, token.alg, token.origin});
      }
    }
  }

  // A heap repeats its strings (log lines, JSON keys): a candidate already tried against every
  // token is skipped. The table is a direct-mapped cache of 64-bit hashes, so its memory is
  // fixed, and a candidate is skipped only when its hash equals the one in its slot: the same
  // string, but for a 2^-64 chance.
  bool tried_before(std::span<const std::uint8_t> candidate) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (std::uint8_t b : candidate) h = (h ^ b) * 0x100000001b3ULL;
    h ^= candidate.size();
    std::uint64_t& slot = tried_[(h ^ (h >> 29)) & (tried_.size() - 1)];
    if (slot == h) return true;
    slot = h;
    return false;
  }

  MacVerifier verifier_;
  std::vector<std::uint64_t> tried_ = std::vector<std::uint64_t>(std::size_t{1} << 20);
  HuntClock clock_;
  std::uint64_t tests_ = 0;
  std::uint64_t area_offset_ = 0;  // of the area being searched, for the clock's report
  std::set<std::size_t> found_;  // tokens whose key is known
  std::vector<Secret> secrets_;
};

}  // namespace

std::unique_ptr<Detector> make_hmac_key_hunt_detector() { return std::make_unique<HmacKeyHunt>(); }

}  // namespace dumpguard
