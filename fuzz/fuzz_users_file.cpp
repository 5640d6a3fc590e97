// libFuzzer target for serve's users file parser: the input is a users file. Invariants beyond
// "no crash": a parsed file has at most kMaxUsers users, each with a valid name and a 64-digit
// hash, no name twice; formatting it and parsing that again gives the same users; and no
// token (or certificate digest) matches a user but a token (certificate) entry holding its hash.
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
    if (!valid_user_name(u.name) || u.sha256.size() != 64 || !names.insert(u.name).second) std::abort();
  }
  auto again = parse_users_file(format_users_file(*users));
  if (!again || again->size() != users->size()) std::abort();
  for (std::size_t i = 0; i < users->size(); ++i) {
    const auto& a = (*users)[i];
    const auto& b = (*again)[i];
    if (a.name != b.name || a.role != b.role || a.sha256 != b.sha256 || a.credential != b.credential) std::abort();
  }
  // The input itself as a token: it matches a user only when that user's hash is its hash.
  if (const UserEntry* u = find_token_user(*users, text)) {
    if (u->sha256 != api_token_hash(text) || u->credential != Credential::token) std::abort();
  }
  // The input's first 64 bytes as a certificate digest: only a certificate entry holding them.
  if (const UserEntry* u = find_certificate_user(*users, text.substr(0, 64))) {
    if (u->sha256 != text.substr(0, 64) || u->credential != Credential::certificate) std::abort();
  }
  return 0;
}
