#include "rules/placeholder.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace dumpguard::rules {

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool icontains(std::string_view s, std::string_view word) {
  return std::search(s.begin(), s.end(), word.begin(), word.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != s.end();
}

// $NAME, ${...}, $(...), %NAME%, %(name)s, {{ ... }}, ${{ ... }}, #{...}, @NAME@, <...>: the whole value
// is a reference to something else, in shell, make, Windows cmd, Go/Jinja/Helm templates,
// GitHub Actions, Ruby, autoconf, or documentation.
bool delimited_reference(std::string_view s) {
  if (s.size() < 2) return false;
  const char first = s.front(), last = s.back();
  if (first == '$') {
    if (s[1] == '{' || s[1] == '(') return true;  // a value cut at a quote or space is still one
    return std::all_of(s.begin() + 1, s.end(), ident_char);
  }
  if (first == '%' && last == '%') return std::all_of(s.begin() + 1, s.end() - 1, ident_char);
  if (starts_with(s, "%(") && s.find(")s") != std::string_view::npos) return true;  // Python configparser
  if (starts_with(s, "{{") || starts_with(s, "#{") || starts_with(s, "<%")) return true;
  if (first == '@' && last == '@') return std::all_of(s.begin() + 1, s.end() - 1, ident_char);
  if (first == '<' && last == '>') return true;
  if (first == '<' && s.size() >= 5 && std::all_of(s.begin() + 1, s.end(), [](char c) {
        return ident_char(c) || c == '-' || c == ' ';
      })) {
    return true;  // "<your-api-key" cut before its '>'
  }
  return false;
}

// Code that reads the secret from elsewhere: the value is an expression, not the secret.
bool code_reference(std::string_view s) {
  static constexpr std::string_view kPrefixes[] = {
      "env.",       "env[",        "ENV[",         "ENV.",       "process.env", "os.environ", "os.getenv", "getenv(",
      "System.getenv", "Environment.GetEnvironmentVariable", "import.meta.env", "Deno.env",   "$env:",     "secrets.",
      "vars.",      "var.",        "settings.",    "config.",    "self.",       "this.",      "params.",   "request.",
      "props.",     "args.",       "opts.",        "options."};
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes), [&](std::string_view p) { return starts_with(s, p); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Stand-ins people type where a secret goes. Each word is long or unlikely enough that a
// random token holds it with negligible probability (five x's in base62: about 2e-6).
bool placeholder(std::string_view s) {
  // A mask of one character: ********, xxxxxxxx, 00000000, ........
  if (std::string_view("xX*0.#-").find(s.front()) != std::string_view::npos &&
      std::all_of(s.begin(), s.end(), [&](char c) { return c == s.front(); })) {
    return true;
  }
  static constexpr std::string_view kWords[] = {
      "xxxxx",       "*****",    "changeme", "change_me", "changeit",  "placeholder", "replace_me",
      "replace-me",  "replaceme", "your_",   "your-",     "yourpassword", "yoursecret", "redacted"};
  if (std::any_of(std::begin(kWords), std::end(kWords), [&](std::string_view w) { return icontains(s, w); })) return true;
  // The whole value is the name of what goes there, as documentation writes
  // "https://user:password@host" (the Python standard library's docstrings do).
  static constexpr std::string_view kNames[] = {
      "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "api-key", "key",
      "mypassword", "mysecret", "pa55word", "username", "dummy", "example"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](std::string_view w) { return iequals(s, w); });
}

// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE names a resource (a Secrets Manager secret, a
// KMS key, an IAM role); it is public, and its "secret:NAME" part is not a secret.
bool in_arn(std::string_view subject, std::size_t begin) {
  std::size_t word = begin;
  while (word > 0 && begin - word < 512) {
    const char c = subject[word - 1];
    if (std::isspace(static_cast<unsigned char>(c)) || std::string_view("\"'`=,;([{<>").find(c) != std::string_view::npos ||
        c == '\0') {
      break;
    }
    --word;
  }
  return starts_with(subject.substr(word), "arn:aws");  // partitions aws, aws-cn, aws-us-gov
}

}  // namespace

bool placeholder_or_reference(std::string_view subject, std::size_t begin, std::size_t end) {
  if (begin >= end || end > subject.size()) return false;
  const std::string_view s = subject.substr(begin, end - begin);
  return delimited_reference(s) || code_reference(s) || placeholder(s) || in_arn(subject, begin);
}

}  // namespace dumpguard::rules
