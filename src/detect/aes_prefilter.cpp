// The AES schedule prefilter (aes_prefilter.hpp).
//
// Key expansion is linear for every word w[i] with i mod Nk != 0 (and != 4 when Nk = 8):
// w[i] = w[i-Nk] ^ w[i-1] (FIPS-197 5.2). InvMixColumns and byte order are linear byte
// permutations/maps applied to every stored word alike, so the same XOR holds on the raw stored
// words of the middle rounds, in every layout and byte order. plausible() sums the popcount of
// 8 to 12 such relations over disjoint words: a schedule with t flipped bits breaks them by at
// most t bits in total, and random bytes pass one relation with p = 2^-32.
// Blind spot: a candidate whose first relation's three words are all zero is skipped (zero
// pages pass every linear relation; a real schedule has them with p = 2^-96).
//
// The vector test. XOR works byte by byte, so relation (a, b, c) holds at offset q iff the 4
// bytes X(q..q+3) are zero, where X(j) = B[j+4a] ^ B[j+4b] ^ B[j+4c]. The test computes such
// zero-byte flags for 64 offsets at a time (one 64-bit word of flags: 4 SSE2, 2 AVX2 or 1
// AVX-512BW vectors), then "4 zero bytes in a row" with shifts on the words.
//  - Tolerance 0 (the default): every relation of a set must hold, so any one of them is a valid
//    test; each set's first relation is chosen so that the six variants' first relations read
//    only 8 distinct words (those of w[33], w[32] and of w[29], w[28]: see kFirstA). One offset
//    passes if some variant's first relation holds there, which is one byte-wise minimum of the
//    six XORs (a byte is zero in the minimum iff it is zero in one of them) and one set of flags;
//    the variant is left to plausible(). Offsets where all 8 words are zero are rejected:
//    plausible() rejects every variant there.
//  - Tolerance t > 0: with t bit errors and more than t disjoint relations, one of the first
//    t + 1 holds exactly, so a variant passes where one of its first t + 1 relations holds (a
//    variant with no more than t relations passes everywhere). Every relation of a set has the
//    same shape (a-b, a-c) up to a shift, (Nk, 1) for the forward layouts and one of five for
//    the reversed ones, so the flags are computed once per shape at every position and each
//    relation reads them shifted by 4a bytes.
// Both never drop an offset plausible() keeps; AesPrefilter.* in tests/unit/aes_schedule_test.cpp
// checks that on every width against plausible() itself.
#include "detect/aes_prefilter.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "crypto/aes_key_expansion.hpp"

namespace dumpguard::aes_prefilter {

namespace {

// Stored words a, b, c with s[a] == s[b] ^ s[c] in an exact schedule.
struct Relation {
  unsigned a = 0, b = 0, c = 0;
};
constexpr unsigned kMaxRelations = 12;
struct RelationSet {
  std::array<Relation, kMaxRelations> relations{};
  unsigned count = 0;
};

// Disjoint linear relations among the middle rounds (1..Nr-1), where every layout stores words
// the same way (all mixed, or all plain for encryption schedules), taken greedily; the one whose
// first word is `first_a` is moved to the front.
constexpr RelationSet relations_for(unsigned nk, bool reversed, unsigned first_a) {
  const unsigned nr = aes::rounds_for(nk);
  RelationSet set;
  std::array<bool, aes::kMaxScheduleWords> used{};
  for (unsigned i = 4 + nk; i < 4 * nr && set.count < kMaxRelations; ++i) {
    if (i % nk == 0 || (nk == 8 && i % 8 == 4)) continue;
    const Relation r{stored_word(reversed, nr, i), stored_word(reversed, nr, i - nk), stored_word(reversed, nr, i - 1)};
    if (used[r.a] || used[r.b] || used[r.c]) continue;
    used[r.a] = used[r.b] = used[r.c] = true;
    set.relations[set.count++] = r;
  }
  for (unsigned k = 0; k < set.count; ++k) {
    if (set.relations[k].a != first_a) continue;
    const Relation first = set.relations[k];
    for (unsigned j = k; j > 0; --j) set.relations[j] = set.relations[j - 1];
    set.relations[0] = first;
    break;
  }
  return set;
}

// The first relation of each variant: w[33] = w[29] ^ w[32] (AES-128 forward), w[37] ^ w[32]
// (AES-128 reversed), w[25] ^ w[32] (AES-256 forward), w[43] ^ w[32] (AES-192 reversed), and
// w[29] = w[23] ^ w[28] (AES-192 forward), w[37] ^ w[28] (AES-256 reversed).
constexpr std::array<unsigned, kVariants> kFirstA = {33, 33, 29, 33, 33, 29};
constexpr std::array<RelationSet, kVariants> kSets = {
    relations_for(4, false, kFirstA[0]), relations_for(4, true, kFirstA[1]), relations_for(6, false, kFirstA[2]),
    relations_for(6, true, kFirstA[3]),  relations_for(8, false, kFirstA[4]), relations_for(8, true, kFirstA[5])};

constexpr bool sets_are_sound() {
  for (unsigned v = 0; v < kVariants; ++v) {
    const RelationSet& set = kSets[v];
    // The greedy choice gives AES-128 8 disjoint relations in its middle rounds (2000 random
    // orders found no more); AES-192 gets 10 and AES-256 12.
    if (set.count < 8 || set.relations[0].a != kFirstA[v]) return false;
    for (unsigned k = 0; k < set.count; ++k) {
      const Relation& r = set.relations[k];
      if (4 * std::max({r.a, r.b, r.c}) + 4 > span_bytes(v)) return false;
    }
  }
  return true;
}
static_assert(sets_are_sound());

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// std::popcount is a library call without -mpopcnt, and the baseline build has none.
inline unsigned bits_set(std::uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (x * 0x01010101u) >> 24;
}

template <unsigned V>
bool plausible_at(const std::uint8_t* p, unsigned tolerance) {
  constexpr const RelationSet& set = kSets[V];
  const Relation& first = set.relations[0];
  const std::uint32_t a = load32(p + 4 * first.a), b = load32(p + 4 * first.b), c = load32(p + 4 * first.c);
  if ((a | b | c) == 0) return false;
  unsigned errors = bits_set(a ^ b ^ c);
  if (errors > tolerance) return false;
  for (unsigned k = 1; k < set.count; ++k) {
    const Relation& r = set.relations[k];
    errors += bits_set(load32(p + 4 * r.a) ^ load32(p + 4 * r.b) ^ load32(p + 4 * r.c));
    if (errors > tolerance) return false;
  }
  return true;
}

#if defined(__x86_64__)

// The first relations, and the distinct words they read.
constexpr std::array<Relation, kVariants> kFirst = {kSets[0].relations[0], kSets[1].relations[0],
                                                    kSets[2].relations[0], kSets[3].relations[0],
                                                    kSets[4].relations[0], kSets[5].relations[0]};
struct WordList {
  std::array<unsigned, 3 * kVariants> words{};
  unsigned count = 0;
};
constexpr WordList first_words() {
  WordList list;
  for (const Relation& r : kFirst) {
    for (unsigned w : {r.a, r.b, r.c}) {
      bool seen = false;
      for (unsigned k = 0; k < list.count; ++k) seen = seen || list.words[k] == w;
      if (!seen) list.words[list.count++] = w;
    }
  }
  return list;
}
constexpr WordList kFirstWords = first_words();
static_assert(kFirstWords.count == 8, "the first relations share their words (see kFirstA)");
constexpr unsigned kFirstLast = *std::max_element(kFirstWords.words.begin(), kFirstWords.words.end());

// The shapes of all relations: X(y) = B[y] ^ B[y - 4 da] ^ B[y - 4 dc] for the relation whose a
// word starts at y (da = a - b, dc = a - c). A shape's flags start at y = q0 + origin, where
// origin is 4 times the least a among its relations, so they never read before q0.
struct Shape {
  int da = 0, dc = 0;
  unsigned min_a = ~0u, max_a = 0;
};
struct Use {
  unsigned shape = 0;
  std::size_t offset = 0;  // bit of the shape's flags for offset q0: 4 a - origin
};
constexpr unsigned kMaxShapes = 8;
struct ShapeTable {
  std::array<Shape, kMaxShapes> shapes{};
  unsigned count = 0;
  std::array<std::array<Use, kMaxRelations>, kVariants> uses{};
};
constexpr ShapeTable shape_table() {
  ShapeTable t;
  for (unsigned v = 0; v < kVariants; ++v) {
    for (unsigned k = 0; k < kSets[v].count; ++k) {
      const Relation& r = kSets[v].relations[k];
      const int da = static_cast<int>(r.a) - static_cast<int>(r.b), dc = static_cast<int>(r.a) - static_cast<int>(r.c);
      unsigned s = 0;
      while (s < t.count && (t.shapes[s].da != da || t.shapes[s].dc != dc)) ++s;
      if (s == t.count) {
        if (t.count == kMaxShapes) throw "more shapes than kMaxShapes";  // not a constant expression
        t.shapes[t.count++] = Shape{da, dc};
      }
      t.shapes[s].min_a = std::min(t.shapes[s].min_a, r.a);
      t.shapes[s].max_a = std::max(t.shapes[s].max_a, r.a);
      t.uses[v][k].shape = s;
    }
  }
  for (unsigned v = 0; v < kVariants; ++v) {
    for (unsigned k = 0; k < kSets[v].count; ++k) {
      const Shape& s = t.shapes[t.uses[v][k].shape];
      t.uses[v][k].offset = 4 * (kSets[v].relations[k].a - s.min_a);
    }
  }
  return t;
}
constexpr ShapeTable kShapes = shape_table();

constexpr std::size_t kWordBytes = 64;  // offsets per word of flags
constexpr std::size_t kBatch = 64;      // words of offsets per call of candidates()

constexpr std::size_t origin(const Shape& s) { return 4 * std::size_t{s.min_a}; }
// Words of flags a shape needs beyond the batch's: bits reach offset + 63 past the last word's
// start, a shifted read takes the word after, and "4 in a row" the word after that.
constexpr std::size_t extra_words(const Shape& s) { return 4 * (s.max_a - s.min_a) / kWordBytes + 2; }
constexpr std::size_t forward(const Shape& s) { return 4 * static_cast<std::size_t>(std::max({0, -s.da, -s.dc})); }
constexpr std::size_t backward(const Shape& s) { return 4 * static_cast<std::size_t>(std::max({0, s.da, s.dc})); }

// Bytes read past the start of the batch's last word (exclusive bound): for a shape, its last
// word of flags starts origin + 64 extra bytes past it, and reads 64 + forward bytes from there.
constexpr std::size_t kReachExact = kWordBytes + 4 * kFirstLast + kWordBytes;  // the carry word, then its loads
constexpr std::size_t reach_tolerant() {
  std::size_t reach = kReachExact;
  for (unsigned s = 0; s < kShapes.count; ++s) {
    const Shape& shape = kShapes.shapes[s];
    reach = std::max(reach, origin(shape) + kWordBytes * extra_words(shape) + kWordBytes + forward(shape));
  }
  return reach;
}
constexpr std::size_t kReachTolerant = reach_tolerant();
constexpr std::size_t kMaxExtraWords = [] {
  std::size_t most = 0;
  for (unsigned s = 0; s < kShapes.count; ++s) most = std::max(most, extra_words(kShapes.shapes[s]));
  return most;
}();
static_assert([] {
  for (unsigned s = 0; s < kShapes.count; ++s) {
    if (backward(kShapes.shapes[s]) > origin(kShapes.shapes[s])) return false;
  }
  return true;
}());

// Bit j: bits j..j+3 of the 128-bit cur | next << 64 are all set.
inline std::uint64_t four_in_a_row(std::uint64_t cur, std::uint64_t next) {
  return cur & ((cur >> 1) | (next << 63)) & ((cur >> 2) | (next << 62)) & ((cur >> 3) | (next << 61));
}

// The vector parts, one per width. For words w of 64 offsets from p:
//  first: bit j of any_x[w] set when, at q = p + 64 w, byte j of some first relation's XOR is
//    zero; bit j of zero[w] when byte j of all 8 first-relation words is;
//  shape: bit j of out[w] set when byte j of B[y] ^ B[y + b] ^ B[y + c] is zero, y = p + 64 w.
using FirstFn = void (*)(const std::uint8_t* p, std::size_t words, std::uint64_t* any_x, std::uint64_t* zero);
using ShapeFn = void (*)(const std::uint8_t* p, std::size_t words, std::ptrdiff_t b, std::ptrdiff_t c,
                         std::uint64_t* out);

// SSE2: four 16-byte vectors per word.
inline __m128i load128(const std::uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline std::uint64_t zero_bytes128(__m128i v) {
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())));
}
void first_sse2(const std::uint8_t* p, std::size_t words, std::uint64_t* any_x, std::uint64_t* zero) {
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t x = 0, z = 0;
    for (unsigned part = 0; part < 4; ++part, p += 16) {
      __m128i least = _mm_set1_epi8(-1);
      for (const Relation& r : kFirst) {
        least = _mm_min_epu8(least, _mm_xor_si128(_mm_xor_si128(load128(p + 4 * r.a), load128(p + 4 * r.b)),
                                                  load128(p + 4 * r.c)));
      }
      __m128i any = _mm_setzero_si128();
      for (unsigned k = 0; k < kFirstWords.count; ++k) any = _mm_or_si128(any, load128(p + 4 * kFirstWords.words[k]));
      x |= zero_bytes128(least) << (16 * part);
      z |= zero_bytes128(any) << (16 * part);
    }
    any_x[w] = x;
    zero[w] = z;
  }
}
void shape_sse2(const std::uint8_t* p, std::size_t words, std::ptrdiff_t b, std::ptrdiff_t c, std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t x = 0;
    for (unsigned part = 0; part < 4; ++part, p += 16) {
      x |= zero_bytes128(_mm_xor_si128(_mm_xor_si128(load128(p), load128(p + b)), load128(p + c))) << (16 * part);
    }
    out[w] = x;
  }
}

// AVX2: two 32-byte vectors per word.
#define DG_AVX2 __attribute__((target("avx2")))
DG_AVX2 inline __m256i load256(const std::uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
DG_AVX2 inline std::uint64_t zero_bytes256(__m256i v) {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())));
}
DG_AVX2 void first_avx2(const std::uint8_t* p, std::size_t words, std::uint64_t* any_x, std::uint64_t* zero) {
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t x = 0, z = 0;
    for (unsigned part = 0; part < 2; ++part, p += 32) {
      __m256i least = _mm256_set1_epi8(-1);
      for (const Relation& r : kFirst) {
        least = _mm256_min_epu8(least, _mm256_xor_si256(_mm256_xor_si256(load256(p + 4 * r.a), load256(p + 4 * r.b)),
                                                        load256(p + 4 * r.c)));
      }
      __m256i any = _mm256_setzero_si256();
      for (unsigned k = 0; k < kFirstWords.count; ++k) any = _mm256_or_si256(any, load256(p + 4 * kFirstWords.words[k]));
      x |= zero_bytes256(least) << (32 * part);
      z |= zero_bytes256(any) << (32 * part);
    }
    any_x[w] = x;
    zero[w] = z;
  }
}
DG_AVX2 void shape_avx2(const std::uint8_t* p, std::size_t words, std::ptrdiff_t b, std::ptrdiff_t c,
                        std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t x = 0;
    for (unsigned part = 0; part < 2; ++part, p += 32) {
      x |= zero_bytes256(_mm256_xor_si256(_mm256_xor_si256(load256(p), load256(p + b)), load256(p + c))) << (32 * part);
    }
    out[w] = x;
  }
}
#undef DG_AVX2

// AVX-512BW: one 64-byte vector per word; XOR and OR of three in one ternary-logic op.
#define DG_AVX512 __attribute__((target("avx512f,avx512bw")))
DG_AVX512 inline __m512i load512(const std::uint8_t* p) { return _mm512_loadu_si512(p); }
DG_AVX512 void first_avx512(const std::uint8_t* p, std::size_t words, std::uint64_t* any_x, std::uint64_t* zero) {
  for (std::size_t w = 0; w < words; ++w, p += 64) {
    __m512i least = _mm512_set1_epi8(-1);
    for (const Relation& r : kFirst) {
      least = _mm512_min_epu8(
          least, _mm512_ternarylogic_epi32(load512(p + 4 * r.a), load512(p + 4 * r.b), load512(p + 4 * r.c), 0x96));
    }
    __m512i any = _mm512_setzero_si512();
    for (unsigned k = 0; k < kFirstWords.count; ++k) any = _mm512_or_si512(any, load512(p + 4 * kFirstWords.words[k]));
    any_x[w] = _mm512_testn_epi8_mask(least, least);
    zero[w] = _mm512_testn_epi8_mask(any, any);
  }
}
DG_AVX512 void shape_avx512(const std::uint8_t* p, std::size_t words, std::ptrdiff_t b, std::ptrdiff_t c,
                            std::uint64_t* out) {
  for (std::size_t w = 0; w < words; ++w, p += 64) {
    const __m512i x = _mm512_ternarylogic_epi32(load512(p), load512(p + b), load512(p + c), 0x96);  // a ^ b ^ c
    out[w] = _mm512_testn_epi8_mask(x, x);
  }
}
#undef DG_AVX512

struct Kernels {
  FirstFn first;
  ShapeFn shape;
};
Kernels kernels_for(Width width) {
  switch (width) {
    case Width::avx512: return {first_avx512, shape_avx512};
    case Width::avx2: return {first_avx2, shape_avx2};
    case Width::sse2: break;
  }
  return {first_sse2, shape_sse2};
}

#endif  // __x86_64__

}  // namespace

bool plausible(unsigned variant, const std::uint8_t* p, unsigned tolerance) {
  switch (variant) {
    case 0: return plausible_at<0>(p, tolerance);
    case 1: return plausible_at<1>(p, tolerance);
    case 2: return plausible_at<2>(p, tolerance);
    case 3: return plausible_at<3>(p, tolerance);
    case 4: return plausible_at<4>(p, tolerance);
    case 5: return plausible_at<5>(p, tolerance);
  }
  return false;
}

std::uint8_t plausible_variants(const std::uint8_t* p, std::size_t room, std::uint8_t variants, unsigned tolerance) {
  std::uint8_t pass = 0;
  const auto test = [&]<unsigned V>() {
    if (((variants >> V) & 1) && room >= span_bytes(V) && plausible_at<V>(p, tolerance)) pass |= 1u << V;
  };
  test.template operator()<0>();
  test.template operator()<1>();
  test.template operator()<2>();
  test.template operator()<3>();
  test.template operator()<4>();
  test.template operator()<5>();
  return pass;
}

std::size_t candidates(Width width, const std::uint8_t* base, std::size_t at, std::size_t size, unsigned tolerance,
                       std::vector<Candidate>& out) {
#if defined(__x86_64__)
  const std::size_t reach = tolerance == 0 ? kReachExact : kReachTolerant;
  if (at > size || size - at < reach) return at;
  const std::size_t words = std::min(kBatch, (size - at - reach) / kWordBytes + 1);
  const Kernels kernels = kernels_for(width);
  std::array<std::uint64_t, kBatch + 1> any_x, zero;
  kernels.first(base + at, words + 1, any_x.data(), zero.data());

  if (tolerance == 0) {
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t hits = four_in_a_row(any_x[w], any_x[w + 1]);
      if (hits == 0) continue;
      for (std::uint64_t m = hits & ~four_in_a_row(zero[w], zero[w + 1]); m != 0; m &= m - 1) {
        out.push_back({at + kWordBytes * w + static_cast<unsigned>(std::countr_zero(m)), 0x3F});
      }
    }
    return at + kWordBytes * words;
  }

  // One of the first t + 1 relations of each variant (all of a variant with fewer).
  const unsigned relations = tolerance + 1;
  std::array<bool, kMaxShapes> needed{};
  for (unsigned v = 0; v < kVariants; ++v) {
    for (unsigned k = 0; k < std::min(relations, kSets[v].count); ++k) needed[kShapes.uses[v][k].shape] = true;
  }
  std::array<std::array<std::uint64_t, kBatch + kMaxExtraWords>, kMaxShapes> flags;
  for (unsigned s = 0; s < kShapes.count; ++s) {
    if (!needed[s]) continue;
    const Shape& shape = kShapes.shapes[s];
    const std::size_t n = words + extra_words(shape);
    kernels.shape(base + at + origin(shape), n, -4 * static_cast<std::ptrdiff_t>(shape.da),
                  -4 * static_cast<std::ptrdiff_t>(shape.dc), flags[s].data());
    for (std::size_t i = 0; i + 1 < n; ++i) flags[s][i] = four_in_a_row(flags[s][i], flags[s][i + 1]);
  }
  // Per variant, the offsets where one of its first t + 1 relations holds: one pass over the
  // words per relation, at the relation's fixed shift.
  std::array<std::array<std::uint64_t, kBatch>, kVariants> masks;
  for (unsigned v = 0; v < kVariants; ++v) {
    std::uint64_t* m = masks[v].data();
    const bool every = relations > kSets[v].count;
    std::fill_n(m, words, every ? ~std::uint64_t{0} : 0);
    for (unsigned k = 0; !every && k < relations; ++k) {
      const Use& use = kShapes.uses[v][k];
      const std::uint64_t* f = flags[use.shape].data() + use.offset / 64;
      const unsigned shift = use.offset % 64;
      if (shift == 0) {
        for (std::size_t w = 0; w < words; ++w) m[w] |= f[w];
      } else {
        for (std::size_t w = 0; w < words; ++w) m[w] |= (f[w] >> shift) | (f[w + 1] << (64 - shift));
      }
    }
  }
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t nonzero = ~four_in_a_row(zero[w], zero[w + 1]);
    std::uint64_t any = 0;
    for (unsigned v = 0; v < kVariants; ++v) any |= masks[v][w];
    for (any &= nonzero; any != 0; any &= any - 1) {
      const auto lane = static_cast<unsigned>(std::countr_zero(any));
      std::uint8_t variants = 0;
      for (unsigned v = 0; v < kVariants; ++v) variants |= static_cast<std::uint8_t>(((masks[v][w] >> lane) & 1) << v);
      out.push_back({at + kWordBytes * w + lane, variants});
    }
  }
  return at + kWordBytes * words;
#else
  (void)width, (void)base, (void)size, (void)tolerance, (void)out;
  return at;
#endif
}

}  // namespace dumpguard::aes_prefilter
