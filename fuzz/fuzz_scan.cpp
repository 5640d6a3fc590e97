// libFuzzer target: the whole scan (PEM, DER, public-key harvest, hunts and every detector in
// the registry) over the input as a raw image, as `dumpguard scan --raw` runs it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dumpguard/mapped_file.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto model = read_model(Format::raw, bytes);
  if (!model) return 0;
  Dump dump;
  dump.file = std::make_shared<const MappedFile>(MappedFile::borrow(bytes));
  dump.model = std::move(model).value();
  ScanOptions options;
  options.fingerprint_key.assign(32, 0x5a);
  const ScanReport report = scan_dump(dump, options);
  // Every finding must lie inside the input.
  for (const Finding& f : report.findings) {
    if (f.file_offset > size || f.length > size - f.file_offset) __builtin_trap();
  }
  return 0;
}
