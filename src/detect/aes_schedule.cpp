// Finds expanded AES key schedules at every byte offset. The layouts, as the libraries leave
// them in memory:
//  - encryption schedule, round keys 0..Nr in order (FIPS-197 5.2): OpenSSL's AES_KEY
//    (crypto/aes/aes_core.c, aes-x86_64.pl), AES-NI's aesni_set_encrypt_key
//    (crypto/aes/asm/aesni-x86_64.pl) and SymCrypt's SYMCRYPT_AES_EXPANDED_KEY (RoundKey[29],
//    which Windows CNG uses; CNG itself documents its key object only as opaque);
//  - equivalent inverse cipher schedule (FIPS-197 5.3.5: InvMixColumns on round keys
//    1..Nr-1), last round key first, as AES_set_decrypt_key (aes_core.c), aesni_set_decrypt_key
//    (aesimc, reversed) and SymCrypt's decryption round keys leave it;
//  - the same in forward round order, as some libraries keep it.
// Each in FIPS byte order (AES-NI, the x86-64 assembler, SymCrypt) and as little-endian
// 32-bit words (aes_core.c stores GETU32 big-endian loads as host words).
//
// Prefilter: key expansion is linear for every word w[i] with i mod Nk != 0 (and != 4 when
// Nk = 8): w[i] = w[i-Nk] ^ w[i-1]. InvMixColumns and byte order are linear byte
// permutations/maps applied to every stored word alike, so the same XOR holds on the raw
// stored words of the middle rounds, in every layout and byte order. The prefilter sums the
// popcount of 8 to 12 such relations over disjoint words: a schedule with t flipped bits
// breaks them by at most t bits in total, and random bytes pass one relation with p = 2^-32.
// The first t + 1 relations are tested for 16, 32 or 64 offsets at once (SSE2, AVX2 or
// AVX-512BW, whichever the CPU has; one of them holds exactly when there are at most t
// errors), and only the offsets that pass are tried one by one.
// Blind spot: a candidate whose first relation's three words are all zero is skipped (zero
// pages pass every linear relation; a real schedule has them with p = 2^-96).
//
// Check: the key is taken from a window of Nk stored words, expanded forwards and backwards
// over the whole schedule, and compared bit by bit with memory. With tolerance t > 0 every
// disjoint window is tried, so the nearest exact schedule is found whenever some window is
// free of errors (always when t is below the number of windows: 11, 8 and 7).
#include "detect/aes_schedule.hpp"

#include <openssl/crypto.h>

#include <array>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <bit>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <string>

#include "crypto/aes_key_expansion.hpp"
#include "crypto/digest.hpp"

namespace dumpguard {

namespace {

enum class Layout { encrypt, decrypt_reversed, decrypt_forward };
enum class WordOrder { fips, le32 };

// The stored word that holds schedule word i.
constexpr unsigned stored_index(Layout layout, unsigned nr, unsigned i) {
  return layout == Layout::decrypt_reversed ? 4 * (nr - i / 4) + i % 4 : i;
}

// Whether schedule word i is stored after InvMixColumns (FIPS-197 5.3.5: rounds 1..Nr-1).
constexpr bool mixed(Layout layout, unsigned nr, unsigned i) {
  return layout != Layout::encrypt && i >= 4 && i < 4 * nr;
}

// Stored words a, b, c with s[a] == s[b] ^ s[c] in an exact schedule.
struct Relation {
  unsigned a = 0, b = 0, c = 0;
};
constexpr unsigned kMaxRelations = 12;
struct RelationSet {
  std::array<Relation, kMaxRelations> relations{};
  unsigned count = 0;
};

// Disjoint linear relations among the middle rounds (1..Nr-1), where every layout stores
// words the same way (all mixed, or all plain for encryption schedules).
constexpr RelationSet relations_for(unsigned nk, bool reversed) {
  const unsigned nr = aes::rounds_for(nk);
  const Layout positions = reversed ? Layout::decrypt_reversed : Layout::encrypt;
  RelationSet set;
  std::array<bool, aes::kMaxScheduleWords> used{};
  for (unsigned i = 4 + nk; i < 4 * nr && set.count < kMaxRelations; ++i) {
    if (i % nk == 0 || (nk == 8 && i % 8 == 4)) continue;
    const Relation r{stored_index(positions, nr, i), stored_index(positions, nr, i - nk),
                     stored_index(positions, nr, i - 1)};
    if (used[r.a] || used[r.b] || used[r.c]) continue;
    used[r.a] = used[r.b] = used[r.c] = true;
    set.relations[set.count++] = r;
  }
  return set;
}

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

inline std::uint32_t load_le32(const std::uint8_t* p) {
  return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}

template <unsigned Nk, bool Reversed>
inline constexpr RelationSet kRelations = relations_for(Nk, Reversed);

// The greedy choice gives AES-128 8 disjoint relations in its middle rounds (2000 random orders
// found no more); AES-192 gets 10 and AES-256 12.
static_assert(kRelations<4, false>.count >= 8 && kRelations<4, true>.count >= 8 && kRelations<6, false>.count >= 8 &&
              kRelations<6, true>.count >= 8 && kRelations<8, false>.count >= 8 && kRelations<8, true>.count >= 8);

// The cheap test at one offset; see the file comment.
template <unsigned Nk, bool Reversed>
inline bool plausible(const std::uint8_t* p, unsigned tolerance) {
  constexpr const RelationSet& set = kRelations<Nk, Reversed>;
  const Relation& first = set.relations[0];
  const std::uint32_t a = load32(p + 4 * first.a), b = load32(p + 4 * first.b), c = load32(p + 4 * first.c);
  if ((a | b | c) == 0) return false;
  unsigned errors = static_cast<unsigned>(std::popcount(a ^ b ^ c));
  if (errors > tolerance) return false;
  for (unsigned k = 1; k < set.count; ++k) {
    const Relation& r = set.relations[k];
    errors += static_cast<unsigned>(std::popcount(load32(p + 4 * r.a) ^ load32(p + 4 * r.b) ^ load32(p + 4 * r.c)));
    if (errors > tolerance) return false;
  }
  return true;
}

#if defined(__x86_64__)
// The same relations for a block of W offsets at once (16 with SSE2, 32 with AVX2, 64 with
// AVX-512BW, chosen once by what the CPU has). XOR works byte by byte, so relation k holds at
// offset q iff the 4 bytes X(q..q+3) are zero, where X(j) = B[j+4a] ^ B[j+4b] ^ B[j+4c].
// Bit i of a variant's mask: at least one of the first `relations` relations holds exactly at
// q0 + i, and the first relation's three words are not all zero there (plausible() rejects
// those: zero pages pass every linear relation, and letting every offset of a zero page through
// cost a third of the detector's time). With t bit errors and more than t disjoint relations,
// one of the first t + 1 holds exactly, so this never drops a candidate plausible() would keep.
// A variant with no more than t relations (tolerance 7 and up for AES-128) passes every offset
// with nonzero words. Flags are computed once per block: a block's last three offsets take
// their bytes from the next block's flags.
using VariantMasks = std::array<std::uint64_t, 6>;  // in try_offset's order
constexpr std::array<RelationSet, 6> kVariants = {kRelations<4, false>, kRelations<4, true>, kRelations<6, false>,
                                                  kRelations<6, true>,  kRelations<8, false>, kRelations<8, true>};
// Per block, relation and variant: lanes where the XOR of the three words is zero (x), and where
// their OR is (o, first relation only).
struct ZeroFlags {
  std::uint64_t x = 0;
  std::uint64_t o = 0;
};
using BlockVisitor = std::function<void(std::size_t at, const VariantMasks& masks)>;

inline std::uint64_t four_in_a_row(std::uint64_t cur, std::uint64_t next, unsigned width) {
  const unsigned __int128 m = static_cast<unsigned __int128>(cur) | (static_cast<unsigned __int128>(next) << width);
  return static_cast<std::uint64_t>(m & (m >> 1) & (m >> 2) & (m >> 3));
}

// The loop, the same for every vector width: FLAGS(q, relation, with_or) gives one block's
// ZeroFlags. Returns where it stopped: the caller tries the remaining offsets one by one.
#define DG_AES_BLOCKS(NAME, ATTR, WIDTH, FLAGS)                                                           \
  ATTR std::size_t NAME(const std::uint8_t* base, std::size_t at, std::size_t size, unsigned relations,   \
                        const BlockVisitor& visit) {                                                      \
    constexpr std::size_t kWidth = WIDTH;                                                                 \
    /* the next block's loads reach 2·W + 4·59 + 4 bytes past `at` */                                     \
    constexpr std::size_t kReach = 2 * kWidth + 4 * aes::kMaxScheduleWords;                                \
    const std::uint64_t lanes = kWidth == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << kWidth) - 1;       \
    std::array<std::array<std::array<ZeroFlags, kMaxRelations>, 6>, 2> flags{}; /* this block, the next */ \
    std::array<unsigned, 6> used{};                                                                       \
    for (std::size_t v = 0; v < 6; ++v) used[v] = relations > kVariants[v].count ? 1 : relations;         \
    if (at + kReach > size) return at;                                                                    \
    for (std::size_t v = 0; v < 6; ++v) {                                                                 \
      for (unsigned k = 0; k < used[v]; ++k) flags[0][v][k] = FLAGS(base + at, kVariants[v].relations[k], k == 0); \
    }                                                                                                     \
    for (unsigned now = 0; at + kReach <= size; at += kWidth, now ^= 1) {                                  \
      auto& cur = flags[now];                                                                             \
      auto& next = flags[now ^ 1];                                                                        \
      VariantMasks masks{};                                                                               \
      std::uint64_t any = 0;                                                                              \
      for (std::size_t v = 0; v < 6; ++v) {                                                               \
        const bool every = relations > kVariants[v].count;                                                \
        std::uint64_t hits = every ? lanes : 0;                                                           \
        for (unsigned k = 0; k < used[v]; ++k) {                                                          \
          next[v][k] = FLAGS(base + at + kWidth, kVariants[v].relations[k], k == 0);                      \
          if (!every) hits |= four_in_a_row(cur[v][k].x, next[v][k].x, kWidth);                            \
        }                                                                                                 \
        masks[v] = hits & ~four_in_a_row(cur[v][0].o, next[v][0].o, kWidth) & lanes;                       \
        any |= masks[v];                                                                                  \
      }                                                                                                   \
      if (any != 0) visit(at, masks);                                                                     \
    }                                                                                                     \
    return at;                                                                                            \
  }

inline ZeroFlags flags_sse2(const std::uint8_t* q, const Relation& r, bool with_or) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 4 * r.a));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 4 * r.b));
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 4 * r.c));
  const __m128i zero = _mm_setzero_si128();
  ZeroFlags z;
  z.x = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_xor_si128(_mm_xor_si128(a, b), c), zero)));
  if (with_or) z.o = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(_mm_or_si128(a, b), c), zero)));
  return z;
}
DG_AES_BLOCKS(blocks_sse2, , 16, flags_sse2)

__attribute__((target("avx2"))) inline ZeroFlags flags_avx2(const std::uint8_t* q, const Relation& r, bool with_or) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4 * r.a));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4 * r.b));
  const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4 * r.c));
  const __m256i zero = _mm256_setzero_si256();
  ZeroFlags z;
  z.x = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_xor_si256(_mm256_xor_si256(a, b), c), zero)));
  if (with_or) {
    z.o = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(_mm256_or_si256(a, b), c), zero)));
  }
  return z;
}
DG_AES_BLOCKS(blocks_avx2, __attribute__((target("avx2"))), 32, flags_avx2)

__attribute__((target("avx512f,avx512bw"))) inline ZeroFlags flags_avx512(const std::uint8_t* q, const Relation& r,
                                                                          bool with_or) {
  const __m512i a = _mm512_loadu_si512(q + 4 * r.a);
  const __m512i b = _mm512_loadu_si512(q + 4 * r.b);
  const __m512i c = _mm512_loadu_si512(q + 4 * r.c);
  ZeroFlags z;
  const __m512i x = _mm512_ternarylogic_epi32(a, b, c, 0x96);  // a ^ b ^ c
  z.x = _mm512_testn_epi8_mask(x, x);
  if (with_or) {
    const __m512i o = _mm512_ternarylogic_epi32(a, b, c, 0xFE);  // a | b | c
    z.o = _mm512_testn_epi8_mask(o, o);
  }
  return z;
}
DG_AES_BLOCKS(blocks_avx512, __attribute__((target("avx512f,avx512bw"))), 64, flags_avx512)
#undef DG_AES_BLOCKS

// The widest the CPU has, chosen once.
using BlocksFn = std::size_t (*)(const std::uint8_t*, std::size_t, std::size_t, unsigned, const BlockVisitor&);
const BlocksFn kBlocks = __builtin_cpu_supports("avx512bw") ? blocks_avx512
                         : __builtin_cpu_supports("avx2")   ? blocks_avx2
                                                            : blocks_sse2;
#endif

struct Match {
  Layout layout = Layout::encrypt;
  WordOrder order = WordOrder::fips;
  unsigned nk = 0;
  unsigned errors = 0;
  std::array<std::uint32_t, 8> key{};  // FIPS words; wiped by the caller
};

// Schedule words and stored words: secrets, wiped when the check is done.
struct Scratch {
  std::array<std::uint32_t, aes::kMaxScheduleWords> stored{};
  std::array<std::uint32_t, aes::kMaxScheduleWords> words{};
  ~Scratch() {
    OPENSSL_cleanse(stored.data(), sizeof stored);
    OPENSSL_cleanse(words.data(), sizeof words);
  }
};

// The exact schedule of this layout nearest to the stored words, if it differs in at most
// `tolerance` bits. Fills match.key and match.errors.
bool nearest_schedule(Scratch& s, Layout layout, unsigned nk, unsigned tolerance, Match& match) {
  const unsigned nr = aes::rounds_for(nk);
  const unsigned total = aes::schedule_words(nk);
  unsigned best = tolerance + 1;
  // With no tolerance any window gives the same schedule; with tolerance try each disjoint
  // window, since at least one is free of errors when there are fewer errors than windows.
  const unsigned last_start = tolerance == 0 ? 0 : total - nk;
  for (unsigned start = 0; start <= last_start; start += nk) {
    auto& w = s.words;
    for (unsigned i = start; i < start + nk; ++i) {
      const std::uint32_t v = s.stored[stored_index(layout, nr, i)];
      w[i] = mixed(layout, nr, i) ? aes::mix_column(v) : v;
    }
    for (unsigned j = start; j-- > 0;) w[j] = w[j + nk] ^ aes::expansion_term(j + nk, nk, w[j + nk - 1]);
    for (unsigned i = start + nk; i < total; ++i) w[i] = w[i - nk] ^ aes::expansion_term(i, nk, w[i - 1]);
    unsigned errors = 0;
    for (unsigned i = 0; i < total && errors < best; ++i) {
      const std::uint32_t expect = mixed(layout, nr, i) ? aes::inv_mix_column(w[i]) : w[i];
      errors += static_cast<unsigned>(std::popcount(expect ^ s.stored[stored_index(layout, nr, i)]));
    }
    if (errors < best) {
      best = errors;
      for (unsigned i = 0; i < nk; ++i) match.key[i] = w[i];
      if (best == 0) break;
    }
  }
  if (best > tolerance) return false;
  match.layout = layout;
  match.nk = nk;
  match.errors = best;
  return true;
}

std::optional<Match> match_at(const std::uint8_t* p, unsigned nk, bool reversed, unsigned tolerance) {
  const unsigned total = aes::schedule_words(nk);
  Scratch s;
  Match match;
  for (WordOrder order : {WordOrder::fips, WordOrder::le32}) {
    for (unsigned i = 0; i < total; ++i) s.stored[i] = order == WordOrder::fips ? load_be32(p + 4 * i) : load_le32(p + 4 * i);
    if (reversed) {
      if (nearest_schedule(s, Layout::decrypt_reversed, nk, tolerance, match)) {
        match.order = order;
        return match;
      }
      continue;
    }
    for (Layout layout : {Layout::encrypt, Layout::decrypt_forward}) {
      if (nearest_schedule(s, layout, nk, tolerance, match)) {
        match.order = order;
        return match;
      }
    }
  }
  OPENSSL_cleanse(match.key.data(), sizeof match.key);
  return std::nullopt;
}

const char* layout_code(Layout layout) {
  switch (layout) {
    case Layout::encrypt: return "enc";
    case Layout::decrypt_reversed: return "dec";
    case Layout::decrypt_forward: return "dec-fwd";
  }
  return "";
}

std::string describe(const Match& m) {
  const unsigned bits = m.nk * 32;
  const unsigned round_keys = aes::rounds_for(m.nk) + 1;
  const char* order = m.order == WordOrder::fips ? "FIPS byte order" : "each 32-bit word little-endian, as aes_core.c";
  std::string layout;
  switch (m.layout) {
    case Layout::encrypt: layout = "encryption schedule"; break;
    case Layout::decrypt_reversed:
      layout = "decryption schedule (equivalent inverse cipher, FIPS-197 5.3.5), last round key first";
      break;
    case Layout::decrypt_forward:
      layout = "decryption schedule (equivalent inverse cipher, FIPS-197 5.3.5), first round key first";
      break;
  }
  if (m.errors == 0) {
    return fmt::format("AES-{} {} ({}): all {} round keys follow from one {}-byte key by FIPS-197 key expansion",
                       bits, layout, order, round_keys, bits / 8);
  }
  return fmt::format("AES-{} {} ({}): {} bit errors against the nearest exact schedule of {} round keys; "
                     "unverified",
                     bits, layout, order, m.errors, round_keys);
}

class AesScheduleDetector final : public Detector {
 public:
  explicit AesScheduleDetector(unsigned tolerance) : tolerance_(tolerance) {}

  std::string_view name() const override { return "aes-schedule"; }
  Phase phase() const override { return Phase::structure; }
  Reach reach() const override { return {0, kSpan256}; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) override {
    const auto* base = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    if (size < kSpan128) return;
    std::size_t at = 0;
#if defined(__x86_64__)
    // Vector prefilter over whole blocks of offsets while every load stays inside the area.
    at = kBlocks(base, 0, size, tolerance_ + 1, [&](std::size_t block, const VariantMasks& hits) {
      for (std::uint64_t any = hits[0] | hits[1] | hits[2] | hits[3] | hits[4] | hits[5]; any != 0; any &= any - 1) {
        const auto lane = static_cast<unsigned>(std::countr_zero(any));
        try_offset(context, area, sink, block + lane, std::uint64_t{1} << lane, hits);
      }
    });
#endif
    const std::array<std::uint64_t, 6> all = {1, 1, 1, 1, 1, 1};
    for (; at + kSpan128 <= size; ++at) try_offset(context, area, sink, at, 1, all);
  }

 private:
  static constexpr std::size_t kSpan128 = 4 * aes::schedule_words(4);
  static constexpr std::size_t kSpan192 = 4 * aes::schedule_words(6);
  static constexpr std::size_t kSpan256 = 4 * aes::schedule_words(8);

  // Tries the variants whose bit `lane` is set in `hits`, cheapest and most common first;
  // at most one schedule starts at one offset.
  void try_offset(const ScanContext& context, const ScanArea& area, FindingSink& sink, std::size_t at,
                  std::uint64_t lane, const std::array<std::uint64_t, 6>& hits) const {
    const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + at;
    const std::size_t room = area.bytes.size() - at;
    const unsigned t = tolerance_;
    if ((hits[0] & lane) && plausible<4, false>(p, t) && report(context, area, sink, at, 4, false)) return;
    if ((hits[1] & lane) && plausible<4, true>(p, t) && report(context, area, sink, at, 4, true)) return;
    if (room < kSpan192) return;
    if ((hits[2] & lane) && plausible<6, false>(p, t) && report(context, area, sink, at, 6, false)) return;
    if ((hits[3] & lane) && plausible<6, true>(p, t) && report(context, area, sink, at, 6, true)) return;
    if (room < kSpan256) return;
    if ((hits[4] & lane) && plausible<8, false>(p, t) && report(context, area, sink, at, 8, false)) return;
    if ((hits[5] & lane) && plausible<8, true>(p, t) && report(context, area, sink, at, 8, true)) return;
  }

  bool report(const ScanContext& context, const ScanArea& area, FindingSink& sink, std::size_t at, unsigned nk,
              bool reversed) const {
    const auto* p = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + at;
    auto match = match_at(p, nk, reversed, tolerance_);
    if (!match) return false;
    std::array<std::uint8_t, 32> key{};
    const std::size_t key_len = 4 * std::size_t{nk};
    for (unsigned i = 0; i < nk; ++i) {
      for (unsigned b = 0; b < 4; ++b) key[4 * i + b] = static_cast<std::uint8_t>(match->key[i] >> (24 - 8 * b));
    }
    Finding f;
    f.detector = "aes-schedule";
    f.kind = "aes-key-schedule";
    f.encoding = fmt::format("aes{}-{}{}", nk * 32, layout_code(match->layout), match->order == WordOrder::le32 ? "-le32" : "");
    f.file_offset = area.file_offset + at;
    f.length = 4 * std::uint64_t{aes::schedule_words(nk)};
    f.vaddr = vaddr_of(context.dump, area, at);
    f.region = area.region;
    f.verified = match->errors == 0;
    f.proof = describe(*match);
    f.key = keyed_fingerprint(context.fingerprint_key, std::span<const std::uint8_t>(key.data(), key_len));
    f.severity = f.verified ? Severity::critical : Severity::high;
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(match->key.data(), sizeof match->key);
    sink.finding(std::move(f));
    return true;
  }

  unsigned tolerance_;
};

}  // namespace

std::unique_ptr<Detector> make_aes_schedule_detector(unsigned tolerance_bits) {
  return std::make_unique<AesScheduleDetector>(tolerance_bits);
}

}  // namespace dumpguard
