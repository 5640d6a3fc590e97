// ChaCha20's state is 16 little-endian words: the constant "expand 32-byte k" (words 0-3),
// the key (4-11), the block counter and the nonce (12-15) (RFC 8439 2.3). Salsa20 puts the
// constant words at 0, 5, 10 and 15, the key at 1-4 and 11-14, the nonce and counter at 6-9
// ("Salsa20 specification", section 9). Both spans are 64 bytes.
//
// The constant also sits in the read-only data of every library that implements the ciphers
// (OpenSSL's chacha-x86_64.pl .Lsigma, libsodium), followed by other constants. So:
//  - read-only memory of mapped files is skipped (it holds no live key);
//  - a key must look random: at least 16 distinct byte values among its 32 bytes (random
//    keys have about 30; P(fewer than 16) < 2^-60), which drops zero, repeated and
//    constant-table "keys".
// A state in a loaded library's static data (its writable data segment, or the anonymous
// .bss right after it) is that library's own random-number generator, not a key in use:
// SQLite's sqlite3_randomness keeps `static struct { u32 s[16]; u8 out[64]; u8 n; }` there, and
// every process that links SQLite has one. Those are reported apart, kind "chacha20-prng-state"
// at severity low. A generator kept on the heap or per thread cannot be told from a cipher.
// Blind spots (docs/detectors.md): states that keep the key without the constant (OpenSSL's
// EVP_CHACHA_KEY keeps key words and counter only, and passes the constant from code), the
// 16-byte-key variant ("expand 16-byte k"), and states cut by the end of a region.
#include "detect/chacha_state.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include "crypto/digest.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kSigma = "expand 32-byte k";
constexpr std::size_t kStateBytes = 64;
constexpr std::size_t kKeyBytes = 32;

bool live_memory(const ScanContext& context, const ScanArea& area) {
  if (!area.region) return true;
  const Region& r = context.dump.model.regions[*area.region];
  const bool file_backed = r.kind == RegionKind::module || r.kind == RegionKind::file_mapping;
  return !(file_backed && r.perms && !r.perms->write);
}

// The module whose static data holds the byte at `vaddr` of `area`'s region: the region itself
// when it is a writable part of a loaded image, or the image whose last mapping ends where this
// anonymous region begins (the .bss the loader maps after the file-backed data). Empty if none.
std::string static_data_owner(const ScanContext& context, const ScanArea& area) {
  if (!area.region) return {};
  const DumpModel& model = context.dump.model;
  const Region& r = model.regions[*area.region];
  const bool writable = !r.perms || r.perms->write;
  if (r.kind == RegionKind::module && writable) return r.owner.path;
  if ((r.kind != RegionKind::heap && r.kind != RegionKind::anon) || !r.vaddr) return {};
  for (const Region& m : model.regions) {
    if (m.kind != RegionKind::module || !m.vaddr || !(m.perms && m.perms->write)) continue;
    const std::uint64_t end = *m.vaddr + m.memory_size.value_or(m.size);
    if (end == *r.vaddr) return m.owner.path;
  }
  return {};
}

bool looks_random(const std::array<std::uint8_t, kKeyBytes>& key) {
  std::bitset<256> seen;
  for (std::uint8_t b : key) seen.set(b);
  return seen.count() >= 16;
}

class ChaChaStateDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "chacha-state"; }
  Reach reach() const override { return {0, kStateBytes}; }

  // ChaCha's whole constant, and Salsa20's first constant word.
  std::vector<AnchorPattern> anchors() const override {
    return {AnchorPattern::literal(kSigma), AnchorPattern::literal("expa")};
  }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    if (!live_memory(context, area)) return;
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    // ChaCha: the whole constant, then the key.
    for (std::size_t at : hits[0]) {
      if (text.size() - at < kStateBytes) break;
      std::array<std::uint8_t, kKeyBytes> key{};
      std::memcpy(key.data(), text.data() + at + 16, kKeyBytes);
      emit(context, area, sink, at, key, "chacha20-state",
           "ChaCha20 state (RFC 8439 2.3): the constant \"expand 32-byte k\" followed by a 32-byte key, "
           "counter and nonce; no check of the key is possible");
      OPENSSL_cleanse(key.data(), key.size());
    }
    // Salsa20: "expa" then "nd 3" 20 bytes on, "2-by" 40 and "te k" 60 bytes on.
    for (std::size_t at : hits[1]) {
      if (text.size() - at < kStateBytes) break;
      if (text.compare(at + 20, 4, "nd 3") != 0 || text.compare(at + 40, 4, "2-by") != 0 ||
          text.compare(at + 60, 4, "te k") != 0) {
        continue;
      }
      std::array<std::uint8_t, kKeyBytes> key{};
      std::memcpy(key.data(), text.data() + at + 4, 16);
      std::memcpy(key.data() + 16, text.data() + at + 44, 16);
      emit(context, area, sink, at, key, "salsa20-state",
           "Salsa20 state (Salsa20 specification 9): the constant words of \"expand 32-byte k\" at words "
           "0, 5, 10 and 15 around a 32-byte key; no check of the key is possible");
      OPENSSL_cleanse(key.data(), key.size());
    }
  }

 private:
  static void emit(const ScanContext& context, const ScanArea& area, FindingSink& sink, std::size_t at,
                   const std::array<std::uint8_t, kKeyBytes>& key, const char* kind, const char* proof) {
    if (!looks_random(key)) return;
    Finding f;
    f.detector = "chacha-state";
    f.kind = kind;
    f.encoding = "state-le32";
    f.file_offset = area.file_offset + at;
    f.length = kStateBytes;
    f.vaddr = vaddr_of(context.dump, area, at);
    f.region = area.region;
    f.verified = false;
    f.proof = proof;
    f.key = keyed_fingerprint(context.fingerprint_key, key);
    f.severity = Severity::high;
    if (std::string module = static_data_owner(context, area); !module.empty() && std::string_view(kind) == "chacha20-state") {
      f.kind = "chacha20-prng-state";
      f.severity = Severity::low;
      f.proof = fmt::format("ChaCha20 state (RFC 8439 2.3) in the static data of {}: a library's own random-number "
                            "generator (as SQLite's sqlite3_randomness keeps one), not a key in use",
                            module);
    }
    sink.secret(secret_of(f, KnownSecret::Shape::bytes, key, key.size(), std::string(kind) + "-key"));
    sink.finding(std::move(f));
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_chacha_state_detector() { return std::make_unique<ChaChaStateDetector>(); }

}  // namespace dumpguard
