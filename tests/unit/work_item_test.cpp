// The cluster's work messages come from the broker: every field is checked before a worker
// touches the shared store, and a bad one is refused with one line.
#include <gtest/gtest.h>

#include <string>

#include "cluster/nats_client.hpp"
#include "cluster/work_item.hpp"

namespace dumpguard {
namespace {

const std::string kSha(64, 'a');

TEST(WorkItem, RoundTrips) {
  const WorkItem item{kSha, 123456, "core.1234.dmp"};
  auto parsed = parse_work_message(work_message(item));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->sha256, kSha);
  EXPECT_EQ(parsed->size, 123456u);
  EXPECT_EQ(parsed->name, "core.1234.dmp");
  EXPECT_EQ(work_file_name(*parsed), kSha + "-core.1234.dmp");
}

TEST(WorkItem, RefusesWhatASubmitterNeverWrites) {
  const std::string good_name = R"("name":"a.dmp")";
  const std::string cases[] = {
      "",
      "not json",
      "[]",
      R"({"schema":"dumpguard-work/2","sha256":")" + kSha + R"(","size":1,)" + good_name + "}",
      R"({"schema":"dumpguard-work/1","sha256":")" + std::string(63, 'a') + R"(","size":1,)" + good_name + "}",
      R"({"schema":"dumpguard-work/1","sha256":")" + std::string(64, 'A') + R"(","size":1,)" + good_name + "}",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":-1,)" + good_name + "}",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":"1",)" + good_name + "}",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":1,"name":"../../etc/passwd"})",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":1,"name":".hidden"})",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":1,"name":"a\u001b[31m"})",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":1,"name":")" + std::string(101, 'x') + R"("})",
      R"({"schema":"dumpguard-work/1","sha256":")" + kSha + R"(","size":1,"name":"a.dmp","pad":")" +
          std::string(5000, 'x') + R"("})",
  };
  for (const std::string& text : cases) {
    auto parsed = parse_work_message(text);
    EXPECT_FALSE(parsed) << text.substr(0, 120);
    if (!parsed) {
      EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos);
    }
  }
}

TEST(WorkItem, SubmittedNamesAreMadePlain) {
  EXPECT_EQ(safe_submitted_name("/var/crash/core.1234"), "core.1234");
  EXPECT_EQ(safe_submitted_name("dir/a b\x1b[c"), "a_b__c");
  EXPECT_EQ(safe_submitted_name(".hidden"), "d.hidden");
  EXPECT_EQ(safe_submitted_name("dir/"), "d");
  EXPECT_EQ(safe_submitted_name(std::string(300, 'y')).size(), 100u);
  for (const char* name : {"core.1", "a_b", "d.hidden"}) EXPECT_EQ(safe_submitted_name(name), name);
}

TEST(NatsUrl, PasswordsAreNeverPrinted) {
  EXPECT_EQ(printable_url("nats://worker:s3cret@host:4222"), "nats://host:4222");
  EXPECT_EQ(printable_url("tls://host:4222"), "tls://host:4222");
  EXPECT_EQ(printable_url("user:pw@host:4222"), "host:4222");
  EXPECT_EQ(printable_url("nats://host:4222/x@y"), "nats://host:4222/x@y");
}

// The name a TLS server's certificate must carry: the URL's host, never its user information.
TEST(NatsUrl, HostForTheCertificateCheck) {
  EXPECT_EQ(url_host("tls://worker:s3cret@nats.example:4222"), "nats.example");
  EXPECT_EQ(url_host("tls://127.0.0.1:4222"), "127.0.0.1");
  EXPECT_EQ(url_host("nats://[::1]:4222"), "::1");
  EXPECT_EQ(url_host("host-a:4222,host-b:4222"), "host-a");
}

}  // namespace
}  // namespace dumpguard
