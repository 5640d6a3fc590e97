// Candidates come from structure first (docs/design.md), since a
// division at every offset costs about 18 s per GiB and modulus:
//  - glibc malloc chunks: a 16-byte-aligned user pointer preceded by a size field that fits
//    the limb count (malloc.c: chunk size = request + SIZE_SZ, rounded up to 2*SIZE_SZ);
//  - OpenSSL BIGNUMs (crypto/bn/bn_local.h: { BN_ULONG *d; int top; int dmax; int neg;
//    int flags; }): a pointer whose top matches the prime's limb count is followed to its limbs,
//    which finds limbs in any allocator, the secure heap included;
//  - DER INTEGER headers (02 81 xx / 02 82 xx xx) and SSH mpint length prefixes (RFC 4251 5).
// Then cheap statistics: the candidate is odd, has the prime's bit length, and its bytes are
// diverse. Blind spots (docs/detectors.md): limbs in a non-glibc allocator with no BIGNUM header in the
// dump, big-endian copies with no length prefix, and factors of moduli the scan never saw.
// Once one factor is known, every part of the key is derived and handed to the closure, which
// finds each copy of each part in every layout a runtime uses.
#include "detect/rsa_factor_hunt.hpp"

#include <openssl/bn.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <array>
#include <bit>
#include <cstring>
#include <fmt/format.h>
#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/digest.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/spki.hpp"
#include "crypto/wiped_bytes.hpp"
#include "detect/limb_candidates.hpp"
#include "detect/pass_order.hpp"
#include "detect/runtime_numbers.hpp"
#include "format/address_map.hpp"
#include "simd/cpu.hpp"

namespace dumpguard {

namespace {

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}


struct Modulus {
  const PublicKey* key = nullptr;
  BnPtr n;
  unsigned prime_bits = 0;   // (bits + 1) / 2: OpenSSL's primes have exactly this many bits
  std::size_t prime_len = 0; // bytes
  bool from_memory = false;  // a BIGNUM-shaped number, not a public key seen in the dump
};

struct Component {
  const char* name;
  const char* kind;
};
constexpr std::array<Component, 8> kComponents{{
    {"p", "rsa-prime"},
    {"q", "rsa-prime"},
    {"d", "rsa-private-exponent"},
    {"d (mod φ(n))", "rsa-private-exponent"},
    {"dp", "rsa-crt-exponent"},
    {"dq", "rsa-crt-exponent"},
    {"qinv", "rsa-crt-coefficient"},
    {"pinv", "rsa-crt-coefficient"},
}};

#if defined(__x86_64__)
// The vector test of integer_candidates: 32 positions at once, the whole header compared (02 81
// and one length byte, 02 82 or 00 00 and two), so that a position passes only where a header of
// a sought length starts (a test of the first two bytes alone passed wherever a heap has two
// zero bytes, and mispredicted there). Returns where it stopped: the caller checks the rest.
constexpr std::size_t kVectorLengths = 8;  // more prime lengths than this are checked byte by byte

template <typename Check>
__attribute__((target("avx2"))) std::size_t integer_headers_avx2(const std::uint8_t* data, std::size_t size,
                                                                  std::size_t i, std::size_t end,
                                                                  const std::vector<std::size_t>& lengths,
                                                                  const Check& check) {
  if (lengths.size() > kVectorLengths) return i;
  // Each content length a header may give (the length, or one more for a leading zero), as the
  // two big-endian bytes of a 16-bit length, and the one-byte ones.
  __m256i high[2 * kVectorLengths], low[2 * kVectorLengths], single[2 * kVectorLengths];
  std::size_t two = 0, one = 0;
  for (std::size_t len : lengths) {
    for (std::size_t v : {len, len + 1}) {
      high[two] = _mm256_set1_epi8(static_cast<char>(v >> 8));
      low[two++] = _mm256_set1_epi8(static_cast<char>(v & 0xFF));
      if (v < 256) single[one++] = _mm256_set1_epi8(static_cast<char>(v));
    }
  }
  const __m256i zero = _mm256_setzero_si256(), x02 = _mm256_set1_epi8(0x02);
  const __m256i x81 = _mm256_set1_epi8(static_cast<char>(0x81)), x82 = _mm256_set1_epi8(static_cast<char>(0x82));
  for (; i + 32 <= end && i + 32 + 3 <= size; i += 32) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 1));
    const __m256i b2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 2));
    const __m256i b3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 3));
    __m256i long_form = zero, short_form = zero;
    for (std::size_t k = 0; k < two; ++k) {
      long_form = _mm256_or_si256(long_form, _mm256_and_si256(_mm256_cmpeq_epi8(b2, high[k]), _mm256_cmpeq_epi8(b3, low[k])));
    }
    for (std::size_t k = 0; k < one; ++k) short_form = _mm256_or_si256(short_form, _mm256_cmpeq_epi8(b2, single[k]));
    const __m256i der = _mm256_cmpeq_epi8(b0, x02);
    const __m256i der_short = _mm256_and_si256(_mm256_cmpeq_epi8(b1, x81), short_form);
    const __m256i two_bytes = _mm256_or_si256(_mm256_and_si256(der, _mm256_cmpeq_epi8(b1, x82)),
                                              _mm256_and_si256(_mm256_cmpeq_epi8(b0, zero), _mm256_cmpeq_epi8(b1, zero)));
    const __m256i hit = _mm256_or_si256(_mm256_and_si256(der, der_short), _mm256_and_si256(two_bytes, long_form));
    for (auto m = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit)); m != 0; m &= m - 1) {
      check(i + static_cast<unsigned>(std::countr_zero(m)));
    }
  }
  return i;
}
#endif

class RsaFactorHunt final : public HuntDetector {
 public:
  explicit RsaFactorHunt(bool exhaustive) : exhaustive_(exhaustive) {}
  std::string_view name() const override { return "rsa-factor"; }

  void finish(const ScanContext& context, FindingSink& sink) override {
    clock_.report(name(), context, sink);
    // A memory modulus becomes a key of the report only once it is factored.
    for (std::size_t i = 0; i < moduli_.size(); ++i) {
      if (moduli_[i].from_memory && factors_[i]) sink.public_key(*moduli_[i].key);
    }
    for (const auto& cut : runtime_cut_) {
      if (!cut) continue;
      sink.limit(name(), fmt::format("more numbers in runtimes' layouts than one chunk keeps; those from file offset "
                                     "{:#x} on in that chunk were not hunted",
                                     *cut));
    }
    closure(context, sink);
  }

 private:
  void prepare(const ScanContext& context) override {
    if (prepared_) return;
    prepared_ = true;
    word_ = pointer_width(context.dump.model);
    map_.emplace(context.dump.model);
    for (const PublicKey& k : context.keys.keys()) {
      // CA keys' private halves are never in a server's dump (CAs keep them offline).
      if (k.type != KeyType::rsa || k.ca || k.bits < 512 || k.bits > 16384) continue;
      Modulus m;
      m.key = &k;
      m.n = bn_from_be(k.n.data(), k.n.size());
      m.prime_bits = (k.bits + 1) / 2;
      m.prime_len = (m.prime_bits + 7) / 8;
      if (!m.n) continue;
      prime_lengths_.insert(m.prime_len);
      moduli_.push_back(std::move(m));
    }
    layouts_ = runtime_layouts(context.dump.model, 8 * word_, exhaustive_);
    add_memory_moduli(context);
    factors_.resize(moduli_.size());
    unfactored_ = moduli_.size();
    ctx_.reset(BN_CTX_secure_new());
  }

  // A process that made or loaded a key without a certificate holds the modulus only as a
  // BIGNUM. Numbers that look like RSA moduli (a common size, exactly that many bits, odd,
  // diverse bytes) are hunted too: finding a prime-sized factor of a random-looking 2048-bit
  // number is itself the proof that it is a modulus whose key is in the dump. The public
  // exponent is taken as 65537 for the fingerprint, and the closure confirms it when d
  // (the inverse of 65537) is found.
  void add_memory_moduli(const ScanContext& context) {
    constexpr std::size_t kMaxMemoryModuli = 64;
    constexpr std::array<std::size_t, 4> kBits{1024, 2048, 3072, 4096};
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    // A number that looks like a modulus, big-endian, and where it was seen.
    struct Seen {
      std::vector<std::uint8_t> n;
      std::uint64_t file_offset = 0;
      std::string_view layout;  // empty: the limbs of a BIGNUM
    };
    // A chunk keeps this many of each size: only the first kMaxMemoryModuli distinct ones count.
    constexpr std::size_t kKeptPerChunk = 256;
    // Runtime numbers of every size a hunt may seek; a JVM heap holds hundreds per MiB. Past this
    // many in one chunk, the rest are not hunted and a limit says where.
    constexpr std::size_t kRuntimePerChunk = 16384;
    // The walk, on the scan's threads: per chunk and size, the BIGNUMs that look like moduli,
    // then the numbers runtimes keep in their own layouts (runtime_numbers.hpp).
    // The bit counts of runtime numbers worth keeping: moduli, and the primes of every modulus
    // that may be hunted (those of keys the scan knows and of the moduli found here).
    std::vector<unsigned> runtime_bits(kBits.begin(), kBits.end());
    for (const Modulus& m : moduli_) runtime_bits.push_back(m.prime_bits);
    for (std::size_t b : kBits) runtime_bits.push_back(static_cast<unsigned>(b / 2));
    std::sort(runtime_bits.begin(), runtime_bits.end());
    runtime_bits.erase(std::unique(runtime_bits.begin(), runtime_bits.end()), runtime_bits.end());
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    constexpr std::array<std::size_t, kBits.size()> kLengths{kBits[0] / 8, kBits[1] / 8, kBits[2] / 8, kBits[3] / 8};
    // Then the EC scalars' sizes (P-256 and secp256k1, P-384, P-521), when the scan gathers them.
    constexpr std::array<unsigned, 3> kScalarBits{256, 384, 521};
    constexpr std::array<std::size_t, kBits.size() + kScalarBits.size()> kWalkLengths{
        kLengths[0], kLengths[1], kLengths[2], kLengths[3], 32, 48, 66};
    constexpr std::array<std::size_t, kScalarBits.size()> kScalarLengths{32, 48, 66};
    // The EC hunt tests a few hundred in all; a chunk of a hostile dump keeps no more than this.
    constexpr std::size_t kScalarsPerChunk = 1024;
    // A Node.js heap holds thousands of V8 digit arrays of a scalar's size per chunk (bn.js's
    // numbers: elliptic's precomputed points, signatures, intermediates); they have a count of
    // their own, as they have a budget of their own in the EC hunt.
    constexpr std::size_t kV8ArraysPerChunk = 4096;
    ScalarCandidates* scalars = context.scalar_candidates;
    if (scalars) {
      scalars->per_chunk.assign(chunks.size(), {});
      scalars->cut_at.assign(chunks.size(), std::nullopt);
    }
    std::vector<std::array<std::vector<Seen>, kBits.size()>> found(chunks.size());
    std::vector<std::vector<RuntimeCandidate>> runtime(chunks.size());
    runtime_cut_.assign(chunks.size(), std::nullopt);
    run_chunks(context, [&](std::size_t c, unsigned /*worker*/) {
      const ScanArea& area = context.areas[chunks[c].area];
      if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return;
      // BIGNUMs are looked for in the heap; runtime numbers wherever live keys may be.
      const RegionKind kind = area.region ? context.dump.model.regions[*area.region].kind : RegionKind::unknown;
      const bool heap = area.region && (kind == RegionKind::heap || kind == RegionKind::anon || kind == RegionKind::unknown);
      if (!heap && layouts_.empty()) return;
      const ScanArea window =
          chunk_window(area, chunks[c], {0, layouts_.empty() ? 64 : runtime_number_reach(runtime_bits.back())});
      const LimbSearch search = chunk_limb_search(context, area, window, chunks[c], word_, 0);
      // The EC hunt's candidate scalars, where it asks for them: in a runtime's layout (this walk),
      // then BIGNUMs of a scalar's size whose limbs look random (the BIGNUM walk below), so that
      // hunt reads memory no second time.
      std::size_t v8_arrays = 0;
      const auto take_scalar = [&](ScalarCandidate candidate) {
        if (candidate.v8_array ? v8_arrays < kV8ArraysPerChunk
                               : scalars->per_chunk[c].size() - v8_arrays < kScalarsPerChunk) {
          v8_arrays += candidate.v8_array ? 1 : 0;
          scalars->per_chunk[c].push_back(candidate);
        } else if (!scalars->cut_at[c]) {
          scalars->cut_at[c] = candidate.file_offset;
        }
      };
      // Only CPython's ints, by the size before their digits, whole JVM int[] arrays, by their
      // object header, and V8 digit arrays, by theirs, in the default scan: runs of random
      // digits and words of a scalar's length fill runtimes' heaps, and would spend the
      // candidate budget (--exhaustive takes every layout, ec_scalar_hunt.cpp). The JVM's and
      // V8's arrays are tested apart from that budget.
      const auto runtime_scalar = [&](std::size_t b, std::size_t offset, const NumberLayout& layout, std::size_t digits) {
        const std::size_t len = (kScalarBits[b] + 7) / 8;
        const bool jvm = jvm_int_array_at(search, offset, layout, digits);
        // V8's arrays are multiplied on curves of 256 and 384 bits only (ec_scalar_hunt.cpp
        // kV8Curves): a 521-bit one is every product elliptic computes.
        const bool v8 = !jvm && kScalarBits[b] <= 384 && v8_digit_array_at(search, offset, layout, digits);
        const bool followed = v8 && v8_digits_follow(search, offset, layout, digits);
        if ((jvm || v8 || cpython_int_at(search, offset, layout, digits)) &&
            number_looks_random(layout, search.data.subspan(offset), digits, len)) {
          take_scalar({window.file_offset + offset, len, &layout, digits, jvm, v8, followed});
        }
      };
      // The EC keys a JVM made, by the DER it keeps of each (runtime_numbers.hpp jvm_key_der_at):
      // their scalars, big-endian, tested as the JVM's arrays are.
      const auto jvm_key_scalar = [&](std::size_t b, std::size_t offset) {
        take_scalar({window.file_offset + offset, kScalarLengths[b], &layout_named("be"), kScalarLengths[b], true});
      };
      // Numbers in a runtime's layout: kept for the hunt, and those of a modulus's size taken as one.
      for_each_runtime_number(search, layouts_, runtime_bits, [&](std::size_t b, std::size_t offset, const NumberLayout& layout) {
        if (runtime[c].size() < kRuntimePerChunk) {
          runtime[c].push_back({window.file_offset + offset, &layout, runtime_bits[b]});
        } else if (!runtime_cut_[c]) {
          runtime_cut_[c] = window.file_offset + offset;
        }
        const auto size = std::find(kBits.begin(), kBits.end(), runtime_bits[b]);
        if (!heap || size == kBits.end()) return;
        const std::size_t k = static_cast<std::size_t>(size - kBits.begin());
        const std::size_t len = kLengths[k];
        if (found[c][k].size() >= kKeptPerChunk) return;
        auto n = read_number(layout, search.data.subspan(offset), digits_for(layout, runtime_bits[b]), len);
        if (n && distinct_bytes(n->data(), len) >= len / 4) {
          found[c][k].push_back({std::move(*n), window.file_offset + offset, layout.name});
        }
      }, scalars ? std::span<const unsigned>(kScalarBits) : std::span<const unsigned>(), runtime_scalar,
         scalars ? std::span<const std::size_t>(kScalarLengths) : std::span<const std::size_t>(), jvm_key_scalar);
      if (!heap) return;
      const std::size_t walked = scalars ? kWalkLengths.size() : kLengths.size();
      for_each_bignum_of(search, std::span(kWalkLengths).first(walked), *map_, [&](std::size_t b, std::uint64_t at) {
        const std::size_t len = kWalkLengths[b];
        const std::uint8_t* p = all + at;
        if (b >= kLengths.size()) {
          if (looks_random(p, len)) take_scalar({at, len});
          return;
        }
        if ((p[0] & 1) && (p[len - 1] & 0x80) && distinct_bytes(p, len) >= len / 4 && found[c][b].size() < kKeptPerChunk) {
          found[c][b].push_back({std::vector<std::uint8_t>(std::make_reverse_iterator(p + len), std::make_reverse_iterator(p)), at, {}});
        }
      });
    });
    if (scalars) scalars->walked = true;
    for (auto& kept : runtime) runtime_.insert(runtime_.end(), kept.begin(), kept.end());
    std::stable_sort(runtime_.begin(), runtime_.end(),
                     [](const RuntimeCandidate& a, const RuntimeCandidate& b) { return a.file_offset < b.file_offset; });
    std::set<std::array<std::uint8_t, 32>> seen;  // SHA-256 of each modulus already hunted
    // Every RSA key the scan knows, CA keys included: their BIGNUM copies are not memory moduli
    // (a process that loaded a trust store holds a hundred of them).
    for (const PublicKey& k : context.keys.keys()) {
      if (k.type == KeyType::rsa) seen.insert(sha256(k.n));
    }
    // Larger sizes first, then in the order of one pass (area, chunk): under the caps, a
    // runtime's many 1024-bit intermediates (a JVM that signed holds hundreds) give way to
    // the moduli of today's keys. BIGNUMs and runtime numbers have a cap each.
    std::size_t from_bignums = 0, from_runtimes = 0;
    for (std::size_t b = kBits.size(); b-- > 0;) {
      const std::size_t len = kBits[b] / 8;
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        for (Seen& number : found[c][b]) {
          std::size_t& taken = number.layout.empty() ? from_bignums : from_runtimes;
          if (taken >= kMaxMemoryModuli) continue;
          PublicKey k;
          k.type = KeyType::rsa;
          k.n = std::move(number.n);
          if (!seen.insert(sha256(k.n)).second) continue;
          ++taken;
          k.e = {0x01, 0x00, 0x01};
          fingerprint(k);
          k.derived = true;
          k.origin = number.layout.empty()
                         ? fmt::format("a {}-bit BIGNUM at file offset {:#x}, taken as an RSA modulus with e = 65537",
                                       k.bits, number.file_offset)
                         : fmt::format("a {}-bit number laid out as {} at file offset {:#x}, taken as an RSA "
                                       "modulus with e = 65537",
                                       k.bits, number.layout, number.file_offset);
          memory_keys_.push_back(std::move(k));
          Modulus m;
          m.key = &memory_keys_.back();
          m.n = bn_from_be(m.key->n.data(), m.key->n.size());
          m.prime_bits = static_cast<unsigned>(kBits[b] / 2);
          m.prime_len = len / 2;
          m.from_memory = true;
          prime_lengths_.insert(m.prime_len);
          moduli_.push_back(std::move(m));
        }
      }
    }
  }

  // Cheap statistics before any division: odd, the right bit length, diverse bytes.
  static bool plausible(const std::uint8_t* p, std::size_t len, bool little_endian, unsigned prime_bits) {
    const std::uint8_t low = little_endian ? p[0] : p[len - 1];
    const std::uint8_t top = little_endian ? p[len - 1] : p[0];
    if (!(low & 1) || top == 0) return false;
    unsigned top_bits = 0;
    for (unsigned t = top; t != 0; t >>= 1) ++top_bits;
    const unsigned bits = static_cast<unsigned>((len - 1) * 8) + top_bits;
    if (bits + 1 < prime_bits || bits > prime_bits + 1) return false;
    const unsigned distinct = distinct_bytes(p, len);
    return distinct >= len / 4;
  }

  // A division that found a factor: where, in the order of one pass, and of which modulus.
  struct Hit {
    std::size_t stream = 0;  // 3 per prime length, in length order: chunk limbs, BIGNUM limbs, integers
    std::size_t index = 0;   // the candidate's index in its stream, within the chunk
    std::uint64_t file_offset = 0;
    std::size_t modulus = 0;
    const std::uint8_t* bytes = nullptr;  // the candidate's bytes in the mapping
  };
  struct ChunkOutcome {
    std::vector<Hit> hits;
    std::optional<Hit> stop;  // where this chunk's clock ran out (modulus unused)
    std::deque<WipedBytes> numbers;  // runtime numbers read into big-endian bytes; hits point here
  };

  // Candidates come in streams: for each prime length (in order), the limbs after glibc chunk
  // headers, the limbs BIGNUMs point to (little-endian), DER INTEGER and SSH mpint contents
  // (big-endian), then the numbers runtimes keep in their own layouts (runtime_numbers.hpp),
  // read into big-endian bytes. One pass tests them area by area, stream by stream.
  static constexpr std::size_t kStreamsPerLength = 4;
  static bool little_endian_stream(std::size_t stream) { return stream % kStreamsPerLength < 2; }

  void hunt(const ScanContext& context) override {
    if (moduli_.empty()) return;
    if (exhaustive_) {
      for (const ScanArea& area : context.areas) {
        if (unfactored_ == 0 || clock_.expired(context, area.file_offset)) return;
        every_window(context, area);
      }
      return;
    }
    const std::vector<ChunkBounds> chunks = chunks_of(context);
    const std::vector<std::size_t> lengths(prime_lengths_.begin(), prime_lengths_.end());
    std::vector<EarliestHit> earliest(moduli_.size());
    for (std::size_t i = 0; i < moduli_.size(); ++i) {
      if (factors_[i]) earliest[i].note(0);  // factored by an earlier call (tests scan area by area)
    }
    std::vector<BnCtxPtr> contexts(worker_count(context));
    std::vector<ChunkOutcome> outcomes(chunks.size());
    run_chunks(context, [&](std::size_t c, unsigned worker) {
      if (!contexts[worker]) contexts[worker].reset(BN_CTX_secure_new());
      outcomes[c] = walk_and_divide(context, chunks, c, lengths, earliest, contexts[worker].get());
    });
    replay(chunks, outcomes);
  }

  // One chunk: walk each stream, and divide each candidate by every modulus of its prime
  // length that no earlier position has factored yet. Runs on any thread: reads moduli_ and
  // map_ only, writes its outcome and `earliest`.
  ChunkOutcome walk_and_divide(const ScanContext& context, const std::vector<ChunkBounds>& chunks, std::size_t c,
                               const std::vector<std::size_t>& lengths, std::vector<EarliestHit>& earliest,
                               BN_CTX* ctx) const {
    ChunkOutcome out;
    const ChunkBounds& chunk = chunks[c];
    const ScanArea& area = context.areas[chunk.area];
    if (area.region && !may_hold_live_keys(context.dump.model.regions[*area.region])) return out;
    std::size_t longest = 0;
    for (std::size_t len : lengths) longest = std::max(longest, len);
    const ScanArea window =
        chunk_window(area, chunk, {2 * word_, std::max(longest + 64, runtime_number_reach(static_cast<unsigned>(8 * longest)))});
    const auto* all = reinterpret_cast<const std::uint8_t*>(context.dump.bytes().data());
    HuntClock clock;
    // (file offset, length·3 + how the bytes are read: little-endian limbs, big-endian, a runtime's layout)
    std::set<std::pair<std::uint64_t, std::size_t>> tried;
    std::vector<bool> found(moduli_.size(), false);           // by this chunk, at an earlier candidate
    BnPtr x = bn_new(), r = bn_new();
    if (!x || !r) return out;
    // One walk of each kind gathers every length's candidates, in walk order per stream.
    struct Candidate {
      const std::uint8_t* bytes;
      std::uint64_t file_offset;
    };
    std::vector<std::vector<Candidate>> streams(kStreamsPerLength * lengths.size());
    const auto* data = reinterpret_cast<const std::uint8_t*>(window.bytes.data());
    const LimbSearch search = chunk_limb_search(context, area, window, chunk, word_, 0);
    // A stream is open while some modulus of its length may still be first factored there;
    // each walk gathers only the open streams' lengths, and is skipped when none is open (once
    // a held key is factored, later chunks walk nothing).
    const auto open_at = [&](std::size_t stream) {
      const std::uint64_t position = pass_position(chunk.area, stream, c);
      const std::size_t len = lengths[stream / kStreamsPerLength];
      for (std::size_t i = 0; i < moduli_.size(); ++i) {
        if (moduli_[i].prime_len == len && !earliest[i].before(position)) return true;
      }
      return false;
    };
    std::array<std::vector<std::size_t>, kStreamsPerLength> walk_lengths, walk_index;  // per kind
    for (std::size_t l = 0; l < lengths.size(); ++l) {
      for (std::size_t kind = 0; kind < kStreamsPerLength; ++kind) {
        if (!open_at(l * kStreamsPerLength + kind)) continue;
        walk_lengths[kind].push_back(lengths[l]);
        walk_index[kind].push_back(l);
      }
    }
    if (!walk_lengths[0].empty()) {
      std::vector<ChunkTarget> targets;
      // dmax may exceed top: up to twice the limbs, as BN_MONT_CTX sizes some of its numbers.
      for (std::size_t len : walk_lengths[0]) targets.push_back({len, len + 64});
      for_each_chunk_of(search, targets, [&](std::size_t l, std::size_t o) {
        streams[walk_index[0][l] * kStreamsPerLength].push_back({data + o, window.file_offset + o});
      });
    }
    if (!walk_lengths[1].empty()) {
      for_each_bignum_of(search, walk_lengths[1], *map_, [&](std::size_t l, std::uint64_t at) {
        streams[walk_index[1][l] * kStreamsPerLength + 1].push_back({all + at, at});
      });
    }
    if (!walk_lengths[2].empty()) {
      integer_candidates(search, walk_lengths[2], [&](std::size_t l, std::size_t o) {
        streams[walk_index[2][l] * kStreamsPerLength + 2].push_back({data + o, window.file_offset + o});
      });
    }
    if (!walk_lengths[3].empty()) {
      // The runtime numbers that prepare() kept in this chunk, of an open length's primes' size.
      const std::uint64_t begin = area.file_offset + chunk.begin, end = area.file_offset + chunk.end;
      const auto from = std::lower_bound(runtime_.begin(), runtime_.end(), begin,
                                         [](const RuntimeCandidate& k, std::uint64_t at) { return k.file_offset < at; });
      const std::size_t dump_size = context.dump.bytes().size();
      for (auto it = from; it != runtime_.end() && it->file_offset < end; ++it) {
        for (std::size_t k = 0; k < walk_lengths[3].size(); ++k) {
          const std::size_t len = walk_lengths[3][k];
          const bool sought = std::any_of(moduli_.begin(), moduli_.end(), [&](const Modulus& m) {
            return m.prime_len == len && m.prime_bits == it->bits;
          });
          if (!sought) continue;
          auto n = read_number(*it->layout, {all + it->file_offset, dump_size - it->file_offset},
                               digits_for(*it->layout, it->bits), len);
          if (!n) continue;
          out.numbers.emplace_back();
          out.numbers.back().bytes = std::move(*n);
          streams[walk_index[3][k] * kStreamsPerLength + 3].push_back({out.numbers.back().bytes.data(), it->file_offset});
        }
      }
    }
    for (std::size_t stream = 0; stream < streams.size() && !out.stop; ++stream) {
      const std::size_t len = lengths[stream / kStreamsPerLength];
      const bool little_endian = little_endian_stream(stream);
      const std::uint64_t position = pass_position(chunk.area, stream, c);
      // Every modulus of this length was factored at an earlier position: nothing here matters.
      if (!open_at(stream)) continue;
      for (std::size_t at = 0; at < streams[stream].size() && !out.stop; ++at) {
        const std::uint8_t* p = streams[stream][at].bytes;
        const std::uint64_t file_offset = streams[stream][at].file_offset;
        if (clock.expired(context, file_offset)) {
          out.stop = Hit{stream, at, file_offset, 0, p};
          break;
        }
        bool wanted = false;
        for (std::size_t i = 0; i < moduli_.size() && !wanted; ++i) {
          wanted = moduli_[i].prime_len == len && !found[i] && plausible(p, len, little_endian, moduli_[i].prime_bits);
        }
        // Remember only plausible candidates: the set stays small while the same limbs, reached
        // through a chunk header and through a BIGNUM pointer, are divided once.
        if (!wanted || !tried.insert({file_offset, len * 3 + std::max<std::size_t>(stream % kStreamsPerLength, 1) - 1}).second) continue;
        bool loaded = false;
        for (std::size_t i = 0; i < moduli_.size(); ++i) {
          const Modulus& m = moduli_[i];
          if (m.prime_len != len || found[i] || earliest[i].before(position) ||
              !plausible(p, len, little_endian, m.prime_bits)) {
            continue;
          }
          if (!loaded) {
            const int n = static_cast<int>(len);
            if ((little_endian ? BN_lebin2bn(p, n, x.get()) : BN_bin2bn(p, n, x.get())) == nullptr) break;
            loaded = true;
          }
          if (BN_mod(r.get(), m.n.get(), x.get(), ctx) == 1 && BN_is_zero(r.get()) && !BN_is_one(x.get()) &&
              BN_cmp(x.get(), m.n.get()) != 0) {
            found[i] = true;
            earliest[i].note(position);
            out.hits.push_back({stream, at, file_offset, i, p});
          }
        }
      }
    }
    BN_clear(x.get());
    return out;
  }

  // Applies the chunks' outcomes in the order of one pass: the first division that found a
  // factor of a modulus gives it (p or q), the clock stops at the first position that saw it
  // run out, and nothing after that counts.
  void replay(const std::vector<ChunkBounds>& chunks, std::vector<ChunkOutcome>& outcomes) {
    struct Event {
      std::uint64_t position;
      std::size_t index;
      bool stop;
      const Hit* hit;
    };
    std::vector<Event> events;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      for (const Hit& h : outcomes[c].hits) events.push_back({pass_position(chunks[c].area, h.stream, c), h.index, false, &h});
      if (const auto& s = outcomes[c].stop) events.push_back({pass_position(chunks[c].area, s->stream, c), s->index, true, &*s});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return std::tie(a.position, a.index, a.stop) < std::tie(b.position, b.index, b.stop);
    });
    for (const Event& e : events) {
      if (e.stop) {
        clock_.stop_at(e.hit->file_offset);
        return;
      }
      const Hit& h = *e.hit;
      if (factors_[h.modulus]) continue;
      const std::size_t len = moduli_[h.modulus].prime_len;
      const bool little_endian = little_endian_stream(h.stream);
      const std::uint8_t* p = h.bytes;
      const int n = static_cast<int>(len);
      factors_[h.modulus].reset(little_endian ? BN_lebin2bn(p, n, nullptr) : BN_bin2bn(p, n, nullptr));
      if (factors_[h.modulus]) --unfactored_;
    }
  }

  // --exhaustive: no region is skipped and no window is left out. Each window is divided by
  // every unfactored modulus of its prime length once it is odd, the one exact filter.
  void every_window(const ScanContext& context, const ScanArea& area) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    // Limbs are aligned in memory; unaccounted bytes have no address and use their file offset.
    const std::uint64_t base = vaddr_of(context.dump, area, 0).value_or(area.file_offset);
    BnPtr x = bn_new(), r = bn_new();
    if (!x || !r) return;
    const auto divide = [&](std::size_t at, std::size_t len, bool little_endian) {
      const std::uint8_t* p = data + at;
      if (!((little_endian ? p[0] : p[len - 1]) & 1)) return;
      if ((little_endian ? BN_lebin2bn(p, static_cast<int>(len), x.get()) : BN_bin2bn(p, static_cast<int>(len), x.get())) ==
          nullptr) {
        return;
      }
      if (BN_is_one(x.get())) return;
      for (std::size_t i = 0; i < moduli_.size(); ++i) {
        Modulus& m = moduli_[i];
        if (m.prime_len != len || factors_[i]) continue;
        if (BN_mod(r.get(), m.n.get(), x.get(), ctx_.get()) == 1 && BN_is_zero(r.get()) &&
            BN_cmp(x.get(), m.n.get()) != 0) {
          factors_[i].reset(BN_dup(x.get()));
          --unfactored_;
        }
      }
    };
    for (std::size_t len : prime_lengths_) {
      for (std::size_t at = 0; at + len <= size && unfactored_ > 0; ++at) {
        if (at % 4096 == 0 && clock_.expired(context, area.file_offset + at)) return;
        divide(at, len, false);
        if ((base + at) % 4 == 0) divide(at, len, true);
      }
    }
  }

  // DER INTEGER headers (02 81 xx, 02 82 xx xx) and SSH mpint lengths (uint32, big-endian)
  // whose content is one of the prime lengths (with a leading zero when the top bit is set):
  // found(length index, content's offset in s.data) for each header at a walk position in
  // [from, to), in walk order. A vector test finds the positions where a header can start.
  static void integer_candidates(const LimbSearch& s, const std::vector<std::size_t>& lengths,
                                 const std::function<void(std::size_t, std::size_t)>& found) {
    const std::uint8_t* data = s.data.data();
    const std::size_t size = s.data.size();
    std::size_t longest = 0, shortest = SIZE_MAX;
    for (std::size_t len : lengths) {
      longest = std::max(longest, len);
      shortest = std::min(shortest, len);
    }
    const std::size_t end = std::min(s.to, size > 4 + shortest ? size - 4 - shortest : 0);
    const auto check = [&](std::size_t i) {
      for (std::size_t l = 0; l < lengths.size(); ++l) {
        const std::size_t len = lengths[l];
        if (i + 4 + len >= size) continue;
        std::size_t content = 0;
        std::size_t at = 0;
        if (data[i] == 0x02 && data[i + 1] == 0x81 && len + 1 < 256) {  // DER INTEGER, 1 length byte
          content = data[i + 2];
          at = i + 3;
        } else if (data[i] == 0x02 && data[i + 1] == 0x82) {  // DER INTEGER, 2 length bytes
          content = (std::size_t{data[i + 2]} << 8) | data[i + 3];
          at = i + 4;
        } else if (data[i] == 0 && data[i + 1] == 0) {  // SSH mpint: uint32 length, big-endian
          content = load_be32(data + i);
          at = i + 4;
        } else {
          continue;
        }
        if (content == len + 1 && at + content <= size && data[at] == 0) {
          ++at;
        } else if (content != len || at + content > size) {
          continue;
        }
        found(l, at);
      }
    };
    std::size_t i = s.from;
#if defined(__x86_64__)
    if (longest + 1 < 65536 && simd::cpu_has(simd::Width::avx2)) i = integer_headers_avx2(data, size, i, end, lengths, check);
#endif
    for (; i < end; ++i) check(i);
  }

  // Every part of every factored key, for the closure: each copy in any layout is a finding.
  void closure(const ScanContext& /*context*/, FindingSink& sink) {
    for (std::size_t i = 0; i < moduli_.size(); ++i) {
      if (!factors_[i]) continue;
      const Modulus& m = moduli_[i];
      std::vector<BnPtr> parts = derive(m, factors_[i].get());
      for (std::size_t c = 0; c < parts.size(); ++c) {
        if (!parts[c]) continue;
        WipedBytes value;
        value.bytes.resize(static_cast<std::size_t>(BN_num_bytes(parts[c].get())));
        BN_bn2bin(parts[c].get(), value.bytes.data());
        const Component& part = kComponents[c];
        // p, q, dp, dq and the CRT coefficients are as wide as a prime; d as the modulus.
        const std::size_t width = (c == 2 || c == 3) ? m.key->n.size() : m.prime_len;
        std::string proof =
            c < 2 ? fmt::format("{}: a factor of the {}-bit modulus of key {}", part.name, m.key->bits, m.key->fingerprint)
                  : fmt::format("{}: derived from the factors of the {}-bit modulus of key {}", part.name, m.key->bits,
                                m.key->fingerprint);
        sink.secret(proven_secret(KnownSecret::Shape::number, value.bytes, width, "rsa-factor", part.kind,
                                  std::move(proof), m.key->fingerprint));
      }
    }
  }

  // p, q, d (mod λ), d (mod φ), dp, dq, qinv = q⁻¹ mod p, pinv = p⁻¹ mod q.
  std::vector<BnPtr> derive(const Modulus& m, const BIGNUM* factor) {
    BN_CTX* ctx = ctx_.get();
    std::vector<BnPtr> out(kComponents.size());
    BnPtr p(BN_dup(factor)), q = bn_new(), rem = bn_new();
    BN_div(q.get(), rem.get(), m.n.get(), p.get(), ctx);
    BnPtr e = bn_from_be(m.key->e.data(), m.key->e.size());
    BnPtr p1 = bn_new(), q1 = bn_new(), phi = bn_new(), g = bn_new(), lambda = bn_new();
    BN_sub(p1.get(), p.get(), BN_value_one());
    BN_sub(q1.get(), q.get(), BN_value_one());
    BN_mul(phi.get(), p1.get(), q1.get(), ctx);
    BN_gcd(g.get(), p1.get(), q1.get(), ctx);
    BN_div(lambda.get(), nullptr, phi.get(), g.get(), ctx);
    BnPtr d(BN_mod_inverse(nullptr, e.get(), lambda.get(), ctx));
    BnPtr d_phi(BN_mod_inverse(nullptr, e.get(), phi.get(), ctx));
    if (d) {
      BnPtr dp = bn_new(), dq = bn_new();
      BN_mod(dp.get(), d.get(), p1.get(), ctx);
      BN_mod(dq.get(), d.get(), q1.get(), ctx);
      out[4] = std::move(dp);
      out[5] = std::move(dq);
    }
    out[6].reset(BN_mod_inverse(nullptr, q.get(), p.get(), ctx));
    out[7].reset(BN_mod_inverse(nullptr, p.get(), q.get(), ctx));
    if (d_phi && d && BN_cmp(d_phi.get(), d.get()) == 0) d_phi.reset();
    out[0] = std::move(p);
    out[1] = std::move(q);
    out[2] = std::move(d);
    out[3] = std::move(d_phi);
    return out;
  }

  bool exhaustive_ = false;
  HuntClock clock_;
  bool prepared_ = false;
  unsigned word_ = 8;
  std::optional<AddressMap> map_;
  std::vector<Modulus> moduli_;
  std::deque<PublicKey> memory_keys_;  // stable addresses: moduli_ point into it
  std::set<std::size_t> prime_lengths_;
  // Numbers in a runtime's layout (runtime_numbers.hpp), in file order: prepare() finds them in
  // one walk with the memory moduli, and the hunt reads those of its primes' sizes.
  struct RuntimeCandidate {
    std::uint64_t file_offset = 0;
    const NumberLayout* layout = nullptr;
    unsigned bits = 0;
  };
  std::vector<RuntimeCandidate> runtime_;
  std::vector<const NumberLayout*> layouts_;  // the runtimes' layouts this dump may hold
  std::vector<std::optional<std::uint64_t>> runtime_cut_;  // per chunk: where its runtime numbers were cut
  std::vector<BnPtr> factors_;
  std::size_t unfactored_ = 0;
  BnCtxPtr ctx_;
};

}  // namespace

std::unique_ptr<HuntDetector> make_rsa_factor_hunt_detector(const RsaFactorSettings& settings) {
  return std::make_unique<RsaFactorHunt>(settings.exhaustive);
}

}  // namespace dumpguard
