#include "detect/runtime_numbers.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <cctype>
#include <string>
#include <vector>

#include "crypto/wiped_bytes.hpp"

namespace dumpguard {

namespace {

// One layout's slots, read with one load: valid digits and their values. Layouts whose slots
// are big-endian or wider than their value fall back to the table's general reader.
struct SlotReader {
  explicit SlotReader(const NumberLayout& l)
      : layout(l), width(l.slot_bytes), shift(l.shift), tag(l.tag),
        digit_mask(l.digit_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << l.digit_bits) - 1),
        fast(!l.slot_big_endian && l.value_bytes == l.slot_bytes && (width == 2 || width == 4 || width == 8)) {
    const unsigned top = l.shift + l.digit_bits;
    const std::uint64_t below = l.shift == 0 ? 0 : (std::uint64_t{1} << l.shift) - 1;
    const std::uint64_t above = top >= 8 * width ? 0 : (width == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * width)) - 1) & ~((std::uint64_t{1} << top) - 1);
    check = below | above;
  }
  // The digit at p, or 0 when the slot is not a valid digit (a zero digit counts as not one).
  std::uint64_t digit(const std::uint8_t* p) const {
    if (!fast) return valid_slot(layout, p) ? digit_of(layout, p) : 0;
    const std::uint64_t v = load_le(p, width);
    return (v & check) == tag ? (v >> shift) & digit_mask : 0;
  }
  const NumberLayout& layout;
  unsigned width, shift;
  std::uint64_t tag, digit_mask, check = 0;
  bool fast;
};

// Whether each bit of the digit is set in at least one in sixteen of the `count` digits at p
// (and in one at least): so are a random number's, about half of the time each. Text leaves
// bit 7 of every byte clear, pointers and small integers their high bits; a number of the
// sizes sought misses this test about once in 10^4 (18 digits) to 10^16 (68 digits).
bool every_bit_used(const SlotReader& r, const std::uint8_t* p, std::size_t count) {
  std::array<std::uint32_t, 64> set{};
  const unsigned bits = r.layout.digit_bits;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t digit = r.digit(p + i * r.width);
    for (unsigned k = 0; k < bits; ++k) set[k] += static_cast<std::uint32_t>((digit >> k) & 1);
  }
  const std::size_t need = std::max<std::size_t>(1, count / 16);
  for (unsigned k = 0; k < bits; ++k) {
    if (set[k] < need) return false;
  }
  return true;
}

// The candidates of one narrow layout. Runs of valid, non-zero digits are found by looking at
// every `fewest`-th slot only (any run long enough for the shortest number sought holds one of
// them) and growing a run from a valid one in both directions, so memory that holds no such
// run costs one test per `fewest` slots. A run in which some bit of the digit is never set
// (text, small integers, pointers) is left after that one read. The layouts take turns block
// by block, so that each block is read from memory once for all of them.
// Shorter numbers make the samples too dense to be cheap; RSA keys of 2048 bits and more
// have primes of at least this many bits.
constexpr unsigned kShortestRun = 1024;

class DigitRuns {
 public:
  DigitRuns(const LimbSearch& s, const NumberLayout& l, std::span<const unsigned> bits) : s_(s), l_(l), r_(l) {
    const std::size_t w = l.slot_bytes;
    first_ = static_cast<std::size_t>((w - s.base_vaddr % w) % w);
    slots_ = first_ < s.data.size() ? (s.data.size() - first_) / w : 0;
    count_ = std::min<std::size_t>(bits.size(), targets_.size());
    for (std::size_t t = 0; t < count_; ++t) {
      const std::size_t n = digits_for(l, bits[t]);
      targets_[t] = {n, bits[t] - (n - 1) * l.digit_bits};
      if (bits[t] >= kShortestRun) fewest_ = std::min(fewest_, n);
    }
    if (fewest_ < 4 || slots_ < fewest_) slots_ = 0;
    window_ = fewest_ / 2;
    stride_ = fewest_ - window_;
    top_bit_ = std::uint64_t{1} << (l.digit_bits - 1);
    at_ = stride_ - 1;
  }

  // The samples in the slots before `end_byte` (an offset in s.data).
  void run_to(std::size_t end_byte, const RuntimeNumberFound& found) {
    const std::size_t w = l_.slot_bytes;
    const std::size_t end = std::min(slots_, end_byte > first_ ? (end_byte - first_) / w : 0);
    for (; at_ < end; at_ += stride_) {
      if (at_ < next_ || !opens(at_)) continue;
      // Grow the run both ways; `window_` digits in a row without their top bit end it too.
      std::size_t a = at_, b = at_ + 1;
      std::uint64_t used = digit(at_);
      for (std::size_t since_top = 0; a > next_ && since_top < window_; --a) {
        const std::uint64_t d = digit(a - 1);
        if (d == 0) break;
        used |= d;
        since_top = (d & top_bit_) ? 0 : since_top + 1;
      }
      for (std::size_t since_top = 0; b < slots_ && since_top < window_; ++b) {
        const std::uint64_t d = digit(b);
        if (d == 0) break;
        used |= d;
        since_top = (d & top_bit_) ? 0 : since_top + 1;
      }
      next_ = b;
      if (b - a >= fewest_ && used == r_.digit_mask && first_ + a * w < s_.to && first_ + b * w > s_.from) {
        candidates(a, b, found);
      }
    }
  }

 private:
  std::uint64_t digit(std::size_t k) const { return r_.digit(s_.data.data() + first_ + k * l_.slot_bytes); }

  // Whether a number may hold the sample at k: of the `window_` slots from k, the ones up to
  // the first digit with its top bit set are valid, and there is one (a number's digits miss that once in 2^window_). Every
  // number of `fewest_` digits holds a sample whose window lies inside it, so the samples are
  // `fewest_ - window_` apart; text, small integers and pointers fail here after a few reads.
  bool opens(std::size_t k) const {
    if (k + window_ > slots_) return false;
    for (std::size_t i = k; i < k + window_; ++i) {
      const std::uint64_t d = digit(i);
      if (d == 0) return false;
      if (d & top_bit_) return true;
    }
    return false;
  }

  void candidates(std::size_t a, std::size_t b, const RuntimeNumberFound& found) const {
    const std::size_t w = l_.slot_bytes;
    const bool ms_first = l_.most_significant_first;
    for (std::size_t k = a; k + fewest_ <= b; ++k) {
      const std::size_t offset = first_ + k * w;
      if (offset < s_.from) continue;
      if (offset >= s_.to) break;
      for (std::size_t t = 0; t < count_; ++t) {
        const std::size_t n = targets_[t].digits;
        if (n < fewest_ || k + n > b) continue;
        const std::size_t ms = ms_first ? k : k + n - 1;
        const std::size_t ls = ms_first ? k + n - 1 : k;
        if (static_cast<std::size_t>(std::bit_width(digit(ms))) != targets_[t].top_bits || !(digit(ls) & 1)) continue;
        if (!every_bit_used(r_, s_.data.data() + first_ + (ms_first ? k + 1 : k) * w, n - 1)) continue;
        found(t, offset, l_);
      }
    }
  }

  struct Target {
    std::size_t digits = 0;
    std::size_t top_bits = 0;  // of the most significant digit
  };
  const LimbSearch& s_;
  const NumberLayout& l_;
  SlotReader r_;
  std::array<Target, 16> targets_{};
  std::size_t count_ = 0;
  std::size_t fewest_ = SIZE_MAX;
  std::size_t first_ = 0, slots_ = 0;
  std::size_t window_ = 0, stride_ = 1;
  std::uint64_t top_bit_ = 0;
  std::size_t at_ = 0;    // the next sample
  std::size_t next_ = 0;  // slots before it belong to a run already handled
};

// EC scalars in a narrow layout. A scalar is any number below the group's order, odd or even,
// of about as many bits as the order (one in 2^15 has fewer bits than the order less 15), so
// DigitRuns' tests do not fit: a 256-bit number has 8 or 9 digits, too few to sample sparsely
// and too few for every_bit_used. Instead each digit but the most significant must be *strong*:
// a valid digit with a bit set in its upper half (a random digit misses that once in 2^15 for
// 30-bit digits) whose slot is not shaped like a pointer or UTF-16 text. Small integers, text and the high
// halves of pointers in 32-bit slots (below 2^15 in user space) are not strong. A candidate
// starts a maximal run of strong digits, and its most significant digit, inside the run or the
// slot just past it, gives one of the sizes sought: so one sample every `fewest` slots (the
// fewest strong digits of any size) finds each, and a longer number proposes no scalar.
class ScalarRuns {
 public:
  ScalarRuns(const LimbSearch& s, const NumberLayout& l, std::span<const unsigned> bits) : s_(s), l_(l), r_(l) {
    const std::size_t w = l.slot_bytes;
    first_ = static_cast<std::size_t>((w - s.base_vaddr % w) % w);
    slots_ = first_ < s.data.size() ? (s.data.size() - first_) / w : 0;
    strong_ = std::uint64_t{1} << (l.digit_bits / 2);
    spare_ = l.name.starts_with("smi") && !l.most_significant_first;
    for (std::size_t which = 0; which < bits.size(); ++which) {
      // The digit counts of numbers of bits[which] - 15 to bits[which] bits, and for each the
      // bit lengths of its most significant digit.
      const unsigned most = bits[which], least = most > 15 ? most - 15 : 1;
      for (std::size_t n = digits_for(l, least); n <= digits_for(l, most) && n >= 2; ++n) {
        const unsigned below = static_cast<unsigned>((n - 1) * l.digit_bits);
        Target t{which, n, least > below ? least - below : 1, std::min<unsigned>(l.digit_bits, most - below)};
        if (t.top_min > t.top_max) continue;
        targets_.push_back(t);
        fewest_ = std::min(fewest_, n - 1);
      }
    }
    if (targets_.empty() || slots_ < fewest_ + 1) slots_ = 0;
    at_ = fewest_ - 1;
  }

  void run_to(std::size_t end_byte, const RuntimeScalarFound& found) {
    const std::size_t w = l_.slot_bytes;
    const std::size_t end = std::min(slots_, end_byte > first_ ? (end_byte - first_) / w : 0);
    for (; at_ < end; at_ += fewest_) {
      if (at_ < next_ || !strong(at_)) continue;
      std::size_t a = at_, b = at_ + 1;
      while (a > next_ && strong(a - 1)) --a;
      while (b < slots_ && strong(b)) ++b;
      next_ = b;
      candidates(a, b, found);
    }
  }

 private:
  bool strong(std::size_t k) const {
    const std::uint8_t* p = s_.data.data() + first_ + k * l_.slot_bytes;
    if (l_.slot_bytes == 8 && has_pointer_word(p, 8)) return false;
    // Two UTF-16LE characters (a random digit is one once in 2^16).
    if (l_.slot_bytes == 4 && p[1] == 0 && p[3] == 0) return false;
    return r_.digit(p) >= strong_;
  }
  std::uint64_t digit(std::size_t k) const { return r_.digit(s_.data.data() + first_ + k * l_.slot_bytes); }

  // The strong run [a, b), from its least significant end: the number's most significant digit
  // is the valid slot just past the run, or the run's n-th digit, which may be strong and be
  // followed by one more strong slot (the bytes a runtime leaves after a number's last digit,
  // CPython's allocation padding). A longer run is some other number, or random bytes, but in
  // V8's layouts, where it may be a number followed by its array's stale digits. A run
  // may fit two digit counts of one size (a 28-bit digit past nine strong ones, or the ninth
  // of them, as the top): both are proposed, and the wrong one costs a multiplication.
  void candidates(std::size_t a, std::size_t b, const RuntimeScalarFound& found) const {
    const bool ms_first = l_.most_significant_first;
    const std::size_t run = b - a;
    for (const Target& t : targets_) {
      const std::size_t n = t.digits;
      std::size_t lo = 0, top = 0;  // the number's first slot, and its most significant digit's
      if (run + 1 == n && (ms_first ? a > 0 : b < slots_)) {
        lo = ms_first ? a - 1 : a;
        top = ms_first ? a - 1 : b;
      } else if (run == n || run == n + 1 || (spare_ && run > n)) {
        lo = ms_first ? b - n : a;
        top = ms_first ? b - n : a + n - 1;
      } else {
        continue;
      }
      const unsigned width = static_cast<unsigned>(std::bit_width(digit(top)));
      if (width < t.top_min || width > t.top_max) continue;
      const std::size_t offset = first_ + lo * l_.slot_bytes;
      if (offset < s_.from || offset >= s_.to) continue;
      found(t.which, offset, l_, n);
    }
  }

  struct Target {
    std::size_t which = 0;
    std::size_t digits = 0;
    unsigned top_min = 1, top_max = 0;  // bit lengths of the most significant digit
  };
  const LimbSearch& s_;
  const NumberLayout& l_;
  SlotReader r_;
  std::vector<Target> targets_;
  std::uint64_t strong_ = 0;
  // V8's arrays: a JavaScript big-number library (bn.js, jsbn) leaves stale digits past a
  // number's length, so a longer run proposes its first digits too.
  bool spare_ = false;
  std::size_t fewest_ = SIZE_MAX;
  std::size_t first_ = 0, slots_ = 0;
  std::size_t at_ = 0;    // the next sample
  std::size_t next_ = 0;  // slots before it belong to a run already handled
};

// JVM int[] magnitudes (java.math.BigInteger: most significant int first, no leading zero
// int): the array's length field is the 32-bit word right before its first element.
// Odd numbers of exactly `bits` bits (RSA moduli and primes), and EC scalars of `scalar_bits`
// less at most 15 bits, in one walk.
void int_arrays(const LimbSearch& s, std::span<const unsigned> bits, const RuntimeNumberFound& found,
                std::span<const unsigned> scalar_bits, const RuntimeScalarFound& scalar_found,
                std::span<const std::size_t> der_lengths, const JvmKeyDerFound& der_found) {
  const NumberLayout& l = layout_named("jvm-int32");
  const std::uint8_t* data = s.data.data();
  const std::size_t size = s.data.size();
  struct Target {
    std::size_t which;
    std::uint32_t count;
    unsigned top_min, top_max;  // bit lengths of the most significant word
    bool scalar;
  };
  std::vector<Target> targets;
  std::vector<std::uint32_t> counts;
  for (std::size_t t = 0; t < bits.size(); ++t) {
    const unsigned top = bits[t] - 32 * ((bits[t] - 1) / 32);
    targets.push_back({t, (bits[t] + 31) / 32, top, top, false});
  }
  for (std::size_t t = 0; t < scalar_bits.size(); ++t) {
    const unsigned most = scalar_bits[t], least = most > 15 ? most - 15 : 1;
    for (std::uint32_t count = (least + 31) / 32; count <= (most + 31) / 32; ++count) {
      const unsigned below = 32 * (count - 1);
      targets.push_back({t, count, least > below ? least - below : 1, std::min(32u, most - below), true});
    }
  }
  for (const Target& t : targets) {
    if (std::find(counts.begin(), counts.end(), t.count) == counts.end()) counts.push_back(t.count);
  }
  // An EC key's DER is a byte[] whose length word sits where an int[]'s does: the same loads.
  for (const std::size_t n : der_lengths) {
    const auto count = static_cast<std::uint32_t>(n + 7);
    if (std::find(counts.begin(), counts.end(), count) == counts.end()) counts.push_back(count);
  }
  const auto check = [&](std::size_t o) {  // o: a 4-aligned offset of a possible first element
    const std::uint32_t count = load_le32(data + o - 4);
    for (const Target& t : targets) {
      if (count != t.count || o + 4 * std::size_t{count} > size) continue;
      const unsigned top_bits = static_cast<unsigned>(std::bit_width(load_le32(data + o)));
      if (top_bits < t.top_min || top_bits > t.top_max) continue;
      if (t.scalar) {
        scalar_found(t.which, o, l, count);
      } else if (load_le32(data + o + 4 * (count - 1)) & 1) {
        found(t.which, o, l);
      }
    }
    for (std::size_t k = 0; k < der_lengths.size(); ++k) {
      if (count == der_lengths[k] + 7 && jvm_key_der_at(s, o, der_lengths[k])) der_found(k, o + 7);
    }
  };
  std::size_t o = static_cast<std::size_t>((4 - s.base_vaddr % 4) % 4);
  if (o < 4) o += 4;
  if (o < s.from) o += (s.from - o + 3) / 4 * 4;
  const std::size_t end = std::min(size, s.to);
#if defined(__SSE2__)
  // Four length fields at once: most groups hold none of the counts sought.
  if (counts.size() <= 16) {
    __m128i want[16];
    for (std::size_t k = 0; k < counts.size(); ++k) want[k] = _mm_set1_epi32(static_cast<int>(counts[k]));
    for (; o + 12 + 4 <= end; o += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + o - 4));
      __m128i hit = _mm_setzero_si128();
      for (std::size_t k = 0; k < counts.size(); ++k) hit = _mm_or_si128(hit, _mm_cmpeq_epi32(v, want[k]));
      const unsigned mask = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(hit)));
      for (unsigned m = mask; m != 0; m &= m - 1) check(o + 4 * static_cast<unsigned>(std::countr_zero(m)));
    }
  }
#endif
  for (; o < end; o += 4) check(o);
}

}  // namespace

namespace {

// Whether a module whose file name holds one of `names` ('|'-separated) is mapped.
bool runtime_mapped(const DumpModel& model, std::string_view names) {
  for (const Module& m : model.modules) {
    std::string base = m.path.substr(m.path.find_last_of("/\\") == std::string::npos ? 0 : m.path.find_last_of("/\\") + 1);
    std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (std::size_t at = 0; at <= names.size();) {
      const std::size_t bar = std::min(names.find('|', at), names.size());
      const std::string_view name = names.substr(at, bar - at);
      if (!name.empty() && base.find(name) != std::string::npos) return true;
      at = bar + 1;
    }
  }
  return false;
}

}  // namespace

std::vector<const NumberLayout*> closure_layouts(const DumpModel& model) {
  std::vector<const NumberLayout*> out;
  for (const NumberLayout& l : number_layouts()) {
    if (!l.closure_where_mapped || model.modules.empty() || runtime_mapped(model, l.modules)) out.push_back(&l);
  }
  return out;
}

std::vector<const NumberLayout*> runtime_layouts(const DumpModel& model, unsigned process_bits, bool every) {
  const auto mapped = [&](std::string_view names) { return runtime_mapped(model, names); };
  std::vector<const NumberLayout*> out;
  for (const NumberLayout& l : number_layouts()) {
    const bool jvm_int_array = !l.narrow() && l.most_significant_first && l.slot_bytes == 4;
    const bool read = l.hunted || l.scalars_hunted || jvm_int_array;
    if (!read || (l.process_bits != 0 && l.process_bits != process_bits)) continue;
    if (every || model.modules.empty() || mapped(l.modules)) out.push_back(&l);
  }
  return out;
}

void for_each_runtime_number(const LimbSearch& s, std::span<const NumberLayout* const> layouts,
                             std::span<const unsigned> bits, const RuntimeNumberFound& found,
                             std::span<const unsigned> scalar_bits, const RuntimeScalarFound& scalar_found,
                             std::span<const std::size_t> key_der_lengths, const JvmKeyDerFound& key_der_found) {
  if ((bits.empty() && scalar_bits.empty() && key_der_lengths.empty()) || layouts.empty() || s.data.size() < 8) return;
  std::vector<DigitRuns> runs;
  std::vector<ScalarRuns> scalar_runs;
  runs.reserve(layouts.size());
  scalar_runs.reserve(layouts.size());
  bool int_arrays_too = false;
  for (const NumberLayout* l : layouts) {
    if (l->narrow()) {
      if (!bits.empty() && !l->scalars_hunted) runs.emplace_back(s, *l, bits);
      if (!scalar_bits.empty()) scalar_runs.emplace_back(s, *l, scalar_bits);
    } else {
      int_arrays_too = true;
    }
  }
  constexpr std::size_t kBlock = 16 * 1024;  // stays in the cache while every layout reads it
  for (std::size_t end = 0; end < s.data.size() && (!runs.empty() || !scalar_runs.empty());) {
    end = std::min(s.data.size(), end + kBlock);
    for (DigitRuns& r : runs) r.run_to(end, found);
    for (ScalarRuns& r : scalar_runs) r.run_to(end, scalar_found);
  }
  if (int_arrays_too) int_arrays(s, bits, found, scalar_bits, scalar_found, key_der_lengths, key_der_found);
}

bool cpython_int_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits) {
  if (!layout.name.starts_with("cpython-") || offset < s.word || offset > s.data.size()) return false;
  const std::uint64_t size = load_le(s.data.data() + offset - s.word, s.word);
  return size == digits || size == (std::uint64_t{digits} << 3);
}

bool jvm_int_array_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits) {
  return layout.name == "jvm-int32" && jvm_array_at(s, offset, digits);
}

bool jvm_array_at(const LimbSearch& s, std::size_t offset, std::size_t length) {
  if (s.word != 8 || offset > s.data.size()) return false;
  // Compressed class pointers (the default): the words start 16 bytes into the object, so on
  // an 8-byte boundary; without them, 20 bytes in.
  const bool compressed = (s.base_vaddr + offset) % 8 == 0;
  if ((!compressed && (s.base_vaddr + offset) % 8 != 4) || offset < (compressed ? 16u : 20u)) return false;
  const std::uint8_t* p = s.data.data() + offset;
  if (load_le32(p - 4) != length) return false;
  const std::uint64_t mark = load_le(p - (compressed ? 16 : 20), 8);
  if ((mark & 0x87) != 1 || (mark >> 39) != 0) return false;
  if (compressed) return load_le32(p - 8) != 0;
  const std::uint64_t klass = load_le(p - 12, 8);
  return klass != 0 && (klass >> 48) == 0;
}

bool jvm_key_der_at(const LimbSearch& s, std::size_t offset, std::size_t scalar_length) {
  if (scalar_length + 5 > 0x7f || offset > s.data.size() || s.data.size() - offset < scalar_length + 7) return false;
  // 30 L 02 01 01 04 n: SEQUENCE of L bytes, INTEGER 1, OCTET STRING of the scalar's n bytes.
  const std::uint8_t* p = s.data.data() + offset;
  const std::uint8_t n = static_cast<std::uint8_t>(scalar_length);
  const std::uint8_t der[] = {0x30, static_cast<std::uint8_t>(n + 5), 0x02, 0x01, 0x01, 0x04, n};
  return std::equal(std::begin(der), std::end(der), p) && jvm_array_at(s, offset, scalar_length + 7);
}

bool v8_digit_array_at(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits) {
  if (!layout.name.starts_with("smi64-") || s.word != 8 || offset < 16 || offset > s.data.size()) return false;
  if ((s.base_vaddr + offset) % 8 != 0) return false;
  const std::uint8_t* p = s.data.data() + offset;
  // The length: a small integer (the value in the high half, the low half clear), at least the
  // digits read (an array may be longer than its number: bn.js keeps spare words).
  const std::uint64_t length = load_le(p - 8, 8);
  if ((length & 0xFFFFFFFF) != 0 || (length >> 32) < digits || (length >> 32) > kV8ArrayLongest) return false;
  // The map: a tagged pointer to a heap object (its low two bits 01) in user space.
  const std::uint64_t map = load_le(p - 16, 8);
  if ((map & 3) != 1 || map <= 0xFFFF || (map >> 47) != 0) return false;
  // The digits below the most significant use the top two bits of the width in one digit at
  // least: the nine lower digits of a random 256-bit scalar all miss them once in 2^18; the
  // digits of a narrower layout (bn.js's 26 bits read as jsbn's 28) always do.
  if (offset + digits * 8 > s.data.size() || digits < 2) return false;
  const std::uint64_t top_two = std::uint64_t{3} << (layout.digit_bits - 2);
  for (std::size_t i = 0; i + 1 < digits; ++i) {
    if (digit_of(layout, p + 8 * i) & top_two) return true;
  }
  return false;
}

bool v8_digits_follow(const LimbSearch& s, std::size_t offset, const NumberLayout& layout, std::size_t digits) {
  if (!layout.name.starts_with("smi")) return false;
  const std::size_t at = offset + digits * layout.slot_bytes;
  if (at + 2 * layout.slot_bytes > s.data.size()) return false;
  const std::uint64_t strong = std::uint64_t{1} << (layout.digit_bits / 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::uint8_t* p = s.data.data() + at + i * layout.slot_bytes;
    if (!valid_slot(layout, p) || digit_of(layout, p) < strong) return false;
  }
  return true;
}

bool number_looks_random(const NumberLayout& layout, std::span<const std::uint8_t> slots, std::size_t digits,
                   std::size_t length) {
  auto n = read_number(layout, slots, digits, length);
  if (!n) return false;
  WipedBytes value;
  value.bytes = std::move(*n);
  return looks_random(value.bytes.data(), length);
}

std::size_t runtime_number_reach(unsigned bits) {
  std::size_t reach = 0;
  for (const NumberLayout& l : number_layouts()) reach = std::max(reach, digits_for(l, bits) * l.slot_bytes);
  return reach + 8;
}

}  // namespace dumpguard
