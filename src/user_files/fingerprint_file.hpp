// The fingerprint file (`dumpguard fingerprint -o FILE`, `scan --fingerprints FILE`):
// "format": "dumpguard-fingerprints/1", documented in docs/commands/fingerprint.md.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {

// One secret to register, read with read(2) into a buffer the caller wipes (no stdio buffer
// keeps a copy). Unless keep_newline, one trailing newline of a text file is dropped, since
// `echo secret > file` adds one. Refuses secrets outside [kMinSecretLength, kMaxSecretLength].
Result<std::vector<std::uint8_t>> read_secret_file(const std::string& path, bool keep_newline);

// The file `dumpguard fingerprint` writes (format "dumpguard-fingerprints/1", docs/commands/fingerprint.md).
std::string write_fingerprint_file(std::span<const std::uint8_t> fingerprint_key,
                                   const std::vector<RegisteredSecret>& secrets);
// Reads a fingerprint file and checks that it was made with this fingerprint key: with another
// key no secret in it could be found, and "absent" would be a false statement.
Result<std::vector<RegisteredSecret>> read_fingerprint_file(const std::string& path,
                                                            std::span<const std::uint8_t> fingerprint_key);
// The same, from the file's text; `path` names it in errors.
Result<std::vector<RegisteredSecret>> parse_fingerprint_file(std::string_view text, const std::string& path,
                                                             std::span<const std::uint8_t> fingerprint_key);

}  // namespace dumpguard
