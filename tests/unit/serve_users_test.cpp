// serve's users file, API tokens and download window: the parser accepts what `users` writes
// and names the line of anything else; a token finds its user only by its exact hash; the
// rate limit and the alert count downloads in a sliding hour. The expected hashes come from
// OpenSSL's one-shot SHA256, not from the code under test.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <set>
#include <string>
#include <vector>

#include "crypto/digest.hpp"
#include "serve/api_token.hpp"
#include "serve/download_window.hpp"
#include "serve/users_file.hpp"

namespace dumpguard {
namespace {

std::string openssl_sha256_hex(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

const std::string kHashA(64, 'a');
const std::string kHashB = std::string(63, '0') + "1";

TEST(ServeUsersFile, ParsesWhatItFormats) {
  const std::vector<UserEntry> users = {{"alice", Role::download, kHashA, Credential::token},
                                        {"bob.ops@example", Role::list, kHashB, Credential::certificate},
                                        {"c-3_x", Role::quarantine, kHashA, Credential::token}};
  const std::string text = format_users_file(users);
  auto parsed = parse_users_file(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  for (std::size_t i = 0; i < users.size(); ++i) {
    EXPECT_EQ((*parsed)[i].name, users[i].name);
    EXPECT_EQ((*parsed)[i].role, users[i].role);
    EXPECT_EQ((*parsed)[i].sha256, users[i].sha256);
    EXPECT_EQ((*parsed)[i].credential, users[i].credential);
  }
  EXPECT_NE(text.find("bob.ops@example list cert-sha256:" + kHashB), std::string::npos);
}

TEST(ServeUsersFile, CommentsBlankLinesTabsAndCrlf) {
  const std::string text = "# header\n\n   \n\talice\t download   sha256:" + kHashA + "\r\n# end";
  auto parsed = parse_users_file(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->front().name, "alice");
}

TEST(ServeUsersFile, EachBadLineIsNamed) {
  const std::string good = "alice download sha256:" + kHashA + "\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {good + "bob list", "line 2: expected three fields"},
      {good + "bob list sha256:" + kHashB + " extra", "line 2: expected three fields"},
      {good + "bob admin sha256:" + kHashB, "line 2: user bob: the role"},
      {good + "bob list sha256:" + std::string(64, 'A'), "line 2: user bob: the credential"},
      {good + "bob list sha256:" + std::string(63, 'a'), "line 2: user bob: the credential"},
      {good + "bob list md5:" + kHashB, "line 2: user bob: the credential"},
      {good + "bob list cert-sha256:" + kHashB.substr(1), "line 2: user bob: the credential"},
      {good + "bob list cert-sha256:sha256:" + kHashB, "line 2: user bob: the credential"},
      {good + "-bob list sha256:" + kHashB, "line 2: the user name"},
      {good + std::string(65, 'b') + " list sha256:" + kHashB, "line 2: the user name"},
      {good + "b\xc3\xa9 list sha256:" + kHashB, "line 2: the user name"},
      {good + good, "line 2: user alice is listed twice"},
      {good + std::string(600, '#'), "line 2: longer than"},
      {good + std::string("bob\0 list", 9), "line 2: holds a NUL"},
  };
  for (const auto& [text, expected] : bad) {
    auto parsed = parse_users_file(text);
    ASSERT_FALSE(parsed) << expected;
    EXPECT_NE(parsed.error().message.find(expected), std::string::npos) << parsed.error().message;
    // Never the hash's text in a message.
    EXPECT_EQ(parsed.error().message.find(kHashB), std::string::npos);
  }
}

TEST(ServeUsersFile, BoundedInSizeAndCount) {
  EXPECT_FALSE(parse_users_file(std::string(kMaxUsersFileBytes + 1, '#')));
  std::string many;
  for (std::size_t i = 0; i <= kMaxUsers; ++i) many += "u" + std::to_string(i) + " list sha256:" + kHashA + "\n";
  ASSERT_LE(many.size(), kMaxUsersFileBytes);
  auto parsed = parse_users_file(many);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("more than"), std::string::npos);
}

TEST(ServeUsersFile, RolesInclude) {
  EXPECT_TRUE(role_allows(Role::quarantine, Role::download));
  EXPECT_TRUE(role_allows(Role::download, Role::list));
  EXPECT_FALSE(role_allows(Role::list, Role::download));
  EXPECT_FALSE(role_allows(Role::download, Role::quarantine));
  for (Role r : {Role::list, Role::download, Role::quarantine}) EXPECT_EQ(parse_role(to_string(r)), r);
  EXPECT_FALSE(parse_role("admin"));
}

TEST(ServeApiToken, NewTokensAreDistinctAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto token = generate_api_token();
    ASSERT_TRUE(token);
    ASSERT_EQ(token->size(), kTokenSize);
    EXPECT_EQ(token->substr(0, 4), "dgt_");
    EXPECT_TRUE(seen.insert(*token).second);
  }
}

TEST(ServeApiToken, HashIsSha256OfTheText) {
  auto token = generate_api_token();
  ASSERT_TRUE(token);
  EXPECT_EQ(api_token_hash(*token), openssl_sha256_hex(*token));
}

TEST(ServeApiToken, FindsOnlyTheExactToken) {
  auto a = generate_api_token();
  auto b = generate_api_token();
  ASSERT_TRUE(a && b);
  const std::vector<UserEntry> users = {{"alice", Role::download, openssl_sha256_hex(*a), Credential::token},
                                        {"bob", Role::list, openssl_sha256_hex(*b), Credential::token}};
  const UserEntry* found = find_token_user(users, *a);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "alice");
  found = find_token_user(users, *b);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "bob");
  std::string flipped = *a;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(find_token_user(users, flipped), nullptr);
  EXPECT_EQ(find_token_user(users, ""), nullptr);
  EXPECT_EQ(find_token_user(users, a->substr(0, a->size() - 1)), nullptr);
  EXPECT_EQ(find_token_user(users, *a + "0"), nullptr);
  // The stored hash itself is not a token.
  EXPECT_EQ(find_token_user(users, users[0].sha256), nullptr);
  EXPECT_EQ(find_token_user(users, "dgt_" + users[0].sha256), nullptr);
  EXPECT_EQ(find_token_user({}, *a), nullptr);
}

TEST(ServeApiToken, TokensAndCertificatesNeverStandForEachOther) {
  auto token = generate_api_token();
  ASSERT_TRUE(token);
  const std::string token_hash = openssl_sha256_hex(*token);
  const std::string cert_hash = openssl_sha256_hex("a certificate's DER");
  // A certificate entry that holds the token's hash does not take the token, and the reverse.
  const std::vector<UserEntry> users = {{"certuser", Role::download, token_hash, Credential::certificate},
                                        {"tokenuser", Role::download, cert_hash, Credential::token}};
  EXPECT_EQ(find_token_user(users, *token), nullptr);
  EXPECT_EQ(find_certificate_user(users, cert_hash), nullptr);
  const std::vector<UserEntry> right = {{"certuser", Role::download, cert_hash, Credential::certificate},
                                        {"tokenuser", Role::download, token_hash, Credential::token}};
  ASSERT_NE(find_certificate_user(right, cert_hash), nullptr);
  EXPECT_EQ(find_certificate_user(right, cert_hash)->name, "certuser");
  ASSERT_NE(find_token_user(right, *token), nullptr);
  EXPECT_EQ(find_token_user(right, *token)->name, "tokenuser");
  EXPECT_EQ(find_certificate_user(right, cert_hash.substr(1)), nullptr);
}

TEST(ServeDownloadWindow, RateLimitSlidesWithTheHour) {
  DownloadWindow w(DownloadLimits{3, 0, 3600});
  EXPECT_TRUE(w.admit("alice", 0).allowed);
  EXPECT_TRUE(w.admit("alice", 10).allowed);
  EXPECT_TRUE(w.admit("alice", 20).allowed);
  const auto refused = w.admit("alice", 30);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.in_window, 3u);
  EXPECT_TRUE(w.admit("bob", 30).allowed);  // per user
  EXPECT_FALSE(w.admit("alice", 3599).allowed);
  EXPECT_TRUE(w.admit("alice", 3600.5).allowed);  // the first has left the window
  EXPECT_FALSE(w.admit("alice", 3601).allowed);
}

TEST(ServeDownloadWindow, RecalledDownloadsCountAndDoNotAlertAgain) {
  // Two downloads recalled from the log of the process before: the limit of 3 has one left, and
  // the alert past 1 already went out for this burst.
  DownloadWindow w(DownloadLimits{3, 1, 3600});
  w.recall("alice", 100);
  w.recall("alice", 200);
  const auto third = w.admit("alice", 300);
  EXPECT_TRUE(third.allowed);
  EXPECT_EQ(third.in_window, 3u);
  EXPECT_FALSE(third.alert);
  EXPECT_FALSE(w.admit("alice", 400).allowed);
  EXPECT_TRUE(w.admit("bob", 400).allowed);
  EXPECT_TRUE(w.admit("alice", 3700.5).allowed);  // the first recalled one has left the window
}

TEST(ServeDownloadWindow, AlertOncePerBurst) {
  DownloadWindow w(DownloadLimits{0, 2, 3600});
  EXPECT_FALSE(w.admit("alice", 0).alert);
  EXPECT_FALSE(w.admit("alice", 1).alert);
  const auto third = w.admit("alice", 2);
  EXPECT_TRUE(third.allowed);
  EXPECT_TRUE(third.alert);
  EXPECT_EQ(third.in_window, 3u);
  EXPECT_FALSE(w.admit("alice", 3).alert);  // the same burst
  EXPECT_FALSE(w.admit("alice", 4).alert);
  // An hour later the burst is over; a new one alerts again.
  EXPECT_FALSE(w.admit("alice", 4000).alert);
  EXPECT_FALSE(w.admit("alice", 4001).alert);
  EXPECT_TRUE(w.admit("alice", 4002).alert);
}

}  // namespace
}  // namespace dumpguard
