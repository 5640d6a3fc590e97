// Raw memory image: one region whose virtual address is its file offset.
#pragma once
#include <span>
#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
namespace dumpguard {
Result<DumpModel> read_raw(std::span<const std::byte> bytes);
}
