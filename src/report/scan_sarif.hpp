// `dumpguard scan --sarif`: SARIF 2.1.0 (OASIS). The dump is the artifact; each key is one
// result with one location per finding, a region given by byteOffset and byteLength.
#pragma once
#include <nlohmann/json.hpp>

#include "dumpguard/dump.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {
// One run per dump; the CLI puts the runs of several dumps into one log.
nlohmann::ordered_json sarif_run(const Dump& dump, const ScanReport& report);
nlohmann::ordered_json sarif_log(nlohmann::ordered_json runs);
}  // namespace dumpguard
