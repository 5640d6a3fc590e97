#include "report/redact_json.hpp"

#include <fmt/format.h>

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

std::string redact_text(const Dump& input, const RedactOutcome& outcome, const Fill& fill) {
  std::uint64_t bytes = 0;
  for (const ByteRange& r : outcome.overwritten) bytes += r.size;
  return fmt::format("{}: {} findings in {} keys overwritten ({} bytes in {} spans, fill {}) -> {}\n"
                     "verification scan of {}: {}\n",
                     input.source.path, outcome.spans.size(), outcome.keys, bytes, outcome.overwritten.size(),
                     fill.name, outcome.output_path, outcome.output_path, redact_verdict(outcome));
}

}  // namespace dumpguard
