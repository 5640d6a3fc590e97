#include "report/scan_json.hpp"

#include "report/info_json.hpp"
#include "report/masked_text.hpp"

namespace dumpguard {

const char* to_string(Severity severity) {
  switch (severity) {
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
  }
  return "high";
}

std::string verdict(const Dump& dump, const ScanReport& report) {
  if (!report.findings.empty()) return "findings";
  if (!dump.model.complete) return "no findings; the dump was only partly parsed";
  return report.limits.empty() ? "clean" : "no findings; a hunt stopped at its budget";
}

nlohmann::ordered_json scan_json(const Dump& dump, const ScanReport& report, Severity fail_on) {
  nlohmann::ordered_json j;
  j["schema"] = kScanSchema;
  j.update(dump_header_json(dump));
  j["verdict"] = verdict(dump, report);
  j["fail_on"] = to_string(fail_on);

  auto& findings = j["findings"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < report.findings.size(); ++i) {
    const Finding& f = report.findings[i];
    nlohmann::ordered_json region = nullptr, owner = nullptr, region_kind = nullptr;
    if (f.region) {
      const Region& r = dump.model.regions[*f.region];
      region = *f.region;
      region_kind = to_string(r.kind);
      owner = nlohmann::ordered_json::object();
      if (r.owner.tid) owner["tid"] = *r.owner.tid;
      // From the dump: a path can hold a token (report/masked_text.hpp).
      if (!r.owner.path.empty()) owner["path"] = masked_text(r.owner.path);
      if (!r.owner.name.empty()) owner["name"] = masked_text(r.owner.name);
    }
    findings.push_back({{"index", i},
                        {"detector", f.detector},
                        {"kind", f.kind},
                        {"encoding", f.encoding},
                        {"file_offset", f.file_offset},
                        {"length", f.length},
                        {"vaddr", f.vaddr ? nlohmann::ordered_json(*f.vaddr) : nlohmann::ordered_json(nullptr)},
                        {"region", region},
                        {"region_kind", region_kind},
                        {"owner", owner},
                        {"verified", f.verified},
                        {"proof", f.proof},
                        {"key", f.key.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.key)},
                        {"severity", to_string(f.severity)}});
  }
  auto& keys = j["keys"] = nlohmann::ordered_json::array();
  for (const KeyGroup& g : report.keys) {
    keys.push_back({{"fingerprint", g.fingerprint.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(g.fingerprint)},
                    {"kind", g.kind},
                    {"verified", g.verified},
                    {"proof", g.proof},
                    {"severity", to_string(g.severity)},
                    {"count", g.findings.size()},
                    {"findings", g.findings}});
  }
  auto& pubs = j["public_keys"] = nlohmann::ordered_json::array();
  for (const HarvestedKey& k : report.public_keys) {
    pubs.push_back({{"fingerprint", k.fingerprint}, {"type", k.type}, {"origin", k.origin}, {"ca", k.ca}, {"derived", k.derived}});
  }
  auto& supplied = j["supplied"] = nlohmann::ordered_json::array();
  for (const SuppliedKeyStatus& st : report.supplied) {
    supplied.push_back({{"fingerprint", st.fingerprint.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(st.fingerprint)},
                        {"kid", st.kid.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(st.kid)},
                        {"source", st.source},
                        {"type", st.type},
                        {"status", to_string(st.status)},
                        {"findings", st.findings},
                        {"statement", st.statement}});
  }
  auto& registered = j["registered"] = nlohmann::ordered_json::array();
  for (const SuppliedKeyStatus& st : report.registered) {
    registered.push_back({{"name", st.source}, {"id", st.fingerprint}, {"status", to_string(st.status)},
                          {"findings", st.findings}, {"statement", st.statement}});
  }
  auto& tokens = j["supplied_tokens"] = nlohmann::ordered_json::array();
  for (const SuppliedTokenStatus& st : report.supplied_tokens) {
    tokens.push_back({{"alg", st.alg}, {"status", to_string(st.status)}, {"findings", st.findings}, {"statement", st.statement}});
  }
  j["searched"] = {{"bytes", report.bytes_searched},
                   {"regions", dump.model.regions.size()},
                   {"unaccounted_ranges", dump.model.unaccounted.size()},
                   {"detectors", report.detectors},
                   {"exhaustive", report.exhaustive},
                   {"limits", nlohmann::ordered_json::array()}};
  j["suppressed"] = {{"findings", report.suppressed_findings}, {"keys", report.suppressed_keys}};
  for (const HuntLimit& l : report.limits) j["searched"]["limits"].push_back({{"detector", l.detector}, {"what", l.what}});
  auto& warnings = j["warnings"] = nlohmann::ordered_json::array();
  for (const Warning& w : dump.model.warnings) warnings.push_back({{"file_offset", w.file_offset}, {"message", w.message}});
  return j;
}

}  // namespace dumpguard
