// What an audit record says about a scan's findings: counts by kind and each key by its
// fingerprint, never a byte of a secret. The gate and the core handler write the same summary,
// so one reader of the log understands both.
#pragma once
#include <nlohmann/json.hpp>

#include "dumpguard/scan.hpp"

namespace dumpguard {

nlohmann::ordered_json summarise_findings(const ScanReport& report);

}  // namespace dumpguard
