// `dumpguard scan --json`: findings, keys and what was searched. Versioned by kScanSchema;
// scripts rely on findings[] and, in each finding, file_offset, length, kind, verified, key.
#pragma once
#include <nlohmann/json.hpp>

#include "dumpguard/dump.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {
inline constexpr const char* kScanSchema = "dumpguard-scan/1";
nlohmann::ordered_json scan_json(const Dump& dump, const ScanReport& report, Severity fail_on);
// "findings", "clean", or "no findings; the dump was only partly parsed" (never "clean" then).
std::string verdict(const Dump& dump, const ScanReport& report);
}  // namespace dumpguard
