#include "format/address_map.hpp"

#include <algorithm>

namespace dumpguard {

AddressMap::AddressMap(const DumpModel& model) {
  for (const Region& r : model.regions) {
    if (r.vaddr && r.size > 0 && r.kind != RegionKind::metadata) spans_.push_back({*r.vaddr, r.size, r.file_offset});
  }
  std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) { return a.vaddr < b.vaddr; });
}

std::optional<std::uint64_t> AddressMap::file_offset(std::uint64_t vaddr, std::uint64_t length) const {
  auto it = std::upper_bound(spans_.begin(), spans_.end(), vaddr,
                             [](std::uint64_t v, const Span& s) { return v < s.vaddr; });
  if (it == spans_.begin()) return std::nullopt;
  --it;
  const std::uint64_t delta = vaddr - it->vaddr;
  if (delta >= it->size || length > it->size - delta) return std::nullopt;
  return it->file_offset + delta;
}

}  // namespace dumpguard
