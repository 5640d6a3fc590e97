// `dumpguard info --json`: the dump model as JSON. The field names are a stable contract
// for scripts (docs/reports.md, "info --json"); bump kInfoSchema when a field changes meaning.
#pragma once
#include <nlohmann/json.hpp>
#include "dumpguard/dump.hpp"
namespace dumpguard {
inline constexpr const char* kInfoSchema = "dumpguard-info/1";
nlohmann::ordered_json info_json(const Dump& dump);
// The fields every report starts with: file, file_size, compression, format, arch, complete.
nlohmann::ordered_json dump_header_json(const Dump& dump);
}
