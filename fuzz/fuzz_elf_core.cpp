// libFuzzer target for the ELF core reader. Beyond "no crash, no hang", it checks the
// invariants every caller relies on: regions and gaps lie inside the input, indices in
// threads point at regions, and warnings go with complete == false.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "format/elf_core.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto result = read_elf_core(bytes);
  if (!result) return 0;
  const DumpModel& model = *result;
  for (const Region& r : model.regions) {
    if (r.file_offset > size || r.size > size - r.file_offset) std::abort();
  }
  for (const ByteRange& g : model.unaccounted) {
    if (g.file_offset > size || g.size > size - g.file_offset) std::abort();
  }
  for (const Thread& t : model.threads) {
    if (t.stack_region && *t.stack_region >= model.regions.size()) std::abort();
    if (t.context_region && *t.context_region >= model.regions.size()) std::abort();
  }
  if (model.complete != model.warnings.empty()) std::abort();
  return 0;
}
