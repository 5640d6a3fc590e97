// libFuzzer target for serve's users file parser: the input is a users file. Invariants beyond
// "no crash": a parsed file has at most kMaxUsers users, each with a valid name and a 64-digit
// hash, no name twice; formatting it and parsing that again gives the same users; and no
// token matches a user but one whose hash is the token's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "serve/api_token.hpp"
#include "serve/users_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dumpguard;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto users = parse_users_file(text);
  if (!users) {
    if (users.error().message.empty()) std::abort();
    return 0;
  }
  if (users->size() > kMaxUsers) std::abort();
  std::set<std::string> names;
  for (const auto& u : *users) {
    if (!valid_user_name(u.name) || u.token_sha256.size() != 64 || !names.insert(u.name).second) std::abort();
  }
  auto again = parse_users_file(format_users_file(*users));
  if (!again || again->size() != users->size()) std::abort();
  for (std::size_t i = 0; i < users->size(); ++i) {
    const auto& a = (*users)[i];
    const auto& b = (*again)[i];
    if (a.name != b.name || a.role != b.role || a.token_sha256 != b.token_sha256) std::abort();
  }
  // The input itself as a token: it matches a user only when that user's hash is its hash.
  if (const UserEntry* u = find_token_user(*users, text)) {
    if (u->token_sha256 != api_token_hash(text)) std::abort();
  }
  return 0;
}
