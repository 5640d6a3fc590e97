// libFuzzer target for the minidump reader: any bytes in, a model or an Error out, and
// never a crash, a hang or an allocation the input cannot pay for.
#include <cstddef>
#include <cstdint>
#include <span>

#include "format/minidump.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data, size));
  auto model = dumpguard::read_minidump(bytes);
  if (model) {
    // Every index the reader hands out must point into regions[].
    for (const auto& t : model->threads) {
      if (t.stack_region && *t.stack_region >= model->regions.size()) __builtin_trap();
      if (t.context_region && *t.context_region >= model->regions.size()) __builtin_trap();
    }
    // Every region must lie inside the input.
    for (const auto& r : model->regions) {
      if (r.file_offset > size || r.size > size - r.file_offset) __builtin_trap();
    }
  }
  return 0;
}
