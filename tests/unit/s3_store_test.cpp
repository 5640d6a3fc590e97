// The S3 shared store's settings come from the command line, a config file and a credentials
// file: a location that would need escaping in a URL or a signature, an endpoint with a path or
// a user, plain HTTP off this host, and a credentials file others can read are refused, each
// with one line that never quotes a credential.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cluster/s3_store.hpp"

namespace dumpguard {
namespace {

TEST(S3Location, BucketAndPrefix) {
  auto plain = parse_s3_location("s3://dumps");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->bucket, "dumps");
  EXPECT_EQ(plain->prefix, "");
  for (const char* url : {"s3://dumps.example-1/cluster/queue", "s3://dumps.example-1/cluster/queue/"}) {
    auto nested = parse_s3_location(url);
    ASSERT_TRUE(nested) << nested.error().message;
    EXPECT_EQ(nested->bucket, "dumps.example-1");
    EXPECT_EQ(nested->prefix, "cluster/queue/");
  }
  for (const char* url : {"dumps", "s3:/dumps", "s3://ab", "s3://Dumps", "s3://-dumps", "s3://dumps-", "s3://du_mps",
                          "s3://dumps//x", "s3://dumps/a//", "s3://dumps/a/../b", "s3://dumps/./b", "s3://dumps/a b", "s3://dumps/a%2F",
                          "s3://dumps/a?x=1", "s3://dumps/a\nb"}) {
    auto bad = parse_s3_location(url);
    EXPECT_FALSE(bad) << url;
    if (!bad) {
      EXPECT_EQ(bad.error().message.find('\n'), std::string::npos) << url;
    }
  }
}

TEST(S3Endpoint, HttpsAnywhereHttpOnlyToThisHost) {
  for (const char* ok : {"https://s3.example.com", "https://s3.example.com/", "https://10.0.0.5:9000",
                         "https://[2001:db8::1]:9000", "http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]"}) {
    auto checked = checked_s3_endpoint(ok);
    ASSERT_TRUE(checked) << ok << ": " << checked.error().message;
    EXPECT_NE(checked->back(), '/');
  }
  for (const char* bad : {"s3.example.com", "ftp://s3.example.com", "https://", "https://host/path",
                          "https://user:pw@host", "https://host:0", "https://host:70000", "https://host:",
                          "https://host?x", "http://s3.example.com", "http://10.0.0.5:9000", "http://127.evil.com",
                          "https://[::1"}) {
    EXPECT_FALSE(checked_s3_endpoint(bad)) << bad;
  }
  auto user = checked_s3_endpoint("https://AKIDEXAMPLE:Pa55w0rd@host");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().message.find("Pa55w0rd"), std::string::npos) << user.error().message;
}

class S3CredentialsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dg-s3creds-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text, mode_t mode = 0600) {
    const std::string path = dir_ + "/c" + std::to_string(++n_);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::fchmod(fd, mode);
    ::close(fd);
    return path;
  }
  std::string dir_;
  int n_ = 0;
};

TEST_F(S3CredentialsFile, OneProfileAsAwsWritesIt) {
  auto read = read_s3_credentials(write("# the workers' key\n[default]\naws_access_key_id = AKIDEXAMPLE\r\n"
                                        "aws_secret_access_key=wJalr/XUtnFEMI+K7MDENG\n\n; end\n"));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(read->secret_access_key, "wJalr/XUtnFEMI+K7MDENG");
}

TEST_F(S3CredentialsFile, RefusedWithoutQuotingAValue) {
  const std::string secret = "wJalr/XUtnFEMI+K7MDENG";
  const std::string good = "aws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = " + secret + "\n";
  const struct {
    std::string text;
    mode_t mode;
    const char* expect;
  } cases[] = {
      {good, 0640, "chmod 600"},
      {good, 0604, "chmod 600"},
      {"aws_access_key_id = AKIDEXAMPLE\n", 0600, "needs aws_access_key_id and aws_secret_access_key"},
      {good + "aws_session_token = " + secret + "\n", 0600, "not supported"},
      {good + "region = us-east-1\n", 0600, "unknown key"},
      {"[a]\n" + good + "[b]\n", 0600, "second profile"},
      {good + "aws_secret_access_key = " + secret + "\n", 0600, "given twice"},
      {"aws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = " + secret + " x\n", 0600, "not printable ASCII"},
      {secret + "\n" + good, 0600, "expected KEY = VALUE"},
      {good + std::string(5000, '#'), 0600, "larger than 4 KiB"},
  };
  for (const auto& c : cases) {
    auto read = read_s3_credentials(write(c.text, c.mode));
    ASSERT_FALSE(read) << c.expect;
    EXPECT_NE(read.error().message.find(c.expect), std::string::npos) << read.error().message;
    EXPECT_EQ(read.error().message.find(secret.substr(0, 8)), std::string::npos) << read.error().message;
    EXPECT_EQ(read.error().message.find('\n'), std::string::npos);
  }
  const std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(write(good).c_str(), link.c_str()), 0);
  EXPECT_FALSE(read_s3_credentials(link)) << "a symbolic link is not followed";
}

}  // namespace
}  // namespace dumpguard
