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
// Prefilter (aes_prefilter.cpp): linear relations between stored words of the middle rounds,
// which hold in every layout and byte order, tested for 64 offsets at a time with vector
// instructions; only the offsets that pass are tried one by one.
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
#include <bit>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <vector>

#include "crypto/aes_key_expansion.hpp"
#include "crypto/digest.hpp"
#include "detect/aes_prefilter.hpp"

namespace dumpguard {

namespace {

enum class Layout { encrypt, decrypt_reversed, decrypt_forward };
enum class WordOrder { fips, le32 };

// The stored word that holds schedule word i.
constexpr unsigned stored_index(Layout layout, unsigned nr, unsigned i) {
  return aes_prefilter::stored_word(layout == Layout::decrypt_reversed, nr, i);
}

// Whether schedule word i is stored after InvMixColumns (FIPS-197 5.3.5: rounds 1..Nr-1).
constexpr bool mixed(Layout layout, unsigned nr, unsigned i) {
  return layout != Layout::encrypt && i >= 4 && i < 4 * nr;
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

inline std::uint32_t load_le32(const std::uint8_t* p) {
  return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}

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

class AesScheduleDetector final : public StructureDetector {
 public:
  explicit AesScheduleDetector(unsigned tolerance) : tolerance_(tolerance), width_(aes_prefilter::best_width()) {}

  std::string_view name() const override { return "aes-schedule"; }
  Reach reach() const override { return {0, kSpan256}; }

  void scan(const ScanContext& context, const ScanArea& area, FindingSink& sink) override {
    const auto* base = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    if (size < kSpan128) return;
    // The vector prefilter over whole words of 64 offsets while its loads stay inside the area,
    // then every remaining offset one by one.
    std::size_t at = 0;
    for (;;) {
      candidates_.clear();
      const std::size_t next = aes_prefilter::candidates(width_, base, at, size, tolerance_, candidates_);
      for (const aes_prefilter::Candidate& c : candidates_) try_offset(context, area, sink, c.at, c.variants);
      if (next == at) break;
      at = next;
    }
    for (; at + kSpan128 <= size; ++at) try_offset(context, area, sink, at, kAllVariants);
  }

 private:
  static constexpr std::size_t kSpan128 = 4 * aes::schedule_words(4);
  static constexpr std::size_t kSpan256 = 4 * aes::schedule_words(8);
  static constexpr std::uint8_t kAllVariants = (1u << aes_prefilter::kVariants) - 1;
  static_assert(aes_prefilter::span_bytes(0) == kSpan128 && aes_prefilter::span_bytes(4) == kSpan256);

  // Tries the variants in `variants` (bits in aes_prefilter's order: cheapest and most common
  // first); at most one schedule starts at one offset.
  void try_offset(const ScanContext& context, const ScanArea& area, FindingSink& sink, std::size_t at,
                  std::uint8_t variants) const {
    const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(area.bytes.data()) + at;
    for (std::uint8_t pass = aes_prefilter::plausible_variants(p, area.bytes.size() - at, variants, tolerance_);
         pass != 0; pass &= static_cast<std::uint8_t>(pass - 1)) {
      const auto v = static_cast<unsigned>(std::countr_zero(pass));
      if (report(context, area, sink, at, aes_prefilter::key_words(v), aes_prefilter::reversed(v))) return;
    }
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
    // The key it expands from, wherever the application also keeps it (the closure).
    KnownSecret raw = secret_of(f, KnownSecret::Shape::bytes, std::span<const std::uint8_t>(key.data(), key_len),
                                key_len, "aes-key");
    raw.proof = fmt::format("the AES-{} key that the schedule at file offset {:#x} expands from", nk * 32, f.file_offset);
    sink.secret(std::move(raw));
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(match->key.data(), sizeof match->key);
    sink.finding(std::move(f));
    return true;
  }

  unsigned tolerance_;
  aes_prefilter::Width width_;
  std::vector<aes_prefilter::Candidate> candidates_;  // reused from call to call
};

}  // namespace

std::unique_ptr<StructureDetector> make_aes_schedule_detector(const AesScheduleSettings& settings) {
  return std::make_unique<AesScheduleDetector>(settings.tolerance_bits);
}

}  // namespace dumpguard
