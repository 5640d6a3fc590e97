// Detector: OpenSSH keys as they sit decoded in memory. The binary "openssh-key-v1"
// container (PROTOCOL.key), bare private key fields in the agent protocol's layout, and
// SSH wire-format public keys, which are harvested for the hunts.
#pragma once
#include <memory>
#include <string_view>

#include "crypto/openssh_key.hpp"
#include "detect/detector.hpp"

namespace dumpguard {

std::unique_ptr<StructureDetector> make_openssh_detector();

// Reports a parsed openssh-key-v1 container spanning [offset, offset + length) of the area:
// a checked private key, an encrypted one (severity low, grouped under its clear public
// key), or a container whose private section could not be read (severity high). `blob` is
// the decoded container, for a keyed fingerprint when no public key parsed. The PEM
// detector calls this for "OPENSSH PRIVATE KEY" blocks too.
void report_openssh_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, const OpensshKey& key, ByteSpan blob, std::string_view detector,
                        std::string_view encoding, FindingSink& sink);

}  // namespace dumpguard
