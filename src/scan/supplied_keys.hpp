// The report's promise for each supplied key: "present", with every location and
// the proof, or "absent", saying exactly what was searched; "not searched" where no hunt for
// that key type exists yet, so an auditor is never told "absent" without a search behind it.
#pragma once
#include <vector>

#include "crypto/public_key.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {

// Parses the supplied SPKI DER into public keys (unparseable ones are skipped).
std::vector<PublicKey> supplied_public_keys(const std::vector<SuppliedKey>& supplied);

std::vector<SuppliedKeyStatus> supplied_status(const std::vector<SuppliedKey>& supplied,
                                               const std::vector<PublicKey>& keys, const ScanReport& report,
                                               const Dump& dump, bool exhaustive);

// For each supplied token: present when the bytes of an hmac-key finding verify it (read back
// from the dump, never kept), absent otherwise, with what the HMAC hunt searched.
std::vector<SuppliedTokenStatus> supplied_token_status(const std::vector<std::string>& tokens,
                                                       const ScanReport& report, const Dump& dump);

// For each registered secret: present with its findings, or absent with what was searched.
std::vector<SuppliedKeyStatus> registered_status(const std::vector<RegisteredSecret>& secrets,
                                                 const ScanReport& report, const Dump& dump);

}  // namespace dumpguard
