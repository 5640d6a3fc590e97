// The AES schedule detector on schedules that OpenSSL itself expanded (AES_set_encrypt_key,
// AES_set_decrypt_key, and live EVP contexts in this process), on the FIPS-197 appendix A
// vectors, and on random data, zeros and schedules with flipped bits. Prints fingerprints
// and offsets only, never key bytes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <gtest/gtest.h>
#include <openssl/aes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/aes_key_expansion.hpp"
#include "crypto/digest.hpp"
#include "detect/aes_prefilter.hpp"
#include "detect/aes_schedule.hpp"
#include "fixtures/detector_harness.hpp"

using namespace dumpguard;

namespace {

constexpr std::array<std::uint8_t, 32> kFingerprintKey = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                          12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                          23, 24, 25, 26, 27, 28, 29, 30, 31, 32};


std::vector<Finding> scan_bytes(std::span<const std::uint8_t> bytes, unsigned tolerance = 0,
                                std::uint64_t file_offset = 0) {
  return test::run_over(*make_aes_schedule_detector({tolerance}), bytes, kFingerprintKey, file_offset).findings;
}


std::vector<std::uint8_t> random_key(std::size_t n) {
  std::vector<std::uint8_t> key(n);
  EXPECT_EQ(RAND_bytes(key.data(), static_cast<int>(n)), 1);
  return key;
}

std::string fingerprint_of(const std::vector<std::uint8_t>& key) { return keyed_fingerprint(kFingerprintKey, key); }

// The bytes of an OpenSSL AES_KEY's round keys, as they sit in memory.
std::vector<std::uint8_t> openssl_schedule(const std::vector<std::uint8_t>& key, bool decrypt) {
  AES_KEY ks;
  const int bits = static_cast<int>(key.size() * 8);
  EXPECT_EQ(decrypt ? AES_set_decrypt_key(key.data(), bits, &ks) : AES_set_encrypt_key(key.data(), bits, &ks), 0);
  std::vector<std::uint8_t> out(16 * static_cast<std::size_t>(ks.rounds + 1));
  std::memcpy(out.data(), ks.rd_key, out.size());
  return out;
}

// The encryption schedule in FIPS byte order, from this project's expansion.
std::vector<std::uint8_t> fips_schedule(const std::vector<std::uint8_t>& key) {
  const auto nk = static_cast<unsigned>(key.size() / 4);
  std::vector<std::uint32_t> k(nk), w(aes::schedule_words(nk));
  for (unsigned i = 0; i < nk; ++i) {
    k[i] = (std::uint32_t{key[4 * i]} << 24) | (std::uint32_t{key[4 * i + 1]} << 16) |
           (std::uint32_t{key[4 * i + 2]} << 8) | key[4 * i + 3];
  }
  aes::expand_key(k, w);
  std::vector<std::uint8_t> out;
  for (std::uint32_t v : w) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  }
  return out;
}

std::vector<std::uint8_t> swap_words(std::vector<std::uint8_t> s) {
  for (std::size_t i = 0; i + 4 <= s.size(); i += 4) std::reverse(s.begin() + static_cast<long>(i), s.begin() + static_cast<long>(i) + 4);
  return s;
}

std::vector<std::uint8_t> reverse_round_keys(const std::vector<std::uint8_t>& s) {
  std::vector<std::uint8_t> out;
  for (std::size_t r = s.size() / 16; r-- > 0;) out.insert(out.end(), s.begin() + static_cast<long>(16 * r), s.begin() + static_cast<long>(16 * r + 16));
  return out;
}

void plant(std::vector<std::uint8_t>& buffer, std::size_t at, const std::vector<std::uint8_t>& schedule) {
  ASSERT_LE(at + schedule.size(), buffer.size());
  std::copy(schedule.begin(), schedule.end(), buffer.begin() + static_cast<long>(at));
}

std::vector<std::uint8_t> hex_bytes(const char* hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2) out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex + i, 2), nullptr, 16)));
  return out;
}

std::uint32_t word_at(const std::vector<std::uint8_t>& schedule, unsigned i) {
  return (std::uint32_t{schedule[4 * i]} << 24) | (std::uint32_t{schedule[4 * i + 1]} << 16) |
         (std::uint32_t{schedule[4 * i + 2]} << 8) | schedule[4 * i + 3];
}

struct Planted {
  std::size_t size;
  bool decrypt;
  std::size_t offset;
};

}  // namespace

// FIPS-197 appendix A: key expansion examples (public test keys).
TEST(AesKeyExpansion, MatchesFips197AppendixA) {
  const auto s128 = fips_schedule(hex_bytes("2b7e151628aed2a6abf7158809cf4f3c"));
  EXPECT_EQ(word_at(s128, 4), 0xa0fafe17u);
  EXPECT_EQ(word_at(s128, 43), 0xb6630ca6u);
  const auto s192 = fips_schedule(hex_bytes("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"));
  EXPECT_EQ(word_at(s192, 6), 0xfe0c91f7u);
  EXPECT_EQ(word_at(s192, 51), 0x01002202u);
  const auto s256 = fips_schedule(hex_bytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"));
  EXPECT_EQ(word_at(s256, 8), 0x9ba35411u);
  EXPECT_EQ(word_at(s256, 59), 0x706c631eu);
}

// FIPS-197 5.1.3 / 5.3.3: the column (db 13 53 45) mixes to (8e 4d a1 bc), and back.
TEST(AesKeyExpansion, ColumnMixesInvertEachOther) {
  EXPECT_EQ(aes::mix_column(0xdb135345u), 0x8e4da1bcu);
  EXPECT_EQ(aes::inv_mix_column(0x8e4da1bcu), 0xdb135345u);
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const auto w = static_cast<std::uint32_t>(rng());
    EXPECT_EQ(aes::inv_mix_column(aes::mix_column(w)), w);
  }
}

// OpenSSL's own schedule equals this project's expansion in one of the two byte orders the
// detector reads: an independent check of both.
TEST(AesSchedule, OpenSslScheduleIsTheFipsExpansion) {
  for (std::size_t size : {16u, 24u, 32u}) {
    const auto key = random_key(size);
    const auto ours = fips_schedule(key);
    const auto theirs = openssl_schedule(key, false);
    EXPECT_TRUE(theirs == ours || theirs == swap_words(ours)) << "AES-" << size * 8;
  }
}

TEST(AesSchedule, FindsOpenSslSchedulesOfEverySizeAtAlignedAndOddOffsets) {
  for (const Planted& p : {Planted{16, false, 64}, Planted{16, false, 13}, Planted{24, false, 4097},
                           Planted{24, false, 256}, Planted{32, false, 1000}, Planted{32, false, 3},
                           Planted{16, true, 77}, Planted{24, true, 512}, Planted{32, true, 2049},
                           Planted{32, true, 96}}) {
    const auto key = random_key(p.size);
    auto buffer = test::seeded_bytes(8192, static_cast<std::uint32_t>(p.offset));
    const auto schedule = openssl_schedule(key, p.decrypt);
    plant(buffer, p.offset, schedule);
    const auto found = scan_bytes(buffer, 0, 0x10000);
    ASSERT_EQ(found.size(), 1u) << "AES-" << p.size * 8 << (p.decrypt ? " decrypt" : " encrypt") << " at " << p.offset;
    const Finding& f = found[0];
    EXPECT_EQ(f.kind, "aes-key-schedule");
    EXPECT_EQ(f.detector, "aes-schedule");
    EXPECT_EQ(f.file_offset, 0x10000 + p.offset);
    EXPECT_EQ(f.length, schedule.size());
    EXPECT_TRUE(f.verified);
    EXPECT_EQ(f.severity, Severity::critical);
    EXPECT_EQ(f.key, fingerprint_of(key));
    const std::string prefix = "aes" + std::to_string(p.size * 8) + (p.decrypt ? "-dec" : "-enc");
    EXPECT_EQ(f.encoding.rfind(prefix, 0), 0u) << f.encoding;
    EXPECT_EQ(f.encoding.find("fwd"), std::string::npos);
    EXPECT_FALSE(f.vaddr.has_value());
  }
}

TEST(AesSchedule, FindsBothByteOrdersAndBothDecryptionRoundOrders) {
  for (std::size_t size : {16u, 24u, 32u}) {
    const auto key = random_key(size);
    const auto enc = openssl_schedule(key, false);
    const auto dec = openssl_schedule(key, true);
    const std::string bits = std::to_string(size * 8);
    struct Case {
      std::vector<std::uint8_t> bytes;
      std::string layout;
    };
    const std::vector<Case> cases = {{enc, "enc"},
                                     {swap_words(enc), "enc"},
                                     {dec, "dec"},
                                     {swap_words(dec), "dec"},
                                     {reverse_round_keys(dec), "dec-fwd"},
                                     {swap_words(reverse_round_keys(dec)), "dec-fwd"}};
    std::set<std::string> encodings;
    for (const Case& c : cases) {
      auto buffer = test::seeded_bytes(4096, 99);
      plant(buffer, 1024 + 4, c.bytes);
      const auto found = scan_bytes(buffer);
      ASSERT_EQ(found.size(), 1u) << "AES-" << bits << " " << c.layout;
      EXPECT_EQ(found[0].key, fingerprint_of(key));
      EXPECT_EQ(found[0].file_offset, 1028u);
      const std::string e = found[0].encoding;
      EXPECT_TRUE(e == "aes" + bits + "-" + c.layout || e == "aes" + bits + "-" + c.layout + "-le32") << e;
      encodings.insert(e);
    }
    EXPECT_EQ(encodings.size(), 6u) << "each layout and byte order has its own encoding";
  }
}

// SymCrypt's SYMCRYPT_AES_EXPANDED_KEY: encryption round keys, then the decryption ones,
// sharing the last encryption round key. Both schedules are found.
TEST(AesSchedule, FindsSymCryptStyleSharedRoundKey) {
  const auto key = random_key(32);
  const auto enc = openssl_schedule(key, false);
  const auto dec = openssl_schedule(key, true);
  ASSERT_TRUE(std::equal(dec.begin(), dec.begin() + 16, enc.end() - 16));
  std::vector<std::uint8_t> both(enc);
  both.insert(both.end(), dec.begin() + 16, dec.end());
  auto buffer = test::seeded_bytes(4096, 5);
  plant(buffer, 512, both);
  const auto found = scan_bytes(buffer);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].file_offset, 512u);
  EXPECT_EQ(found[1].file_offset, 512u + 14 * 16);
  EXPECT_EQ(found[0].key, found[1].key);
}

TEST(AesSchedule, NothingInRandomDataOrZerosOrRepeats) {
  const auto noise = test::seeded_bytes(4 << 20, 1);
  EXPECT_TRUE(scan_bytes(noise).empty());
  EXPECT_TRUE(scan_bytes(noise, 10).empty());
  const std::vector<std::uint8_t> zeros(1 << 16, 0);
  EXPECT_TRUE(scan_bytes(zeros).empty());
  EXPECT_TRUE(scan_bytes(zeros, 10).empty());
  std::vector<std::uint8_t> ones(1 << 16, 0xFF);
  EXPECT_TRUE(scan_bytes(ones, 10).empty());
  std::vector<std::uint8_t> pattern(1 << 16);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i % 7);
  EXPECT_TRUE(scan_bytes(pattern, 10).empty());
  // A schedule cut by the end of the area is not reported.
  const auto key = random_key(32);
  auto cut = openssl_schedule(key, false);
  cut.resize(cut.size() - 1);
  EXPECT_TRUE(scan_bytes(cut).empty());
}

TEST(AesSchedule, FlippedBitsNeedTolerance) {
  for (std::size_t size : {16u, 24u, 32u}) {
    const auto key = random_key(size);
    const auto schedule = openssl_schedule(key, true);
    // A flip in the key itself (round key 0), in a middle round, and in the last word.
    for (std::size_t bit : {std::size_t{3}, schedule.size() * 4 + 1, schedule.size() * 8 - 1}) {
      auto buffer = test::seeded_bytes(4096, 11);
      auto damaged = schedule;
      damaged[bit / 8] = static_cast<std::uint8_t>(damaged[bit / 8] ^ (1u << (bit % 8)));
      plant(buffer, 200, damaged);
      EXPECT_TRUE(scan_bytes(buffer, 0).empty()) << "AES-" << size * 8 << " bit " << bit;
      const auto found = scan_bytes(buffer, 1);
      ASSERT_EQ(found.size(), 1u) << "AES-" << size * 8 << " bit " << bit;
      EXPECT_FALSE(found[0].verified);
      EXPECT_EQ(found[0].severity, Severity::high);
      EXPECT_EQ(found[0].key, fingerprint_of(key)) << "the nearest exact schedule is the true one";
      EXPECT_NE(found[0].proof.find("1 bit errors"), std::string::npos) << found[0].proof;
      EXPECT_EQ(found[0].file_offset, 200u);
    }
  }
}

TEST(AesSchedule, TenSpreadFlipsAtToleranceTen) {
  for (std::size_t size : {16u, 32u}) {
    const auto key = random_key(size);
    auto schedule = openssl_schedule(key, false);
    std::mt19937 rng(static_cast<std::uint32_t>(size));
    std::set<std::size_t> bits;
    // Keep one 16-byte window clean so the nearest schedule is recoverable (see aes_schedule.cpp).
    while (bits.size() < 10) bits.insert(32 * 8 + rng() % ((schedule.size() - 32) * 8));
    for (std::size_t bit : bits) schedule[bit / 8] = static_cast<std::uint8_t>(schedule[bit / 8] ^ (1u << (bit % 8)));
    auto buffer = test::seeded_bytes(4096, 12);
    plant(buffer, 300, schedule);
    EXPECT_TRUE(scan_bytes(buffer, 9).empty());
    const auto found = scan_bytes(buffer, 10);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key, fingerprint_of(key));
    EXPECT_NE(found[0].proof.find("10 bit errors"), std::string::npos) << found[0].proof;
  }
}

// The vector prefilter works on 16-offset blocks and leaves the last bytes to the scalar loop:
// schedules at every offset modulo 16, across block edges and in the tail, are all found.
TEST(AesSchedule, FindsSchedulesAtEveryOffsetModulo16AndInTheTail) {
  for (unsigned tolerance : {0u, 3u}) {
    for (std::size_t size : {16u, 24u, 32u}) {
      const auto key = random_key(size);
      const auto schedule = openssl_schedule(key, size == 24);
      for (std::size_t residue = 0; residue < 16; ++residue) {
        for (std::size_t tail : {std::size_t{0}, std::size_t{5}, std::size_t{31}, std::size_t{300}}) {
          const std::size_t at = 4096 + residue;
          auto buffer = test::seeded_bytes(at + schedule.size() + tail, static_cast<std::uint32_t>(residue));
          plant(buffer, at, schedule);
          const auto found = scan_bytes(buffer, tolerance);
          ASSERT_EQ(found.size(), 1u) << "AES-" << size * 8 << " at " << at << ", " << tail << " bytes after";
          EXPECT_EQ(found[0].file_offset, at);
          EXPECT_EQ(found[0].key, fingerprint_of(key));
        }
      }
    }
  }
}

TEST(AesSchedule, RepeatsOfOneKeyShareAFingerprintAndOthersDoNot) {
  const auto a = random_key(16), b = random_key(16);
  auto buffer = test::seeded_bytes(8192, 3);
  plant(buffer, 100, openssl_schedule(a, false));
  plant(buffer, 1000, openssl_schedule(a, true));
  plant(buffer, 3000, openssl_schedule(b, false));
  const auto found = scan_bytes(buffer);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].key, found[1].key);
  EXPECT_NE(found[0].key, found[2].key);
  for (const Finding& f : found) EXPECT_EQ(f.key.rfind("hmac-sha256:", 0), 0u);
}

// Live EVP contexts: copy this process's writable anonymous memory and scan the copy. With
// AES-NI the schedules are aesni_set_encrypt_key / aesni_set_decrypt_key layouts.
TEST(AesSchedule, FindsLiveEvpContextsInThisProcess) {
  struct Live {
    const EVP_CIPHER* cipher;
    std::size_t key_size;
    bool encrypt;
  };
  const std::vector<Live> lives = {{EVP_aes_256_gcm(), 32, true}, {EVP_aes_128_cbc(), 16, false},
                                   {EVP_aes_192_ctr(), 24, true}, {EVP_aes_256_cbc(), 32, false}};
  std::vector<std::vector<std::uint8_t>> keys;
  std::vector<EVP_CIPHER_CTX*> contexts;
  for (const Live& l : lives) {
    keys.push_back(random_key(l.key_size));
    std::array<std::uint8_t, 16> iv{};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ASSERT_EQ(EVP_CipherInit_ex(ctx, l.cipher, nullptr, keys.back().data(), iv.data(), l.encrypt ? 1 : 0), 1);
    contexts.push_back(ctx);
  }
  // Snapshot writable private mappings through /proc/self/mem (sizes capped: ASan's shadow).
  std::vector<std::uint8_t> image;
  std::ifstream maps("/proc/self/maps");
  const int mem = open("/proc/self/mem", O_RDONLY);
  ASSERT_GE(mem, 0);
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    if (perms.size() < 2 || perms[0] != 'r' || perms[1] != 'w') continue;
    const auto dash = range.find('-');
    const std::uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (hi - lo > (64u << 20)) continue;
    std::vector<std::uint8_t> chunk(hi - lo);
    const ssize_t n = pread(mem, chunk.data(), chunk.size(), static_cast<off_t>(lo));
    if (n <= 0) continue;
    image.insert(image.end(), chunk.begin(), chunk.begin() + n);
  }
  close(mem);
  const auto found = scan_bytes(image);
  for (std::size_t i = 0; i < lives.size(); ++i) {
    const std::string fp = fingerprint_of(keys[i]);
    const std::string want = std::string("aes") + std::to_string(lives[i].key_size * 8) +
                             (lives[i].encrypt ? "-enc" : "-dec");
    const bool seen = std::any_of(found.begin(), found.end(), [&](const Finding& f) {
      return f.key == fp && f.encoding.rfind(want, 0) == 0;
    });
    EXPECT_TRUE(seen) << EVP_CIPHER_get0_name(lives[i].cipher) << ": no " << want << " schedule with " << fp;
  }
  for (EVP_CIPHER_CTX* ctx : contexts) EVP_CIPHER_CTX_free(ctx);
  std::fill(image.begin(), image.end(), 0);
}

// The vector prefilter against plausible(), its scalar definition: over buffers with planted
// schedules (OpenSSL's expansion of keys made here, all six layouts and byte orders, at every
// offset modulo 64, with bit flips when tolerance allows them), and over data that passes many
// relations (period-8 words with a zero word, as arrays of small 64-bit integers leave; sparse
// bytes; zero pages), every offset and variant plausible() keeps is a candidate, on every width
// this CPU has, and every width gives the same candidates.
namespace {

struct PrefilterRun {
  std::vector<aes_prefilter::Candidate> found;
  std::size_t stop = 0;  // where the vector test stopped: the detector tests the rest one by one
};

PrefilterRun run_prefilter(aes_prefilter::Width width, const std::vector<std::uint8_t>& buffer, unsigned tolerance) {
  PrefilterRun run;
  for (;;) {
    const std::size_t next = aes_prefilter::candidates(width, buffer.data(), run.stop, buffer.size(), tolerance, run.found);
    if (next == run.stop) break;
    EXPECT_GT(next, run.stop);
    run.stop = next;
  }
  return run;
}

// Prefilter buffers: planted schedules (variant and offset of each), then the filler kinds.
struct PrefilterCase {
  std::string name;
  std::vector<std::uint8_t> bytes;
  std::vector<std::pair<unsigned, std::size_t>> planted;  // variant, offset
};

std::vector<PrefilterCase> prefilter_cases(unsigned tolerance) {
  std::vector<PrefilterCase> cases;
  std::mt19937 rng(tolerance + 1);
  for (std::size_t size : {16u, 24u, 32u}) {
    const auto key = random_key(size);
    const auto enc = openssl_schedule(key, false), dec = openssl_schedule(key, true);
    const unsigned forward = static_cast<unsigned>(size / 4 - 4);  // variant of Nk's forward layouts
    const std::vector<std::pair<std::vector<std::uint8_t>, unsigned>> layouts = {
        {enc, forward},     {swap_words(enc), forward}, {dec, forward + 1}, {swap_words(dec), forward + 1},
        {reverse_round_keys(dec), forward}, {swap_words(reverse_round_keys(dec)), forward}};
    for (std::size_t l = 0; l < layouts.size(); ++l) {
      PrefilterCase c{"AES-" + std::to_string(size * 8) + " layout " + std::to_string(l),
                      test::seeded_bytes(64 * 320 + 700, static_cast<std::uint32_t>(100 * size + l)),
                      {}};
      for (std::size_t residue = 0; residue < 64; ++residue) {
        auto schedule = layouts[l].first;
        // Up to `tolerance` flipped bits, so that some relations break and others hold.
        for (unsigned f = 0; f < tolerance && f < 4; ++f) {
          const std::size_t bit = rng() % (schedule.size() * 8);
          schedule[bit / 8] = static_cast<std::uint8_t>(schedule[bit / 8] ^ (1u << (bit % 8)));
        }
        const std::size_t at = 320 * residue + residue;
        std::copy(schedule.begin(), schedule.end(), c.bytes.begin() + static_cast<long>(at));
        c.planted.emplace_back(layouts[l].second, at);
      }
      cases.push_back(std::move(c));
    }
  }
  // Period-8 words with a zero word, shifted by every byte offset within the period.
  for (std::size_t shift = 0; shift < 8; ++shift) {
    PrefilterCase c{"period 8, shift " + std::to_string(shift), std::vector<std::uint8_t>(8192 + 700, 0), {}};
    for (std::size_t i = 0; i < c.bytes.size(); ++i) {
      c.bytes[i] = (i + shift) % 8 < 4 ? static_cast<std::uint8_t>(0x11 * ((i + shift) % 8 + 1)) : 0;
    }
    cases.push_back(std::move(c));
  }
  // Sparse bytes: one in 40 nonzero, from a small alphabet.
  {
    PrefilterCase c{"sparse", std::vector<std::uint8_t>(1 << 16, 0), {}};
    for (auto& b : c.bytes) b = rng() % 40 == 0 ? static_cast<std::uint8_t>(1 + rng() % 3) : 0;
    cases.push_back(std::move(c));
  }
  // A schedule in the middle of zero pages, and one right after zeros end.
  {
    PrefilterCase c{"zero pages", std::vector<std::uint8_t>(3 * 4096, 0), {}};
    const auto schedule = openssl_schedule(random_key(32), false);
    for (std::size_t at : {std::size_t{4096 + 61}, std::size_t{8192 - 5}}) {
      std::copy(schedule.begin(), schedule.end(), c.bytes.begin() + static_cast<long>(at));
      if (tolerance == 0) c.planted.emplace_back(4, at);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<aes_prefilter::Width> widths_here() {
  std::vector<aes_prefilter::Width> widths;
  for (auto w : {aes_prefilter::Width::sse2, aes_prefilter::Width::avx2, aes_prefilter::Width::avx512}) {
    if (aes_prefilter::cpu_has(w)) widths.push_back(w);
  }
  return widths;
}

}  // namespace

TEST(AesPrefilter, VectorCandidatesAreASupersetOfPlausibleOnEveryWidth) {
  const auto widths = widths_here();
  ASSERT_FALSE(widths.empty());
#if defined(__x86_64__)
  EXPECT_TRUE(aes_prefilter::cpu_has(aes_prefilter::Width::sse2));
  EXPECT_TRUE(aes_prefilter::cpu_has(aes_prefilter::best_width()));
#endif
  for (unsigned tolerance : {0u, 1u, 2u, 5u, 7u, 10u}) {
    for (const PrefilterCase& c : prefilter_cases(tolerance)) {
      const std::string what = c.name + ", tolerance " + std::to_string(tolerance);
      // plausible() at every offset the vector test covered.
      std::vector<std::uint8_t> kept(c.bytes.size(), 0);
      std::size_t kept_count = 0;
      for (std::size_t q = 0; q < c.bytes.size(); ++q) {
        for (unsigned v = 0; v < aes_prefilter::kVariants; ++v) {
          if (c.bytes.size() - q < aes_prefilter::span_bytes(v)) break;
          if (aes_prefilter::plausible(v, c.bytes.data() + q, tolerance)) {
            kept[q] = static_cast<std::uint8_t>(kept[q] | (1u << v));
            ++kept_count;
          }
        }
        EXPECT_EQ(aes_prefilter::plausible_variants(c.bytes.data() + q, c.bytes.size() - q, 0x3F, tolerance), kept[q])
            << what << " at " << q;
      }
      for (const auto& [variant, at] : c.planted) {
        if (tolerance == 0) {
          EXPECT_TRUE((kept[at] >> variant) & 1) << what << ": planted at " << at;
        }
      }
      std::optional<PrefilterRun> first;
      for (const auto width : widths) {
        const PrefilterRun run = run_prefilter(width, c.bytes, tolerance);
        const std::string where = what + ", width " + std::to_string(static_cast<int>(width));
        ASSERT_GT(run.stop, 0u) << where;
        EXPECT_LE(c.bytes.size() - run.stop, 512u) << where << ": the vector test leaves a short tail";
        std::vector<std::uint8_t> got(c.bytes.size(), 0);
        for (std::size_t i = 0; i < run.found.size(); ++i) {
          const auto& cand = run.found[i];
          ASSERT_LT(cand.at, run.stop) << where;
          if (i > 0) {
            ASSERT_LT(run.found[i - 1].at, cand.at) << where << ": in increasing order, once each";
          }
          got[cand.at] = cand.variants;
        }
        std::size_t missed = 0;
        for (std::size_t q = 0; q < run.stop; ++q) {
          if ((kept[q] & ~got[q]) != 0 && ++missed <= 5) {
            ADD_FAILURE() << where << ": offset " << q << " passes plausible() for variants " << int(kept[q])
                          << " but the vector test gave " << int(got[q]);
          }
        }
        EXPECT_EQ(missed, 0u) << where << " (" << kept_count << " kept by plausible())";
        if (!first) {
          first = run;
        } else {
          EXPECT_EQ(run.stop, first->stop) << where;
          EXPECT_TRUE(std::equal(run.found.begin(), run.found.end(), first->found.begin(), first->found.end(),
                                 [](const auto& a, const auto& b) { return a.at == b.at && a.variants == b.variants; }))
              << where << ": every width gives the same candidates";
        }
      }
    }
  }
}

// The vector test stops where its loads would leave the buffer, and the detector tests the rest
// one by one: a schedule that ends 0 to 700 bytes before the end of the buffer, at every offset
// modulo 64 in turn, is found (exactly, and with one flipped bit at tolerance 1).
TEST(AesSchedule, FindsSchedulesEndingAnywhereNearTheEndOfTheArea) {
  for (std::size_t size : {16u, 32u}) {
    const auto key = random_key(size);
    const auto schedule = openssl_schedule(key, size == 32);
    auto damaged = schedule;
    damaged[100] ^= 0x10;
    for (std::size_t tail = 0; tail <= 700; ++tail) {
      const std::size_t at = 1024 + tail % 64;
      auto buffer = test::seeded_bytes(at + schedule.size() + tail, static_cast<std::uint32_t>(tail));
      plant(buffer, at, schedule);
      auto found = scan_bytes(buffer);
      ASSERT_EQ(found.size(), 1u) << "AES-" << size * 8 << ", " << tail << " bytes after";
      EXPECT_EQ(found[0].file_offset, at);
      EXPECT_EQ(found[0].key, fingerprint_of(key));
      plant(buffer, at, damaged);
      found = scan_bytes(buffer, 1);
      ASSERT_EQ(found.size(), 1u) << "AES-" << size * 8 << " with a flipped bit, " << tail << " bytes after";
      EXPECT_EQ(found[0].key, fingerprint_of(key));
    }
  }
}

// Throughput, printed for the record (bench/ is the place for numbers that matter).
TEST(AesSchedule, PrintsThroughputOnRandomData) {
  const auto noise = test::seeded_bytes(32 << 20, 2);
  for (unsigned tolerance : {0u, 5u, 10u}) {
    const auto start = std::chrono::steady_clock::now();
    const auto found = scan_bytes(noise, tolerance);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(found.empty());
    std::printf("aes-schedule, tolerance %u: %.0f MB/s over 32 MiB of random bytes, every byte offset\n", tolerance,
                32.0 * 1.048576 / seconds);
  }
}
