// libFuzzer target for the AES schedule and ChaCha/Salsa state detectors. The first byte
// picks the AES tolerance (0-15 bits); the rest is one raw area. Beyond "no crash", it checks
// that every finding lies inside the area, that exact mode reports only verified schedules,
// and that no finding's text carries the bytes it covers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detect/aes_schedule.hpp"
#include "detect/chacha_state.hpp"

namespace {

class Checked final : public dumpguard::FindingSink {
 public:
  Checked(std::span<const std::uint8_t> area, unsigned tolerance) : area_(area), tolerance_(tolerance) {}

  void finding(dumpguard::Finding f) override {
    if (f.file_offset > area_.size() || f.length > area_.size() - f.file_offset || f.length == 0) __builtin_trap();
    if (f.kind == "aes-key-schedule") {
      if (f.length != 176 && f.length != 208 && f.length != 240) __builtin_trap();
      if (tolerance_ == 0 && !f.verified) __builtin_trap();
    } else if (f.length != 64) {
      __builtin_trap();
    }
    if (f.key.rfind("hmac-sha256:", 0) != 0) __builtin_trap();
    // 16 key bytes (round key 0, or the cipher key after or between the constant words)
    // never show up in the text, raw or in hex. Printable key bytes may match the proof's
    // public wording (the constant itself), so only binary ones are checked raw.
    const std::size_t key_at = f.kind == "chacha20-state" ? 16 : f.kind == "salsa20-state" ? 4 : 0;
    const std::span<const std::uint8_t> head = area_.subspan(f.file_offset + key_at, 16);
    const std::string_view raw(reinterpret_cast<const char*>(head.data()), head.size());
    const bool printable = std::all_of(head.begin(), head.end(), [](std::uint8_t b) { return b >= 0x20 && b < 0x7f; });
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (std::uint8_t b : head) {
      hex.push_back(kDigits[b >> 4]);
      hex.push_back(kDigits[b & 15]);
    }
    for (const std::string* text : {&f.proof, &f.encoding, &f.key}) {
      if (text->find(hex) != std::string::npos) __builtin_trap();
      if (!printable && text->find(raw) != std::string::npos) __builtin_trap();
    }
  }
  void public_key(dumpguard::PublicKey) override {}
  // The raw keys the schedules and states hold, for the closure: a key's length, never more.
  void secret(dumpguard::KnownSecret s) override {
    const std::size_t n = s.value.bytes.size();
    if (n != 16 && n != 24 && n != 32) __builtin_trap();
  }

 private:
  std::span<const std::uint8_t> area_;
  unsigned tolerance_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  if (size == 0) return 0;
  const unsigned tolerance = data[0] % 16;
  const std::span<const std::uint8_t> area_bytes(data + 1, size - 1);
  static const std::vector<std::uint8_t> fingerprint_key(32, 0x5a);
  Dump dump;
  KeyRing ring;
  const ScanArea area{0, std::as_bytes(area_bytes), std::nullopt};
  const ScanContext context{dump, ring, std::span<const ScanArea>(&area, 1), fingerprint_key};
  Checked sink(area_bytes, tolerance);
  make_aes_schedule_detector({tolerance})->scan(context, area, sink);
  make_chacha_state_detector()->scan(context, area, sink);
  return 0;
}
