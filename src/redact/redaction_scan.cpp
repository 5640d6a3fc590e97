// What `dumpguard redact` and the gate share before writing: the scan, then the drop policies'
// ranges as findings, so that both overwrite exactly the same bytes.
#include "dumpguard/redact.hpp"
#include "redact/drop_policy.hpp"

#include <algorithm>

namespace dumpguard {

Result<ScanReport> scan_for_redaction(const Dump& dump, const ScanOptions& options,
                                      const std::vector<std::string>& drops, Observer* observer) {
  // Policies first: an unknown name is an error before the scan spends its time.
  DG_TRY(std::vector<Finding> dropped, drop_findings(dump.model, drops));
  ScanReport report = scan_dump(dump, options, observer);
  // The findings say what was secret, the policies what else goes.
  report.findings.insert(report.findings.end(), dropped.begin(), dropped.end());
  return report;
}

RedactLayout layout_for_drops(const std::vector<std::string>& drops) {
  // --drop heap keeps only thread stacks: a minidump becomes a stack-only dump.
  return RedactLayout{std::find(drops.begin(), drops.end(), "heap") != drops.end()};
}

}  // namespace dumpguard
