// Public keys the user supplies (--pubkey FILE, --keyring DIR): the keys the organisation
// must know are or are not in a dump. Files are read here, never by detectors, which see only
// the keys: PEM or DER public keys, X.509 certificates and PEM bundles, OpenSSH .pub and
// authorized_keys lines, and JWK / JWKS documents.
#pragma once
#include <string>
#include <vector>

#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {

// Every public key in the file, as SubjectPublicKeyInfo DER. A file with no key is an error.
Result<std::vector<SuppliedKey>> load_public_key_file(const std::string& path);
// Every regular file in the directory (not recursive), in name order.
Result<std::vector<SuppliedKey>> load_keyring(const std::string& directory);

}  // namespace dumpguard
