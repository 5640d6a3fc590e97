// `dumpguard users add|list|remove`: the users file of `dumpguard serve`. add prints the new
// token once, on stdout, and stores only its SHA-256; the file is written atomically, mode 0600.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "io/whole_file.hpp"
#include "serve/api_token.hpp"
#include "serve/users_file.hpp"

namespace dumpguard::cli {

namespace {

std::optional<std::vector<UserEntry>> load(const std::string& path, bool missing_ok) {
  auto users = load_users_file(path, missing_ok);
  if (!users) {
    print_stderr("dumpguard: {}\n", users.error().message);
    return std::nullopt;
  }
  return std::move(*users);
}

bool save(const std::string& path, const std::vector<UserEntry>& users) {
  const Status written = write_file_atomically(path, format_users_file(users));
  if (!written) {
    print_stderr("dumpguard: {}: {}; the users file is unchanged\n", path, written.error().message);
    return false;
  }
  return true;
}

}  // namespace

int run_users_add(const UsersCliOptions& options) {
  if (!valid_user_name(options.name)) {
    print_stderr("dumpguard: user name '{}' is not 1 to {} characters of A-Z a-z 0-9 . _ @ - starting with a letter "
                 "or digit\n",
                 options.name.substr(0, 80), kMaxUserName);
    return kExitError;
  }
  const auto role = parse_role(options.role);
  if (!role) {
    print_stderr("dumpguard: --role {}: expected list, download or quarantine\n", options.role.substr(0, 80));
    return kExitError;
  }
  auto users = load(options.users, true);
  if (!users) return kExitError;
  if (std::any_of(users->begin(), users->end(), [&](const UserEntry& u) { return u.name == options.name; })) {
    print_stderr("dumpguard: user {} exists in {}; remove it first to give it a new token\n", options.name, options.users);
    return kExitError;
  }
  if (users->size() >= kMaxUsers) {
    print_stderr("dumpguard: {} already holds {} users, the most a users file may\n", options.users, kMaxUsers);
    return kExitError;
  }
  if (!options.cert.empty()) {
    auto fingerprint = certificate_file_sha256(options.cert);
    if (!fingerprint) {
      print_stderr("dumpguard: {}\n", fingerprint.error().message);
      return kExitError;
    }
    users->push_back(UserEntry{options.name, *role, *fingerprint, Credential::certificate});
    if (!save(options.users, *users)) return kExitError;
    print_stderr("dumpguard: user {} added to {} with role {}, by the client certificate with SHA-256 {}\n",
                 options.name, options.users, to_string(*role), *fingerprint);
    return kExitOk;
  }
  auto token = generate_api_token();
  if (!token) {
    print_stderr("dumpguard: {}\n", token.error().message);
    return kExitError;
  }
  users->push_back(UserEntry{options.name, *role, api_token_hash(*token), Credential::token});
  if (!save(options.users, *users)) {
    OPENSSL_cleanse(token->data(), token->size());
    return kExitError;
  }
  // The only time the token is shown: stdout alone, so `TOKEN=$(dumpguard users add ...)` works.
  fmt::print("{}\n", *token);
  std::fflush(stdout);
  OPENSSL_cleanse(token->data(), token->size());
  print_stderr("dumpguard: user {} added to {} with role {}; the token above is shown once and stored only as its "
               "SHA-256\n",
               options.name, options.users, to_string(*role));
  return kExitOk;
}

int run_users_list(const UsersCliOptions& options) {
  auto users = load(options.users, false);
  if (!users) return kExitError;
  for (const auto& u : *users) {
    fmt::print("{} {}{}\n", u.name, to_string(u.role), u.credential == Credential::certificate ? " certificate" : "");
  }
  return kExitOk;
}

int run_users_remove(const UsersCliOptions& options) {
  auto users = load(options.users, false);
  if (!users) return kExitError;
  const auto before = users->size();
  std::erase_if(*users, [&](const UserEntry& u) { return u.name == options.name; });
  if (users->size() == before) {
    print_stderr("dumpguard: no user {} in {}\n", options.name.substr(0, 80), options.users);
    return kExitError;
  }
  if (!save(options.users, *users)) return kExitError;
  print_stderr("dumpguard: user {} removed from {}; a running serve refuses its token from the next request\n",
               options.name, options.users);
  return kExitOk;
}

}  // namespace dumpguard::cli
