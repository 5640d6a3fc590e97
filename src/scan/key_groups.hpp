// After the detectors: merge duplicate findings, verify scalars whose public key the dump
// holds independently, drop spans already inside a larger span of the same key, sort, and
// group findings by key.
#pragma once
#include <string>
#include <vector>

#include "crypto/public_key.hpp"
#include "dumpguard/finding.hpp"

namespace dumpguard {

void settle_findings(std::vector<Finding>& findings, const KeyRing& ring);
std::vector<KeyGroup> group_keys(const std::vector<Finding>& findings, const KeyRing& ring);
// "rsa-2048", "ec-p256", "ed25519", "x25519".
std::string key_type_name(const PublicKey& key);

}  // namespace dumpguard
