// API tokens of `dumpguard serve`: 256 random bits, shown once to the user they are made for,
// and kept only as their SHA-256. A token is that hash's preimage: with 256 bits of entropy no
// salt or slow hash is needed (nothing can be guessed), and checking one costs one SHA-256.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"
#include "serve/users_file.hpp"

namespace dumpguard {

// "dgt_" and 64 hex digits: the prefix lets secret scanners (and dumpguard's own rules) tell a
// leaked token from other hex.
inline constexpr std::string_view kTokenPrefix = "dgt_";
inline constexpr std::size_t kTokenSize = 4 + 64;

// A new token from the system's random source.
Result<std::string> generate_api_token();

// SHA-256 of the token's text, hex: what the users file stores.
std::string api_token_hash(std::string_view token);

// The user whose stored hash is the token's, or nothing. Every entry is compared, in constant
// time (CRYPTO_memcmp), so neither the time taken nor where it stops tells which user or how
// much of a hash matched. A token not in the token's form matches nobody; certificate entries
// are never a token's.
const UserEntry* find_token_user(const std::vector<UserEntry>& users, std::string_view token);

// The user whose certificate entry holds `cert_sha256` (64 hex digits: SHA-256 of the client
// certificate's DER, as the TLS handshake verified it), compared in constant time as above.
const UserEntry* find_certificate_user(const std::vector<UserEntry>& users, std::string_view cert_sha256);

// SHA-256 (hex) of a certificate file's certificate, PEM or DER, as `users add --cert` stores it.
Result<std::string> certificate_file_sha256(const std::string& path);

}  // namespace dumpguard
