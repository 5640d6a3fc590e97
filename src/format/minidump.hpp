// Minidump reader (Windows dbghelp, Breakpad, Crashpad): header, stream directory and
// streams; memory lists become memory regions, every stream a metadata region.
// Bounds (docs/formats.md, "Bad input"): at most kMaxRegions regions, then a warning and the rest left
// unaccounted; memory ranges that share file bytes with other regions are a warning.
#pragma once
#include <span>
#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
namespace dumpguard {
Result<DumpModel> read_minidump(std::span<const std::byte> bytes);
}
