// libFuzzer target: the structured-key detectors (PEM, base64 DER, OpenSSH, CNG, CAPI, JWK) over one
// area holding the input, as the scanner runs them over a region, plus the openssh-key-v1
// parser directly at offset 0, so mutations of a valid container reach its deep branches.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "crypto/openssh_key.hpp"
#include "detect/capi_blob.hpp"
#include "detect/cng_blob.hpp"
#include "detect/jwk.hpp"
#include "detect/openssh.hpp"
#include "detect/der_base64.hpp"
#include "detect/pem.hpp"

namespace {

class DiscardingSink final : public dumpguard::FindingSink {
 public:
  void finding(dumpguard::Finding f) override { (void)f; }
  void public_key(dumpguard::PublicKey k) override { (void)k; }
  void secret(dumpguard::KnownSecret s) override {
    if (s.value.bytes.empty() || s.key.empty()) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  // A heap copy of exactly `size` bytes, so a read past the end is an ASan report.
  const std::vector<std::uint8_t> bytes(data, data + size);
  Dump dump;
  Region region;
  region.file_offset = 0x1000;
  region.size = size;
  region.vaddr = 0x7f0000000000;
  dump.model.regions.push_back(region);
  const ScanArea area{0x1000, std::as_bytes(std::span(bytes)), 0};
  KeyRing ring;
  const std::vector<std::uint8_t> fingerprint_key(32, 0x11);
  const ScanContext context{dump, ring, std::span(&area, 1), fingerprint_key};
  DiscardingSink sink;
  std::unique_ptr<StructureDetector> detectors[] = {make_pem_detector(),        make_der_base64_detector(),
                                           make_openssh_detector(),    make_cng_blob_detector(),
                                           make_capi_blob_detector(),  make_jwk_detector()};
  for (auto& d : detectors) run_alone(*d, context, area, sink);
  auto parsed = parse_openssh_key(bytes);
  (void)parsed;
  auto fields = parse_ssh_private_fields(bytes);
  (void)fields;
  return 0;
}
