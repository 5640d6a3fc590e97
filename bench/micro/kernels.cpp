// Google Benchmark micro-benchmarks of the scan's hot kernels, built with
// -DDUMPGUARD_BENCH=ON (the Makefile's Release build does, so they always compile; `make test`
// does not run them). Run: build/bench/dg_micro [--benchmark_filter=REGEX].
//  - AesSchedule/*: the AES schedule detector (vector prefilter, then the exact check) over
//    16 MiB of random bytes, of heap-like text, of zero pages and of heap words, at tolerance 0
//    (the default) and 2;
//  - AesPrefilter/*: the vector prefilter alone on each width this CPU has (sse2, avx2,
//    avx512), without the checks it lets through;
//  - FactorPrefilter: the RSA hunt over 16 MiB of heap-like words with glibc chunk headers and
//    BIGNUM records for one 2048-bit modulus: the walks, the prefilter, and the few divisions;
//  - AnchorScan/*: the shared anchor pass with every structure detector's anchors, over text
//    dense with matches (DER-like "0" runs, "RSA", "EC", "eyJ"): the vector prefilter, and
//    the Vectorscan database it replaced (still the engine without AVX2);
//  - TextRules: the built-in text rules' Vectorscan pass, callback and PCRE2 confirmation over
//    log text in ASCII and UTF-16LE;
//  - Utf16Runs/*: the text rules' UTF-16LE run finder and narrowing alone, on each width, over
//    UTF-16LE log text (long runs) and over a heap of short ASCII and UTF-16LE strings (units
//    everywhere, few long runs).
// Inputs are made here from a fixed seed; none holds a real secret.
#include <benchmark/benchmark.h>
#include <openssl/bn.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crypto/openssl_ptr.hpp"
#include "crypto/spki.hpp"
#include "detect/aes_prefilter.hpp"
#include "detect/aes_schedule.hpp"
#include "detect/anchors.hpp"
#include "detect/detector_list.hpp"
#include "scan/detector_settings.hpp"
#include "detect/rsa_factor_hunt.hpp"
#include "detect/text_rule_detector.hpp"
#include "rules/engine.hpp"
#include "rules/utf16_runs.hpp"

namespace dumpguard {
namespace {

constexpr std::size_t kSize = 16u << 20;

class NullSink final : public FindingSink {
 public:
  void finding(Finding) override { ++findings; }
  void public_key(PublicKey) override {}
  void secret(KnownSecret) override {}
  std::size_t findings = 0;
};

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

std::vector<std::uint8_t> log_text(std::size_t n, bool utf16) {
  std::mt19937_64 rng(7);
  std::string text;
  while (text.size() < n) {
    text += "2026-11-27T12:00:00Z INFO user=" + std::to_string(rng() % 100000) + " GET /api/v1/items/" +
            std::to_string(rng() % 1000000) + " token_id=" + std::to_string(rng()) + " served in 1000 ms\n";
  }
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; out.size() < n; ++i) {
    out.push_back(static_cast<std::uint8_t>(text[i]));
    if (utf16) out.push_back(0);
  }
  return out;
}

// One detector over `bytes` as one area, as the unit tests run it.
template <typename AnyDetector>
void run_detector(AnyDetector& detector, const std::vector<std::uint8_t>& bytes, const KeyRing& ring, NullSink& sink) {
  static const std::vector<std::uint8_t> fingerprint_key(32, 7);
  Dump dump;
  const ScanArea area{0, std::as_bytes(std::span(bytes)), std::nullopt};
  const ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), fingerprint_key};
  run_alone(detector, context, area, sink);
}

// A heap of 64-byte allocations: a glibc chunk header (size 0x41), then words that are small
// integers, pointers or random; every 4 KiB a BIGNUM record {d, top, dmax, neg, flags} of 16
// limbs (a 1024-bit number: a prime's size for a 2048-bit modulus) pointing nowhere mapped.
std::vector<std::uint8_t> heap_words(std::size_t n) {
  std::vector<std::uint8_t> out = random_bytes(n);
  std::mt19937_64 rng(3);
  for (std::size_t at = 0; at + 64 <= n; at += 64) {
    const std::uint64_t header = 0x41, small = rng() % 1000, pointer = 0x00007f0000000000ULL | (rng() & ~7ULL & 0xFFFFFFFFFFULL);
    std::memcpy(out.data() + at, &header, 8);
    std::memcpy(out.data() + at + 8, &small, 8);
    std::memcpy(out.data() + at + 16, &pointer, 8);
    if (at % 4096 == 0) {
      const std::uint32_t top = 16, dmax = 16, neg = 0, flags = 1;
      std::memcpy(out.data() + at + 32, &top, 4);
      std::memcpy(out.data() + at + 36, &dmax, 4);
      std::memcpy(out.data() + at + 40, &neg, 4);
      std::memcpy(out.data() + at + 44, &flags, 4);
    }
  }
  return out;
}


// The inputs, each made once, when a benchmark first needs it.
using Input = const std::vector<std::uint8_t>& (*)();
const std::vector<std::uint8_t>& random_data() {
  static const auto bytes = random_bytes(kSize);
  return bytes;
}
const std::vector<std::uint8_t>& ascii_text() {
  static const auto bytes = log_text(kSize, false);
  return bytes;
}
const std::vector<std::uint8_t>& utf16_text() {
  static const auto bytes = log_text(kSize, true);
  return bytes;
}
const std::vector<std::uint8_t>& zeros() {
  static const std::vector<std::uint8_t> bytes(kSize, 0);
  return bytes;
}
const std::vector<std::uint8_t>& heap() {
  static const auto bytes = heap_words(kSize);
  return bytes;
}

void AesSchedule(benchmark::State& state, Input input, unsigned tolerance) {
  const std::vector<std::uint8_t>& bytes = input();
  auto detector = make_aes_schedule_detector({tolerance});
  const KeyRing ring;
  NullSink sink;
  for (auto _ : state) run_detector(*detector, bytes, ring, sink);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK_CAPTURE(AesSchedule, random, random_data, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AesSchedule, text, ascii_text, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AesSchedule, zeros, zeros, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AesSchedule, heap, heap, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AesSchedule, random_t2, random_data, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AesSchedule, heap_t2, heap, 2)->Unit(benchmark::kMillisecond);

void AesPrefilter(benchmark::State& state, aes_prefilter::Width width, Input input, unsigned tolerance) {
  const std::vector<std::uint8_t>& bytes = input();
  if (!aes_prefilter::cpu_has(width)) {
    state.SkipWithError("this CPU lacks the width");
    return;
  }
  std::vector<aes_prefilter::Candidate> found;
  std::size_t candidates = 0;
  for (auto _ : state) {
    for (std::size_t at = 0;;) {
      found.clear();
      const std::size_t next = aes_prefilter::candidates(width, bytes.data(), at, bytes.size(), tolerance, found);
      candidates += found.size();
      if (next == at) break;
      at = next;
    }
  }
  benchmark::DoNotOptimize(candidates);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["candidates/MiB"] = benchmark::Counter(static_cast<double>(candidates) /
                                                        static_cast<double>(state.iterations()) /
                                                        static_cast<double>(bytes.size() >> 20));
}
#define DG_AES_PREFILTER(WIDTH)                                                                              \
  BENCHMARK_CAPTURE(AesPrefilter, WIDTH##_random, aes_prefilter::Width::WIDTH, random_data, 0)       \
      ->Unit(benchmark::kMillisecond);                                                                      \
  BENCHMARK_CAPTURE(AesPrefilter, WIDTH##_heap, aes_prefilter::Width::WIDTH, heap, 0)         \
      ->Unit(benchmark::kMillisecond);                                                                      \
  BENCHMARK_CAPTURE(AesPrefilter, WIDTH##_random_t2, aes_prefilter::Width::WIDTH, random_data, 2)    \
      ->Unit(benchmark::kMillisecond);
DG_AES_PREFILTER(sse2)
DG_AES_PREFILTER(avx2)
DG_AES_PREFILTER(avx512)
#undef DG_AES_PREFILTER

void FactorPrefilter(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = heap_words(kSize);
  // One 2048-bit modulus: two random 1024-bit primes (made once; public key only kept).
  BnPtr p = bn_new(), q = bn_new(), n = bn_new();
  BnCtxPtr ctx(BN_CTX_new());
  BN_generate_prime_ex(p.get(), 1024, 0, nullptr, nullptr, nullptr);
  BN_generate_prime_ex(q.get(), 1024, 0, nullptr, nullptr, nullptr);
  BN_mul(n.get(), p.get(), q.get(), ctx.get());
  PublicKey key;
  key.type = KeyType::rsa;
  key.n.resize(static_cast<std::size_t>(BN_num_bytes(n.get())));
  BN_bn2bin(n.get(), key.n.data());
  key.e = {1, 0, 1};
  fingerprint(key);
  KeyRing ring;
  ring.add(key);
  NullSink sink;
  for (auto _ : state) {
    auto detector = make_rsa_factor_hunt_detector();  // fresh: its state crosses areas
    run_detector(*detector, bytes, ring, sink);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(FactorPrefilter)->Unit(benchmark::kMillisecond);

void AnchorScan(benchmark::State& state, AnchorDatabase::Engine engine) {
  std::vector<std::uint8_t> bytes = log_text(kSize, false);
  std::mt19937_64 rng(5);
  for (std::size_t at = 0; at + 16 < bytes.size(); at += 61 + rng() % 64) {
    static const char* kBits[] = {"RSA1", "ECS1", "eyJh", "000\x02", "0\x82\x01\x0a\x02\x01\x00", "\"kty\""};
    const char* s = kBits[rng() % 6];
    std::memcpy(bytes.data() + at, s, std::strlen(s));
  }
  ScanOptions options;
  std::vector<AnchorPattern> patterns;
  for (auto& d : make_detectors(detector_settings(options)).structure) {
    for (AnchorPattern& p : d->anchors()) patterns.push_back(std::move(p));
  }
  const AnchorDatabase database(std::move(patterns), engine);
  AnchorScanner scanner(database);
  AnchorHits hits;
  std::size_t matches = 0;
  for (auto _ : state) {
    scanner.scan(std::as_bytes(std::span(bytes)), hits);
    for (const auto& h : hits) matches += h.size();
  }
  benchmark::DoNotOptimize(matches);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["matches/MiB"] = benchmark::Counter(static_cast<double>(matches) / static_cast<double>(state.iterations()) /
                                                     static_cast<double>(kSize >> 20));
}
// best: the vector prefilter (AVX2 or AVX-512BW); vectorscan: the engine it replaced.
BENCHMARK_CAPTURE(AnchorScan, best, AnchorDatabase::Engine::best)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AnchorScan, vectorscan, AnchorDatabase::Engine::vectorscan)->Unit(benchmark::kMillisecond);

// A heap of 64-byte allocations holding short strings: ASCII with its NUL (its last character
// and the NUL make a UTF-16LE unit), UTF-16LE of 4 to 40 characters, or random bytes.
std::vector<std::uint8_t> string_heap(std::size_t n) {
  std::vector<std::uint8_t> out = random_bytes(n);
  std::mt19937_64 rng(9);
  for (std::size_t at = 0; at + 64 <= n; at += 64) {
    const auto kind = static_cast<unsigned>(rng() % 3), chars = static_cast<unsigned>(4 + rng() % 37);
    for (unsigned k = 0; kind < 2 && k < chars && 2 * k + 2 <= 64; ++k) {
      const auto c = static_cast<std::uint8_t>('a' + rng() % 26);
      if (kind == 0) {
        out[at + k] = c;
        out[at + k + 1] = 0;
      } else {
        out[at + 2 * k] = c;
        out[at + 2 * k + 1] = 0;
      }
    }
  }
  return out;
}

const std::vector<std::uint8_t>& strings() {
  static const auto bytes = string_heap(kSize);
  return bytes;
}

void TextRules(benchmark::State& state, Input input) {
  const std::vector<std::uint8_t>& bytes = input();
  rules::RuleScanner scanner(builtin_rule_engine());
  std::size_t matches = 0;
  for (auto _ : state) scanner.scan(std::as_bytes(std::span(bytes)), [&](const rules::TextMatch&) { ++matches; });
  benchmark::DoNotOptimize(matches);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK_CAPTURE(TextRules, ascii, ascii_text)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(TextRules, utf16le, utf16_text)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(TextRules, strings, strings)->Unit(benchmark::kMillisecond);

void Utf16Runs(benchmark::State& state, rules::utf16::Width width, Input input) {
  const std::vector<std::uint8_t>& bytes = input();
  if (!rules::utf16::cpu_has(width)) {
    state.SkipWithError("this CPU lacks the width");
    return;
  }
  std::string narrow(bytes.size() / 2 + rules::utf16::kNarrowSlack, '\0');
  std::size_t runs = 0;
  for (auto _ : state) {
    std::size_t used = 0;
    rules::utf16::find_runs(width, bytes, rules::kMinUtf16Run, [&](std::size_t at, std::size_t chars) {
      rules::utf16::narrow(width, bytes.data() + at, chars, bytes.size() - at, narrow.data() + used);
      used += chars;
      ++runs;
    });
    benchmark::DoNotOptimize(narrow.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["runs/MiB"] = benchmark::Counter(static_cast<double>(runs) / static_cast<double>(state.iterations()) /
                                                  static_cast<double>(bytes.size() >> 20));
}
#define DG_UTF16(WIDTH)                                                                                       \
  BENCHMARK_CAPTURE(Utf16Runs, WIDTH##_text, rules::utf16::Width::WIDTH, utf16_text)               \
      ->Unit(benchmark::kMillisecond);                                                                       \
  BENCHMARK_CAPTURE(Utf16Runs, WIDTH##_strings, rules::utf16::Width::WIDTH, strings)              \
      ->Unit(benchmark::kMillisecond);
DG_UTF16(sse2)
DG_UTF16(avx2)
DG_UTF16(avx512)
#undef DG_UTF16

}  // namespace
}  // namespace dumpguard

BENCHMARK_MAIN();
