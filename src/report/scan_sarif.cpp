#include "report/scan_sarif.hpp"

#include <fmt/format.h>

#include <map>
#include <string>
#include <string_view>

#include "report/scan_json.hpp"

namespace dumpguard {

namespace {
// SARIF 2.1.0 3.27.10: "error", "warning", "note". Critical and high keys fail a build.
const char* level_of(Severity s) {
  switch (s) {
    case Severity::critical:
    case Severity::high: return "error";
    case Severity::medium: return "warning";
    case Severity::low: return "note";
  }
  return "error";
}

// SARIF 2.1.0 3.4.3 and 3.10.2: artifactLocation.uri is a URI reference (RFC 3986), and a file
// path is not one as it stands: a space, '#', '%' or a non-ASCII byte makes it invalid, and a
// ':' in the first segment of a relative path reads as a scheme. Every byte but the unreserved
// characters and '/' is percent-encoded (RFC 3986 2.1), so "/tmp/crash 1.dmp" becomes
// "/tmp/crash%201.dmp", an absolute-path reference that decodes back to the path.
std::string uri_reference(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    const auto b = static_cast<unsigned char>(c);
    const bool unreserved = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
                            b == '-' || b == '.' || b == '_' || b == '~' || b == '/';
    if (unreserved) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", b);
    }
  }
  return out;
}
}  // namespace

nlohmann::ordered_json sarif_run(const Dump& dump, const ScanReport& report) {
  // Rules: one per finding kind that occurs, in order of first appearance.
  std::map<std::string, std::size_t> rule_index;
  auto rules = nlohmann::ordered_json::array();
  for (const Finding& f : report.findings) {
    if (rule_index.emplace(f.kind, rules.size()).second) {
      rules.push_back({{"id", f.kind},
                       {"shortDescription", {{"text", fmt::format("{} in a crash dump", f.kind)}}},
                       {"properties", {{"detector", f.detector}}}});
    }
  }
  const std::string uri = uri_reference(dump.source.path);
  auto results = nlohmann::ordered_json::array();
  for (const KeyGroup& g : report.keys) {
    const Finding& first = report.findings[g.findings.front()];
    auto locations = nlohmann::ordered_json::array();
    for (std::size_t i : g.findings) {
      const Finding& f = report.findings[i];
      nlohmann::ordered_json physical = {
          {"artifactLocation", {{"uri", uri}, {"index", 0}}},
          {"region", {{"byteOffset", f.file_offset}, {"byteLength", f.length}}}};
      nlohmann::ordered_json location = {{"id", i}, {"physicalLocation", physical}};
      if (f.vaddr) {
        location["physicalLocation"]["address"] = {{"absoluteAddress", *f.vaddr}, {"length", f.length}};
      }
      location["message"] = {{"text", fmt::format("{} ({}, {})", f.kind, f.encoding, f.verified ? "verified" : "not verified")}};
      locations.push_back(std::move(location));
    }
    nlohmann::ordered_json result = {
        {"ruleId", first.kind},
        {"ruleIndex", rule_index[first.kind]},
        {"level", level_of(g.severity)},
        {"message",
         {{"text", fmt::format("{} {}: {} finding{}; {}", g.kind, g.verified ? "verified" : "not verified",
                               g.findings.size(), g.findings.size() == 1 ? "" : "s", g.proof)}}},
        {"locations", std::move(locations)}};
    if (!g.fingerprint.empty()) result["partialFingerprints"] = {{"dumpguardKey/v1", g.fingerprint}};
    result["properties"] = {{"severity", to_string(g.severity)}, {"verified", g.verified}, {"key", g.fingerprint}};
    results.push_back(std::move(result));
  }
  nlohmann::ordered_json run = {
      {"tool",
       {{"driver",
         {{"name", "dumpguard"},
          {"version", DUMPGUARD_VERSION},
          {"rules", std::move(rules)}}}}},
      {"artifacts", nlohmann::ordered_json::array({{{"location", {{"uri", uri}}},
                                                    {"length", dump.bytes().size()},
                                                    {"roles", {"analysisTarget"}}}})},
      {"results", std::move(results)},
      {"properties",
       {{"verdict", verdict(dump, report)},
        {"complete", dump.model.complete},
        {"offsets", dump.source.compression.empty() ? "file" : "decompressed"}}}};
  return run;
}

nlohmann::ordered_json sarif_log(nlohmann::ordered_json runs) {
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", std::move(runs)}};
}

}  // namespace dumpguard
