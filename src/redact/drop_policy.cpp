#include "redact/drop_policy.hpp"

#include <fmt/format.h>

namespace dumpguard {

namespace {
Finding dropped(std::uint64_t file_offset, std::uint64_t length, const std::string& policy,
                std::optional<std::uint64_t> vaddr, std::optional<std::size_t> region) {
  Finding f;
  f.detector = "drop";
  f.kind = "dropped-" + policy;
  f.encoding = "region";
  f.file_offset = file_offset;
  f.length = length;
  f.vaddr = vaddr;
  f.region = region;
  f.severity = Severity::low;
  f.proof = fmt::format("removed by the --drop {} policy", policy);
  return f;
}

bool stack_only_keeps(RegionKind kind) {
  return kind == RegionKind::stack || kind == RegionKind::module || kind == RegionKind::metadata;
}
}  // namespace

Result<std::vector<Finding>> drop_findings(const DumpModel& model, const std::vector<std::string>& policies) {
  std::vector<Finding> out;
  for (const std::string& policy : policies) {
    if (policy == "env") {
      for (const EnvironmentBlock& e : model.environment) out.push_back(dropped(e.file_offset, e.size, policy, e.vaddr, {}));
      continue;
    }
    bool known = policy == "heap";
    for (RegionKind kind : {RegionKind::stack, RegionKind::module, RegionKind::file_mapping, RegionKind::heap,
                            RegionKind::anon, RegionKind::metadata, RegionKind::unknown}) {
      known = known || policy == to_string(kind);
    }
    if (!known) {
      return Error{Errc::bad_value, 0,
                   fmt::format("--drop {}: not a policy (heap, env, or a region kind: stack, module, file-mapping, "
                               "heap, anon, metadata, unknown)",
                               policy)};
    }
    for (std::size_t i = 0; i < model.regions.size(); ++i) {
      const Region& r = model.regions[i];
      const bool drop = policy == "heap" ? !stack_only_keeps(r.kind) : policy == to_string(r.kind);
      if (drop && r.size > 0) out.push_back(dropped(r.file_offset, r.size, policy, r.vaddr, i));
    }
  }
  return out;
}

}  // namespace dumpguard
