// Which environment variable names say their value is a secret.
#include <gtest/gtest.h>

#include "detect/environment_secrets.hpp"

namespace dumpguard {
namespace {

TEST(EnvironmentSecrets, SecretBearingNames) {
  for (const char* name : {"DB_PASSWORD", "PGPASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "STRIPE_API_KEY",
                           "client_secret", "SIGNING_KEY", "SMTP_PASS", "REDIS_PWD", "GPG_PASSPHRASE"}) {
    EXPECT_TRUE(secret_bearing_name(name)) << name;
  }
  for (const char* name : {"PATH", "LANG", "HOME", "PWD", "OLDPWD", "SSH_AUTH_SOCK", "DB_PASSWORD_FILE",
                           "TLS_PRIVATE_KEY_PATH", "AWS_ACCESS_KEY_ID", "KEYBOARD", "TOKEN_DIR"}) {
    EXPECT_FALSE(secret_bearing_name(name)) << name;
  }
}

}  // namespace
}  // namespace dumpguard
