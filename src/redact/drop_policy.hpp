// Redaction policies on top of findings (`redact --drop`): whole kinds of memory
// the team does not want to leave production, whatever the scan found in them.
//   heap  every region that is neither a thread's stack, a module image nor metadata: what a
//         stack-only dump (MiniDumpNormal) would not have held;
//   env   the process's environment blocks (DumpModel::environment);
//   KIND  every region of that kind (stack, module, file-mapping, heap, anon, metadata, unknown).
// Dropped bytes are filled like findings, so the copy keeps its size and layout.
#pragma once
#include <string>
#include <vector>

#include "dumpguard/dump.hpp"
#include "dumpguard/finding.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

// One finding per dropped range (detector "drop", kind "dropped-<policy>"), for the plan and
// the report; an unknown policy name is an error.
Result<std::vector<Finding>> drop_findings(const DumpModel& model, const std::vector<std::string>& policies);

}  // namespace dumpguard
