#include "serve/users_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <set>

#include "io/unique_fd.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::string_view kCertPrefix = "cert-sha256:";
constexpr std::size_t kMaxLine = 512;

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Error line_error(std::size_t line, const std::string& what) {
  return Error{Errc::bad_value, 0, fmt::format("line {}: {}", line, what)};
}

// The line's fields, split at runs of spaces and tabs; at most 4 are looked at.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size() && out.size() < 4) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    const std::size_t from = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    out.push_back(line.substr(from, i - from));
  }
  return out;
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::list: return "list";
    case Role::download: return "download";
    case Role::quarantine: return "quarantine";
  }
  return "list";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role r : {Role::list, Role::download, Role::quarantine}) {
    if (text == to_string(r)) return r;
  }
  return std::nullopt;
}

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserName) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '@' || c == '-'; });
}

Result<std::vector<UserEntry>> parse_users_file(std::string_view text) {
  if (text.size() > kMaxUsersFileBytes) {
    return Error{Errc::limit, 0, fmt::format("larger than {} bytes; a users file is far smaller", kMaxUsersFileBytes)};
  }
  std::vector<UserEntry> users;
  std::set<std::string, std::less<>> names;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine) return line_error(line_no, fmt::format("longer than {} bytes", kMaxLine));
    if (line.find('\0') != std::string_view::npos) return line_error(line_no, "holds a NUL byte");
    const auto fields = fields_of(line);
    if (fields.empty() || fields.front().front() == '#') continue;
    if (fields.size() != 3) {
      return line_error(line_no, fmt::format("expected three fields, NAME ROLE sha256:HEX; found {}{}",
                                             fields.size() > 3 ? "more" : std::to_string(fields.size()),
                                             fields.size() == 1 ? " field" : " fields"));
    }
    UserEntry user;
    if (!valid_user_name(fields[0])) {
      return line_error(line_no, "the user name is not 1 to 64 characters of A-Z a-z 0-9 . _ @ - (starting with a letter or digit)");
    }
    user.name = std::string(fields[0]);
    const auto role = parse_role(fields[1]);
    if (!role) return line_error(line_no, fmt::format("user {}: the role is not list, download or quarantine", user.name));
    user.role = *role;
    std::string_view hash = fields[2];
    if (hash.substr(0, kCertPrefix.size()) == kCertPrefix) {
      user.credential = Credential::certificate;
      hash.remove_prefix(kCertPrefix.size());
    } else if (hash.substr(0, kHashPrefix.size()) == kHashPrefix) {
      hash.remove_prefix(kHashPrefix.size());
    } else {
      hash = {};
    }
    if (hash.size() != 64 || !is_lower_hex(hash)) {
      return line_error(line_no, fmt::format("user {}: the credential is not sha256: or cert-sha256: and 64 lower-case hex "
                                             "digits",
                                             user.name));
    }
    user.sha256 = std::string(hash);
    if (!names.insert(user.name).second) return line_error(line_no, fmt::format("user {} is listed twice", user.name));
    if (users.size() == kMaxUsers) return line_error(line_no, fmt::format("more than {} users", kMaxUsers));
    users.push_back(std::move(user));
  }
  return users;
}

std::string format_users_file(const std::vector<UserEntry>& users) {
  std::string out =
      "# dumpguard serve users: NAME ROLE sha256:HEX (the SHA-256 of the user's API token, never the token)\n"
      "# or NAME ROLE cert-sha256:HEX (the SHA-256 of the user's client certificate, DER).\n"
      "# Roles: list, download (and list), quarantine (and download). Written by `dumpguard users`.\n";
  for (const auto& u : users) {
    out += fmt::format("{} {} {}{}\n", u.name, to_string(u.role),
                       u.credential == Credential::certificate ? kCertPrefix : kHashPrefix, u.sha256);
  }
  return out;
}

Result<std::vector<UserEntry>> load_users_file(const std::string& path, bool missing_ok) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT && missing_ok) return std::vector<UserEntry>{};
    return os_error(fmt::format("cannot open users file {}", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error(fmt::format("cannot stat users file {}", path));
  if (!S_ISREG(st.st_mode)) return Error{Errc::bad_value, 0, fmt::format("users file {}: not a regular file", path)};
  std::string text(kMaxUsersFileBytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(fmt::format("cannot read users file {}", path));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  auto users = parse_users_file(text);
  if (!users) return Error{users.error().code, 0, fmt::format("users file {}: {}", path, users.error().message)};
  return users;
}

}  // namespace dumpguard
