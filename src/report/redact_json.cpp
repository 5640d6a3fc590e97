#include "report/redact_json.hpp"

#include "report/masked_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace dumpguard {

std::string redact_verdict(const RedactOutcome& outcome) {
  if (!outcome.verification.findings.empty()) return "findings";
  if (!outcome.verification_complete) return "no findings; the redacted copy was only partly parsed";
  return outcome.verification.limits.empty() ? "clean" : "no findings; a hunt stopped at its budget";
}

nlohmann::ordered_json redact_json(const Dump& input, const RedactOutcome& outcome, const Fill& fill) {
  nlohmann::ordered_json j;
  j["schema"] = kRedactSchema;
  j["input"] = {
      {"path", input.source.path},
      {"compression", input.source.compression.empty() ? nlohmann::ordered_json(nullptr)
                                                       : nlohmann::ordered_json(input.source.compression)},
      {"stored_size", input.source.stored_size},
      {"size", input.bytes().size()},
      {"sha256", outcome.input_sha256},
  };
  j["output"] = {
      {"path", outcome.output_path},
      {"in_place", outcome.in_place},
      {"compression", outcome.output_compression.empty() ? nlohmann::ordered_json(nullptr)
                                                          : nlohmann::ordered_json(outcome.output_compression)},
      {"size", outcome.output_size},
      {"sha256", outcome.output_sha256},
  };
  j["fill"] = fill.name;
  std::uint64_t bytes = 0;
  for (const ByteRange& r : outcome.overwritten) bytes += r.size;
  j["overwritten"] = {{"spans", outcome.overwritten.size()}, {"bytes", bytes}};
  j["keys"] = outcome.keys;
  auto& spans = j["spans"] = nlohmann::ordered_json::array();
  for (const RedactedSpan& s : outcome.spans) {
    spans.push_back({{"file_offset", s.file_offset},
                     {"length", s.length},
                     {"kind", s.kind},
                     {"detector", s.detector},
                     {"key", s.key}});
  }
  if (outcome.layout) {
    const LayoutChange& c = *outcome.layout;
    auto removed = nlohmann::ordered_json::array();
    for (const RemovedKind& k : c.removed) {
      removed.push_back({{"kind", k.kind}, {"regions", k.regions}, {"trimmed", k.trimmed}, {"bytes", k.bytes}});
    }
    j["layout"] = {{"changed", true},
                   {"as", c.as},
                   {"offsets", "spans[] and overwritten are offsets in the input"},
                   {"kept_memory", {{"regions", c.kept_regions}, {"bytes", c.kept_bytes}}},
                   {"removed", removed},
                   {"replaced_streams", c.replaced_streams}};
  } else {
    j["layout"] = {{"changed", false}};
    if (!outcome.layout_note.empty()) j["layout"]["note"] = outcome.layout_note;
  }
  auto limits = nlohmann::ordered_json::array();
  for (const HuntLimit& l : outcome.verification.limits) limits.push_back({{"detector", l.detector}, {"what", l.what}});
  j["verification"] = {
      {"verdict", redact_verdict(outcome)},
      {"findings", outcome.verification.findings.size()},
      {"bytes_searched", outcome.verification.bytes_searched},
      {"detectors", outcome.verification.detectors},
      {"limits", limits},
  };
  return j;
}

std::string redact_text(const Dump& input, const RedactOutcome& outcome, const Fill& fill, const TextStyle& style) {
  const auto plural = [](std::uint64_t n) { return n == 1 ? "" : "s"; };
  std::string out;
  auto w = std::back_inserter(out);
  fmt::format_to(w, "{}: {} ({}) -> {}{}\n", style.paint(display_path(input.source.path), Tone::bold), to_string(input.model.format),
                 input.model.arch, style.paint(outcome.output_path, Tone::bold),
                 outcome.in_place ? " (in place)" : "");

  // What was overwritten, one row per key (a policy's ranges: one row per policy).
  struct Row {
    std::string key, kind, detector;
    std::size_t spans = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<Row> rows;
  for (const RedactedSpan& s : outcome.spans) {
    const std::string key = s.key.empty() ? (s.detector == "drop" ? "(policy)" : "-") : s.key;
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) {
      return r.key == key && (key != "(policy)" && key != "-" ? true : r.kind == s.kind);
    });
    if (it == rows.end()) {
      rows.push_back({key, s.kind, s.detector});
      it = rows.end() - 1;
    }
    ++it->spans;
    it->bytes += s.length;
  }
  if (!rows.empty()) {
    TextTable table({"key", "kind", "detector", "spans", "bytes"});
    for (const Row& r : rows) {
      table.add({{r.key}, {r.kind}, {r.detector}, {std::to_string(r.spans)}, {std::to_string(r.bytes)}});
    }
    fmt::format_to(w, "\n{}", table.render(style));
  }

  std::uint64_t bytes = 0;
  for (const ByteRange& r : outcome.overwritten) bytes += r.size;
  TextTable summary({"", ""});  // labels and values
  const std::size_t findings = static_cast<std::size_t>(std::count_if(
      outcome.spans.begin(), outcome.spans.end(), [](const RedactedSpan& s) { return s.detector != "drop"; }));
  summary.add({{"findings"}, {fmt::format("{} finding{} in {} key{}", findings, plural(findings), outcome.keys,
                                          plural(outcome.keys))}});
  summary.add({{"overwritten"}, {fmt::format("{} byte{} in {} span{}, fill {}", bytes, plural(bytes),
                                             outcome.overwritten.size(), plural(outcome.overwritten.size()),
                                             fill.name)}});
  if (outcome.layout) {
    const LayoutChange& c = *outcome.layout;
    std::size_t removed_regions = 0;
    std::uint64_t removed_bytes = 0;
    std::string kinds;
    for (const RemovedKind& k : c.removed) {
      removed_regions += k.regions;
      removed_bytes += k.bytes;
      kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", k.regions + k.trimmed, k.kind);
    }
    summary.add({{"layout"}, {fmt::format("{}: {} stack range{} kept ({}); {} range{} left out whole, {} removed "
                                          "({})",
                                          c.as, c.kept_regions, plural(c.kept_regions), human_bytes(c.kept_bytes),
                                          removed_regions, plural(removed_regions), human_bytes(removed_bytes),
                                          kinds.empty() ? "none" : kinds)}});
  } else {
    summary.add({{"layout"}, {outcome.layout_note.empty() ? "the input's (same size and offsets)"
                                                          : "the input's: " + outcome.layout_note}});
  }
  summary.add({{"written"}, {fmt::format("{} ({}{}, sha256 {})", outcome.output_path, human_bytes(outcome.output_size),
                                         outcome.output_compression.empty() ? "" : ", " + outcome.output_compression,
                                         outcome.output_sha256)}});
  summary.add({{"verification"},
               {fmt::format("{} finding{} in {} searched by {} detectors", outcome.verification.findings.size(),
                            plural(outcome.verification.findings.size()),
                            human_bytes(outcome.verification.bytes_searched),
                            outcome.verification.detectors.size())}});
  fmt::format_to(w, "\n{}", summary.render(style));
  const std::string v = redact_verdict(outcome);
  fmt::format_to(w, "\nverdict: {}\n",
                 style.paint(v == "clean" ? fmt::format("clean: {} written and verified by a rescan", outcome.output_path)
                                          : v,
                             v == "clean" ? Tone::green_bold : Tone::yellow));
  return out;
}

}  // namespace dumpguard
