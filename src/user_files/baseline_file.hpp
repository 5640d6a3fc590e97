// `scan --baseline FILE`: findings a team has reviewed and accepted, as gitleaks' baseline
// does. The file is an earlier `scan --json` report (one object, or
// the array a scan of several dumps prints); every key fingerprint in its keys[] is accepted.
// Fingerprints of symmetric secrets are keyed, so a baseline holds only on the installation
// (fingerprint key) that made it.
#pragma once
#include <set>
#include <string>

#include "dumpguard/result.hpp"

namespace dumpguard {

Result<std::set<std::string>> read_baseline_file(const std::string& path);

}  // namespace dumpguard
