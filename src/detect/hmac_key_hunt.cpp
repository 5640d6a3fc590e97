// Candidates: printable runs of 8 to 128 characters, in ASCII
// and in UTF-16LE (most HS256 secrets are configuration strings), and binary windows of 16,
// 20, 24, 32, 48 and 64 bytes at glibc malloc chunks sized for them that pass the entropy
// prefilter (half the bytes distinct, no pointer-shaped word), then at islands of the same sizes
// in any writable memory (limb_candidates.hpp: a window bounded by structured words, as a key
// sits in an object of an allocator with no size header, such as CPython's bytes objects),
// which pass the stricter looks_random. An HMAC costs about 0.5 µs (FastHmac), the hunt runs only
// when there is a token, and costs (candidates × tokens) HMACs; islands are capped per chunk.
// Blind spots (docs/detectors.md): secrets embedded in a longer printable run (only whole runs are
// tried), binary keys inside long runs of random bytes or not 8-byte aligned outside malloc
// chunks, and keys of tokens not in the dump.
#include "detect/hmac_key_hunt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "crypto/digest.hpp"
#include "detect/byte_statistics.hpp"
#include "detect/limb_candidates.hpp"
#include "detect/pass_order.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMinRun = 8;
constexpr std::size_t kMaxRun = 128;
constexpr std::array<std::size_t, 6> kBinarySizes{16, 20, 24, 32, 48, 64};

bool printable(std::uint8_t c) { return c > 0x20 && c < 0x7f; }

// HMAC (RFC 2104 2) over SHA-256/384/512 fetched once, with one digest context reused: the
// hunt tests hundreds of thousands of candidates, and EVP_MAC_init fetches its digest by name
// on every call (about 3.4 µs a test, nearly all of it the fetch); this costs the compressions
// alone, which OpenSSL runs with the CPU's SHA extensions where it has them. Each thread has
// its own.
class FastHmac {
 public:
  FastHmac() : ctx_(EVP_MD_CTX_new()) {
    const char* names[] = {"SHA256", "SHA384", "SHA512"};
    for (std::size_t i = 0; i < md_.size(); ++i) md_[i] = EVP_MD_fetch(nullptr, names[i], nullptr);
  }
  ~FastHmac() {
    for (EVP_MD* md : md_) EVP_MD_free(md);
    EVP_MD_CTX_free(ctx_);
  }
  FastHmac(const FastHmac&) = delete;
  FastHmac& operator=(const FastHmac&) = delete;

  bool verifies(const MacToken& token, std::span<const std::uint8_t> key) {
    EVP_MD* md = token.alg == "HS256" ? md_[0] : token.alg == "HS384" ? md_[1] : token.alg == "HS512" ? md_[2] : nullptr;
    if (md == nullptr || ctx_ == nullptr) return false;
    const std::size_t block = static_cast<std::size_t>(EVP_MD_get_block_size(md));
    std::array<std::uint8_t, 128> k{}, pad{};
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> inner{}, out{};
    unsigned inner_len = 0, out_len = 0;
    bool ok = block <= k.size();
    // A key longer than the block is hashed first (RFC 2104 2).
    if (ok && key.size() > block) {
      ok = EVP_DigestInit_ex2(ctx_, md, nullptr) == 1 && EVP_DigestUpdate(ctx_, key.data(), key.size()) == 1 &&
           EVP_DigestFinal_ex(ctx_, k.data(), &inner_len) == 1;
    } else if (ok) {
      std::copy(key.begin(), key.end(), k.begin());
    }
    for (std::size_t i = 0; ok && i < block; ++i) pad[i] = k[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex2(ctx_, md, nullptr) == 1 && EVP_DigestUpdate(ctx_, pad.data(), block) == 1 &&
         EVP_DigestUpdate(ctx_, token.signing_input.data(), token.signing_input.size()) == 1 &&
         EVP_DigestFinal_ex(ctx_, inner.data(), &inner_len) == 1;
    for (std::size_t i = 0; ok && i < block; ++i) pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2(ctx_, md, nullptr) == 1 && EVP_DigestUpdate(ctx_, pad.data(), block) == 1 &&
         EVP_DigestUpdate(ctx_, inner.data(), inner_len) == 1 && EVP_DigestFinal_ex(ctx_, out.data(), &out_len) == 1;
    const bool equal = ok && out_len == token.signature.size() &&
                       CRYPTO_memcmp(out.data(), token.signature.data(), out_len) == 0;
    OPENSSL_cleanse(k.data(), k.size());
    OPENSSL_cleanse(pad.data(), pad.size());
    OPENSSL_cleanse(inner.data(), inner.size());
    return equal;
  }

 private:
  EVP_MD_CTX* ctx_;
  std::array<EVP_MD*, 3> md_{};
};

class HmacKeyHunt final : public HuntDetector {
 public:
  std::string_view name() const override { return "hmac-key"; }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    if (islands_capped_) {
      sink.limit(name(), fmt::format("more than {} binary island candidates of one size in the 4 MiB at file offset "
                                     "{:#x} (and maybe elsewhere); the rest were not tried",
                                     kIslandsPerChunk, *islands_capped_));
    }
    // Each key that verified a token, for the closure: every copy in any form is a finding.
    for (const Secret& secret : secrets_) {
      const bool text = std::all_of(secret.bytes.begin(), secret.bytes.end(), printable);
      sink.secret(proven_secret(text ? KnownSecret::Shape::text : KnownSecret::Shape::bytes, secret.bytes,
                                secret.bytes.size(), "hmac-key", "hmac-key",
                                fmt::format("the {} signature of the {} verifies under it", secret.alg,
                                            secret.token_origin),
                                secret.fingerprint));
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

  // Streams of one area, in the order one pass tests them: ASCII runs, UTF-16LE runs, then
  // binary windows of each size in kBinarySizes.
  static constexpr std::size_t kAscii = 0;
  static constexpr std::size_t kUtf16 = 1;
  static constexpr std::size_t kBinary = 2;  // + the size's index
  static constexpr std::size_t kIslands = kBinary + kBinarySizes.size();  // + the index in kIslandSizes
  // Islands are tried at the sizes keys are made in (RFC 7518 3.2: a key as long as the hash,
  // 32 bytes for HS256, 48 for HS384, 64 for HS512) and the shorter ones libraries accept (16,
  // 20, 24), at most this many of one size per 4 MiB chunk (a Node.js heap had 8,192 16-byte
  // islands in one chunk: hashes and ids look random too); past it the hunt reports a limit.
  static constexpr std::array<std::size_t, 6> kIslandSizes{16, 20, 24, 32, 48, 64};
  static constexpr std::size_t kIslandsPerChunk = 32768;

  // A candidate that verifies a token: where, and which token. `bytes` are in the mapping
  // (UTF-16LE runs: the wide bytes, `length` characters).
  struct Hit {
    std::size_t stream = 0;
    std::size_t index = 0;  // in the stream within the chunk
    std::size_t token = 0;
    const std::uint8_t* bytes = nullptr;
    std::size_t length = 0;
  };
  struct ChunkOutcome {
    std::vector<Hit> hits;
    std::optional<Hit> stop;  // where this chunk's clock ran out (bytes unused)
    std::uint64_t stop_offset = 0;
    std::optional<std::uint64_t> islands_capped;  // file offset of a chunk that had more islands
  };
  // What one thread needs: its HMAC context and its cache of candidates tried.
  struct Tester {
    FastHmac verifier;
    std::vector<std::uint64_t> tried = std::vector<std::uint64_t>(std::size_t{1} << 20);
    std::uint64_t tests = 0;
  };

  void hunt(const ScanContext& context) override {
    if (context.tokens == nullptr || context.tokens->empty()) return;
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    std::vector<EarliestHit> earliest(context.tokens->size());
    for (std::size_t t : found_) earliest[t].note(0);
    std::vector<std::unique_ptr<Tester>> testers(worker_count(context));
    std::vector<ChunkOutcome> outcomes(chunks.size());
    run_chunks(context, [&](std::size_t c, unsigned worker) {
      if (!testers[worker]) testers[worker] = std::make_unique<Tester>();
      walk(context, chunks, c, earliest, *testers[worker], outcomes[c]);
    });
    replay(context, chunks, outcomes);
  }

  void walk(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
            std::vector<EarliestHit>& earliest, Tester& tester, ChunkOutcome& out) const {
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
    HuntClock clock;
    const std::uint64_t chunk_at = area.file_offset + chunk.begin;
    if (clock.expired(context, chunk_at)) {
      out.stop = Hit{kAscii, 0, 0, nullptr, 0};
      out.stop_offset = chunk_at;
      return;
    }
    const std::size_t tokens = context.tokens->size();
    const auto open = [&](std::size_t stream) {
      const std::uint64_t position = pass_position(chunk.area, stream, c);
      for (std::size_t t = 0; t < tokens; ++t) {
        if (!earliest[t].before(position)) return true;
      }
      return false;
    };
    // Runs are found from their first character, so a window reaching one byte (ASCII) or two
    // (UTF-16LE) before the chunk tells a run's start from its middle; kMaxRun + 1 characters
    // after it tell a run too long to try from one that ends in reach.
    // Islands look kIslandReach bytes past either side of their window.
    const ScanArea window = chunk_window(area, chunk, {kIslandReach + 64, std::max(2 * kMaxRun, island_reach(64)) + 64});
    const auto* p = reinterpret_cast<const std::uint8_t*>(window.bytes.data());
    const std::size_t n = window.bytes.size();
    const std::size_t from = static_cast<std::size_t>(chunk_at - window.file_offset);
    const std::size_t to = from + static_cast<std::size_t>(chunk.end - chunk.begin);
    const bool at_area_start = window.file_offset == area.file_offset;
    std::vector<std::uint8_t> narrow;
    const auto test = [&](std::size_t stream, std::size_t index, std::span<const std::uint8_t> candidate,
                          const std::uint8_t* bytes) {
      if (out.stop) return;
      // An HMAC costs a few µs: the clock is read every 256 candidates.
      if (++tester.tests % 256 == 0 && clock.expired(context, chunk_at)) {
        out.stop = Hit{stream, index, 0, nullptr, 0};
        out.stop_offset = chunk_at;
        return;
      }
      if (tried_before(tester.tried, candidate)) return;
      const std::uint64_t position = pass_position(chunk.area, stream, c);
      for (std::size_t t = 0; t < tokens; ++t) {
        if (earliest[t].before(position)) continue;
        if (!tester.verifier.verifies((*context.tokens)[t], candidate)) continue;
        earliest[t].note(position);
        out.hits.push_back({stream, index, t, bytes, candidate.size()});
      }
    };
    // ASCII runs.
    if (open(kAscii)) {
      std::size_t index = 0;
      for (std::size_t i = from; i < to && !out.stop; ++i) {
        if (!printable(p[i]) || (i > 0 && printable(p[i - 1])) || (i == 0 && !at_area_start)) continue;
        std::size_t j = i;
        while (j < n && printable(p[j]) && j - i <= kMaxRun) ++j;
        if (j - i >= kMinRun && j - i <= kMaxRun) test(kAscii, index++, {p + i, j - i}, p + i);
        i = j;
      }
    }
    // UTF-16LE runs, tried as the UTF-8 (ASCII) bytes a framework would sign with. A run
    // longer than kMaxRun is skipped whole, as an ASCII one is: only whole runs are tried.
    // A run starts where a unit (printable, then 0) is not preceded by one.
    const auto unit = [&](std::size_t i) { return i + 1 < n && printable(p[i]) && p[i + 1] == 0; };
    if (open(kUtf16)) {
      std::size_t index = 0;
      for (std::size_t i = from; i < to && !out.stop; ++i) {
        if (!unit(i) || (i >= 2 && unit(i - 2)) || (i < 2 && !at_area_start)) continue;
        narrow.clear();
        std::size_t j = i;
        while (unit(j) && narrow.size() <= kMaxRun) {
          narrow.push_back(p[j]);
          j += 2;
        }
        if (narrow.size() >= kMinRun && narrow.size() <= kMaxRun) test(kUtf16, index++, narrow, p + i);
      }
      OPENSSL_cleanse(narrow.data(), narrow.size());
    }
    // Binary keys in malloc chunks of their size.
    const unsigned word = pointer_width(context.dump.model);
    const std::uint64_t base = vaddr_of(context.dump, window, 0).value_or(window.file_offset);
    // The walk over this chunk's positions for windows of `size` bytes.
    const auto walk_for = [&](std::size_t size) {
      LimbSearch search{{p, n}, base, word, size};
      search.from = from;
      search.to = to;
      return search;
    };
    for (std::size_t k = 0; k < kBinarySizes.size() && !out.stop; ++k) {
      const std::size_t size = kBinarySizes[k];
      if (!open(kBinary + k)) continue;
      std::size_t index = 0;
      for_each_chunk(walk_for(size), 16, [&](std::size_t o) {
        if (distinct_bytes(p + o, size) >= size / 2 && !has_pointer_word(p + o, size)) {
          test(kBinary + k, index++, {p + o, size}, p + o);
        }
      });
    }
    // Binary keys in objects of other allocators: islands of each size still open, in one walk
    // (each size's stream keeps its own order and cap).
    std::vector<std::size_t> island_sizes, island_stream;
    for (std::size_t k = 0; k < kIslandSizes.size(); ++k) {
      if (!open(kIslands + k)) continue;
      island_sizes.push_back(kIslandSizes[k]);
      island_stream.push_back(kIslands + k);
    }
    std::vector<std::size_t> island_index(island_sizes.size(), 0);
    if (!out.stop && !island_sizes.empty()) {
      LimbSearch search = walk_for(0);
      for_each_island_of(search, island_sizes, [&](std::size_t which, std::size_t o) {
        const std::size_t size = island_sizes[which];
        if (!looks_random(p + o, size) || has_pointer_word(p + o, size)) return;
        if (island_index[which] >= kIslandsPerChunk) {
          out.islands_capped = chunk_at;
          return;
        }
        test(island_stream[which], island_index[which]++, {p + o, size}, p + o);
      });
    }
  }

  // The outcomes in the order of one pass: the first candidate that verifies a token gives its
  // key, and the clock stops at the first position that saw it run out.
  void replay(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::vector<ChunkOutcome>& outcomes) {
    struct Event {
      std::uint64_t position;
      std::size_t index;
      std::size_t token;
      const Hit* hit;
      std::uint64_t stop_offset;  // for a stop
    };
    std::vector<Event> events;
    constexpr std::size_t kStop = SIZE_MAX;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      if (outcomes[c].islands_capped && !islands_capped_) islands_capped_ = outcomes[c].islands_capped;
      for (const Hit& h : outcomes[c].hits) {
        events.push_back({pass_position(chunks[c].area, h.stream, c), h.index, h.token, &h, 0});
      }
      if (const auto& s = outcomes[c].stop) {
        events.push_back({pass_position(chunks[c].area, s->stream, c), s->index, kStop, nullptr,
                          outcomes[c].stop_offset});
      }
    }
    // A stop sorts before a hit at the same candidate: that candidate was not tested.
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      const bool a_stop = a.token == kStop, b_stop = b.token == kStop;
      return std::tie(a.position, a.index, b_stop, a.token) < std::tie(b.position, b.index, a_stop, b.token);
    });
    std::vector<std::uint8_t> candidate;
    for (const Event& e : events) {
      if (e.token == kStop) {
        clock_.stop_at(e.stop_offset);
        break;
      }
      if (found_.count(e.token)) continue;
      const Hit& h = *e.hit;
      candidate.clear();
      for (std::size_t i = 0; i < h.length; ++i) candidate.push_back(h.stream == kUtf16 ? h.bytes[2 * i] : h.bytes[i]);
      found_.insert(e.token);
      const MacToken& token = (*context.tokens)[e.token];
      const std::string fp = keyed_fingerprint(context.fingerprint_key, candidate);
      bool known = false;
      for (const Secret& s : secrets_) known = known || s.fingerprint == fp;
      if (!known) secrets_.push_back({candidate, fp, token.alg, token.origin});
    }
    OPENSSL_cleanse(candidate.data(), candidate.size());
  }

  // A heap repeats its strings (log lines, JSON keys): a candidate already tried against every
  // token is skipped. The table is a direct-mapped cache of 64-bit hashes, so its memory is
  // fixed, and a candidate is skipped only when its hash equals the one in its slot: the same
  // string, but for a 2^-64 chance.
  // Each thread has its own table; it sees its chunks in pass order, so a string it skips was
  // tried at an earlier position.
  static bool tried_before(std::vector<std::uint64_t>& tried, std::span<const std::uint8_t> candidate) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (std::uint8_t b : candidate) h = (h ^ b) * 0x100000001b3ULL;
    h ^= candidate.size();
    std::uint64_t& slot = tried[(h ^ (h >> 29)) & (tried.size() - 1)];
    if (slot == h) return true;
    slot = h;
    return false;
  }

  HuntClock clock_;
  std::optional<std::uint64_t> islands_capped_;  // the first chunk with more islands than tested
  std::set<std::size_t> found_;  // tokens whose key is known
  std::vector<Secret> secrets_;
};

}  // namespace

std::unique_ptr<HuntDetector> make_hmac_key_hunt_detector() { return std::make_unique<HmacKeyHunt>(); }

}  // namespace dumpguard
