// libFuzzer target for fingerprint files (`scan --fingerprints`). The input is the file's
// text, parsed under a fixed key. A file that parses is run as a detector over its own bytes:
// beyond "no crash", every finding must lie inside the area and carry one of the file's ids.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret_fingerprint.hpp"
#include "user_files/fingerprint_file.hpp"
#include "detect/registered_secret.hpp"

namespace {

class Checked final : public dumpguard::FindingSink {
 public:
  Checked(std::size_t size, const std::vector<dumpguard::RegisteredSecret>& secrets) : size_(size), secrets_(secrets) {}
  void finding(dumpguard::Finding f) override {
    if (f.file_offset > size_ || f.length > size_ - f.file_offset || f.length == 0) __builtin_trap();
    bool known = false;
    for (const auto& s : secrets_) known = known || s.id == f.key;
    if (!known) __builtin_trap();
  }
  void public_key(dumpguard::PublicKey) override {}
  void secret(dumpguard::KnownSecret s) override {
    if (s.value.bytes.empty() || s.value.bytes.size() > size_) __builtin_trap();
  }

 private:
  std::size_t size_;
  const std::vector<dumpguard::RegisteredSecret>& secrets_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::uint8_t> key(32, 0x5a);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto secrets = dumpguard::parse_fingerprint_file(text, "fuzz", key);
  if (!secrets) return 0;
  auto detector = dumpguard::make_registered_secret_detector({*secrets, key});
  dumpguard::Dump dump;
  dumpguard::KeyRing ring;
  const dumpguard::ScanArea area{0, std::as_bytes(std::span(data, size)), std::nullopt};
  const dumpguard::ScanContext context{dump, ring, std::span<const dumpguard::ScanArea>(&area, 1), key};
  Checked sink(size, *secrets);
  dumpguard::run_alone(*detector, context, area, sink);
  return 0;
}
