#include "gate/finding_summary.hpp"

#include <map>
#include <string>

namespace dumpguard {

nlohmann::ordered_json summarise_findings(const ScanReport& report) {
  using json = nlohmann::ordered_json;
  std::map<std::string, std::size_t> by_kind;
  for (const Finding& f : report.findings) ++by_kind[f.kind];
  json keys = json::array();
  for (const KeyGroup& k : report.keys) {
    if (keys.size() >= 1000) break;  // a record stays small; the count below is exact
    keys.push_back({{"fingerprint", k.fingerprint},
                    {"kind", k.kind},
                    {"findings", k.findings.size()},
                    {"verified", k.verified},
                    {"severity", to_string(k.severity)}});
  }
  return {{"findings", report.findings.size()},
          {"keys", report.keys.size()},
          {"by_kind", by_kind},
          {"key_fingerprints", keys},
          {"suppressed_findings", report.suppressed_findings}};
}

}  // namespace dumpguard
