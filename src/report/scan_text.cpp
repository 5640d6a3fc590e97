#include "report/scan_text.hpp"

#include "report/masked_text.hpp"

#include <fmt/format.h>

#include <iterator>

#include "report/scan_json.hpp"
#include "report/text_table.hpp"

namespace dumpguard {

namespace {
const char* plural(std::size_t n) { return n == 1 ? "" : "s"; }

std::string verdict_line(const Dump& dump, const ScanReport& report, const TextStyle& style) {
  const std::string v = verdict(dump, report);
  if (v != "findings") return "verdict: " + style.paint(v, v == "clean" ? Tone::green_bold : Tone::yellow);
  std::size_t by_severity[4] = {0, 0, 0, 0};
  for (const KeyGroup& g : report.keys) ++by_severity[static_cast<int>(g.severity)];
  std::string counts;
  for (int s = 3; s >= 0; --s) {
    if (by_severity[s] == 0) continue;
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", by_severity[s], to_string(static_cast<Severity>(s)));
  }
  return "verdict: " + style.paint(fmt::format("{} finding{} in {} key{} ({})", report.findings.size(),
                                               plural(report.findings.size()), report.keys.size(),
                                               plural(report.keys.size()), counts),
                                   Tone::red_bold);
}
}  // namespace

std::string scan_text(const Dump& dump, const ScanReport& report, const TextStyle& style) {
  std::string out;
  auto w = std::back_inserter(out);
  fmt::format_to(w, "{}: {} ({}){}, {} searched by {} detectors\n", style.paint(display_path(dump.source.path), Tone::bold),
                 to_string(dump.model.format), dump.model.arch,
                 dump.source.compression.empty() ? "" : ", " + dump.source.compression + "-compressed",
                 human_bytes(report.bytes_searched), report.detectors.size());

  if (!report.keys.empty()) {
    // One row per key; its findings below, each naming its key by the row number.
    TextTable keys({"#", "severity", "kind", "key", "findings", "verified", "proof"});
    for (std::size_t k = 0; k < report.keys.size(); ++k) {
      const KeyGroup& g = report.keys[k];
      keys.add({{std::to_string(k + 1)},
                {to_string(g.severity), tone_of(g.severity)},
                {g.kind},
                {g.fingerprint.empty() ? "-" : g.fingerprint},
                {std::to_string(g.findings.size())},
                {g.verified ? "yes" : "no", g.verified ? Tone::plain : Tone::dim},
                {g.proof, Tone::dim}});
    }
    fmt::format_to(w, "\n{}", keys.render(style));
    TextTable findings({"key", "kind", "encoding", "offset", "length", "vaddr", "region"});
    for (std::size_t k = 0; k < report.keys.size(); ++k) {
      for (std::size_t i : report.keys[k].findings) {
        const Finding& f = report.findings[i];
        findings.add({{std::to_string(k + 1)},
                      {f.kind},
                      {f.encoding},
                      {fmt::format("{:#x}", f.file_offset)},
                      {std::to_string(f.length)},
                      {f.vaddr ? fmt::format("{:#x}", *f.vaddr) : "-"},
                      {f.region ? to_string(dump.model.regions[*f.region].kind) : "unaccounted"}});
      }
    }
    fmt::format_to(w, "\n{}", findings.render(style));
  }

  if (!report.supplied.empty() || !report.supplied_tokens.empty()) {
    TextTable supplied({"supplied", "status", "type", "fingerprint", "statement"});
    for (const SuppliedKeyStatus& st : report.supplied) {
      supplied.add({{st.source + (st.kid.empty() ? "" : " (kid " + st.kid + ")")},
                    {std::string(to_string(st.status)), st.status == Presence::present ? Tone::red_bold : Tone::plain},
                    {st.type},
                    {st.fingerprint},
                    {st.statement, Tone::dim}});
    }
    for (std::size_t i = 0; i < report.supplied_tokens.size(); ++i) {
      const SuppliedTokenStatus& st = report.supplied_tokens[i];
      supplied.add({{fmt::format("token #{}", i + 1)},
                    {std::string(to_string(st.status)), st.status == Presence::present ? Tone::red_bold : Tone::plain},
                    {st.alg},
                    {"-"},
                    {st.statement, Tone::dim}});
    }
    fmt::format_to(w, "\n{}", supplied.render(style));
  }
  if (!report.registered.empty()) {
    TextTable registered({"registered secret", "status", "id", "statement"});
    for (const SuppliedKeyStatus& st : report.registered) {
      registered.add({{st.source},
                      {std::string(to_string(st.status)), st.status == Presence::present ? Tone::red_bold : Tone::plain},
                      {st.fingerprint},
                      {st.statement, Tone::dim}});
    }
    fmt::format_to(w, "\n{}", registered.render(style));
  }

  if (!report.limits.empty() || report.suppressed_findings > 0 || !dump.model.warnings.empty()) out += '\n';
  for (const HuntLimit& l : report.limits) {
    fmt::format_to(w, "  {} {}: {}\n", style.paint("limit:", Tone::yellow), l.detector, l.what);
  }
  if (report.suppressed_findings > 0) {
    fmt::format_to(w, "  baseline: {} finding{} of {} accepted key{} left out\n", report.suppressed_findings,
                   plural(report.suppressed_findings), report.suppressed_keys.size(),
                   plural(report.suppressed_keys.size()));
  }
  for (const Warning& warning : dump.model.warnings) {
    fmt::format_to(w, "  {} offset {:#x}: {}\n", style.paint("warning:", Tone::yellow), warning.file_offset,
                   warning.message);
  }
  fmt::format_to(w, "\n{}\n", verdict_line(dump, report, style));
  return out;
}

}  // namespace dumpguard
