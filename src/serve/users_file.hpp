// The users file of `dumpguard serve`: who may use the server, in which role, and how they
// prove it: the SHA-256 of their API token (never the token), "NAME ROLE sha256:HEX", or of
// their client certificate (DER), "NAME ROLE cert-sha256:HEX". One user a line; lines starting
// with '#' and blank lines are ignored. `dumpguard users` writes it; serve reads it.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"

namespace dumpguard {

// What a user may do. Each role may do what the ones before it may.
enum class Role {
  list,        // list the released dumps
  download,    // and download them
  quarantine,  // and list and download quarantined dumps (their unredacted originals)
};

std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);
// Whether `role` includes what `needed` allows.
inline bool role_allows(Role role, Role needed) { return static_cast<int>(role) >= static_cast<int>(needed); }

enum class Credential {
  token,        // sha256: the SHA-256 of the API token's text
  certificate,  // cert-sha256: the SHA-256 of the client certificate's DER bytes
};

struct UserEntry {
  std::string name;
  Role role = Role::list;
  std::string sha256;  // 64 lower-case hex digits
  Credential credential = Credential::token;
};

// Bounds on a users file, so that a hostile one costs little: it is read whole.
inline constexpr std::size_t kMaxUsersFileBytes = 1u << 20;
inline constexpr std::size_t kMaxUsers = 10000;
inline constexpr std::size_t kMaxUserName = 64;

// A user name: 1 to 64 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit. Names
// go into audit records, environment variables of the alert command and messages unquoted.
bool valid_user_name(std::string_view name);

// The users in `text`, in file order. Errors name the line and what was wrong with it, never
// quote the line (a hash is not a token, but nothing in the file is for messages).
Result<std::vector<UserEntry>> parse_users_file(std::string_view text);

// The file's text for `users`: a header comment, then one line each.
std::string format_users_file(const std::vector<UserEntry>& users);

// Reads and parses the file at `path` (at most kMaxUsersFileBytes; O_NOFOLLOW). A missing file
// is an error unless `missing_ok`, when it is an empty list.
Result<std::vector<UserEntry>> load_users_file(const std::string& path, bool missing_ok = false);

}  // namespace dumpguard
