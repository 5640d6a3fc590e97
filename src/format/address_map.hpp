// Virtual address → file offset, over a dump's memory regions. Detectors use it to follow
// pointers they find in memory (e.g. a BIGNUM's limb pointer) to the bytes in the file.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "dumpguard/dump.hpp"

namespace dumpguard {

class AddressMap {
 public:
  explicit AddressMap(const DumpModel& model);
  // The file offset of [vaddr, vaddr + length) when one region holds all of it in the file.
  std::optional<std::uint64_t> file_offset(std::uint64_t vaddr, std::uint64_t length) const;

 private:
  struct Span {
    std::uint64_t vaddr;
    std::uint64_t size;  // bytes present in the file
    std::uint64_t file_offset;
  };
  std::vector<Span> spans_;  // sorted by vaddr
};

}  // namespace dumpguard
