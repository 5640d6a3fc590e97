#include "report/scan_text.hpp"

#include <fmt/format.h>

#include <iterator>

#include "report/scan_json.hpp"

namespace dumpguard {

std::string scan_text(const Dump& dump, const ScanReport& report) {
  std::string out;
  auto w = std::back_inserter(out);
  fmt::format_to(w, "{}: {} ({}), {} bytes searched\n", dump.source.path, to_string(dump.model.format), dump.model.arch,
                 report.bytes_searched);
  for (const KeyGroup& g : report.keys) {
    fmt::format_to(w, "\n  {:<8} {} {} — {} finding{}{}\n", to_string(g.severity), g.kind,
                   g.fingerprint.empty() ? "(no fingerprint)" : g.fingerprint, g.findings.size(),
                   g.findings.size() == 1 ? "" : "s", g.verified ? ", verified" : ", not verified");
    fmt::format_to(w, "           proof: {}\n", g.proof);
    for (std::size_t i : g.findings) {
      const Finding& f = report.findings[i];
      const char* where = f.region ? to_string(dump.model.regions[*f.region].kind) : "unaccounted";
      fmt::format_to(w, "           {:<22} {:<10} offset {:#x} length {} {} {}\n", f.kind, f.encoding, f.file_offset,
                     f.length, f.vaddr ? fmt::format("vaddr {:#x}", *f.vaddr) : std::string(), where);
    }
  }
  if (!report.supplied.empty() || !report.supplied_tokens.empty()) fmt::format_to(w, "\n  supplied keys and tokens:\n");
  for (const SuppliedKeyStatus& st : report.supplied) {
    fmt::format_to(w, "    {:<12} {} {} ({}{})\n               {}\n", st.status, st.type, st.fingerprint, st.source,
                   st.kid.empty() ? "" : ", kid " + st.kid, st.statement);
  }
  for (std::size_t i = 0; i < report.supplied_tokens.size(); ++i) {
    const SuppliedTokenStatus& st = report.supplied_tokens[i];
    fmt::format_to(w, "    {:<12} token #{} ({})\n               {}\n", st.status, i + 1, st.alg, st.statement);
  }
  if (!report.registered.empty()) fmt::format_to(w, "\n  registered secrets:\n");
  for (const SuppliedKeyStatus& st : report.registered) {
    fmt::format_to(w, "    {:<12} {} ({})\n               {}\n", st.status, st.source, st.fingerprint, st.statement);
  }
  for (const HuntLimit& l : report.limits) fmt::format_to(w, "  limit: {}: {}\n", l.detector, l.what);
  if (report.suppressed_findings > 0) {
    fmt::format_to(w, "  baseline: {} finding{} of {} accepted key{} left out\n", report.suppressed_findings,
                   report.suppressed_findings == 1 ? "" : "s", report.suppressed_keys.size(),
                   report.suppressed_keys.size() == 1 ? "" : "s");
  }
  for (const Warning& warning : dump.model.warnings) {
    fmt::format_to(w, "  warning: offset {:#x}: {}\n", warning.file_offset, warning.message);
  }
  const std::string v = verdict(dump, report);
  fmt::format_to(w, "\nverdict: {}\n",
                 v == "findings" ? fmt::format("{} finding{} in {} key{}", report.findings.size(),
                                               report.findings.size() == 1 ? "" : "s", report.keys.size(),
                                               report.keys.size() == 1 ? "" : "s")
                                 : v);
  return out;
}

}  // namespace dumpguard
