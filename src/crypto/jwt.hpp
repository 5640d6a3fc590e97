// JSON Web Tokens signed with HMAC (RFC 7519, RFC 7518 3.2: HS256, HS384, HS512). A token
// is public evidence: its signature is what proves a candidate key, by verifying under it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dumpguard {

struct MacToken {
  std::string alg;                      // "HS256", "HS384", "HS512"
  std::string signing_input;            // base64url(header) "." base64url(payload)
  std::vector<std::uint8_t> signature;  // the MAC
  std::string origin;                   // where the token came from
};

// The longest token parse_hmac_jwt reads.
inline constexpr std::size_t kMaxJwt = 16 * 1024;
// The compact JWS at the start of `text` (it may continue past the token), when its header
// names an HMAC algorithm. `length` receives the token's length.
std::optional<MacToken> parse_hmac_jwt(std::string_view text, std::size_t& length);

// True when HMAC(alg, key, signing input) equals the token's signature.
bool verifies(const MacToken& token, std::span<const std::uint8_t> key);

// The same test for a hunt that makes millions of them: the HMAC implementation is fetched
// once and its context reused, where the one-shot HMAC() fetches by name and allocates every
// time (about half the hunt's time, measured in bench/RESULTS.md).
class MacVerifier {
 public:
  MacVerifier();
  ~MacVerifier();
  MacVerifier(const MacVerifier&) = delete;
  MacVerifier& operator=(const MacVerifier&) = delete;
  bool verifies(const MacToken& token, std::span<const std::uint8_t> key);

 private:
  struct State;
  State* state_;
};

}  // namespace dumpguard
