// Turning a parsed private key into a finding and a public key, shared by the detectors
// that meet private keys in different wrappers (raw DER, PEM, ...).
#pragma once
#include <string_view>

#include "crypto/private_key.hpp"
#include "detect/detector.hpp"

namespace dumpguard {

// Checks `key`, then reports the span [offset, offset + length) of the area as one
// finding of that key, and hands its public key (marked derived) to the sink. Returns false,
// reporting nothing, when an EC scalar or Edwards seed does not look random: a DER prefix
// left in a template (a library constant followed by zeros and pointers) is not a key.
bool report_private_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, const ParsedPrivateKey& key, std::string_view detector,
                        std::string_view encoding, FindingSink& sink);

// Reports the span as one finding of a key whose check is already done (for layouts that
// need their own check, such as an RSA key without d), and hands its public key (marked
// derived) to the sink, and its private parts (RSA numbers in `parts`, an EC scalar or an
// Edwards seed in `scalar`) as secrets, so that the closure finds their copies elsewhere.
void report_checked_key(const ScanContext& context, const ScanArea& area, std::uint64_t offset,
                        std::uint64_t length, KeyType type, KeyCheck check, std::string_view detector,
                        std::string_view encoding, FindingSink& sink, const RsaParts* parts = nullptr,
                        ByteSpan scalar = {});

// "rsa-private-key", "ec-private-key", "ed25519-private-key", "x25519-private-key".
const char* private_key_kind(KeyType type);

}  // namespace dumpguard
