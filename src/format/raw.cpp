#include "format/raw.hpp"

namespace dumpguard {

Result<DumpModel> read_raw(std::span<const std::byte> bytes) {
  DumpModel model;
  model.format = Format::raw;
  model.arch = "unknown";
  if (!bytes.empty()) {
    model.regions.push_back(Region{.file_offset = 0,
                                   .size = bytes.size(),
                                   .vaddr = 0,
                                   .memory_size = std::nullopt,
                                   .perms = std::nullopt,
                                   .kind = RegionKind::unknown,
                                   .owner = {}});
  }
  account_gaps(model, bytes.size());
  return model;
}

}  // namespace dumpguard
