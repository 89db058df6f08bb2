#include "common/redact.h"

#include <gtest/gtest.h>

namespace redisfleet {
namespace {

TEST(Redact, SecretKeys) {
  struct Case {
    const char* key;
    bool secret;
  };
  for (const auto& c : std::vector<Case>{{"password", true}, {"requirePass", false}, {"apiKey", true},
                                         {"api_key", true}, {"Authorization", true}, {"token", true},
                                         {"tokenSecretRef", true}, {"host", false}, {"url", false},
                                         {"credentials", true}}) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(IsSecretKey(c.key), c.secret);
  }
}

TEST(Redact, SecretsInText) {
  struct Case {
    std::string in;
    std::string out;
  };
  for (const auto& c : std::vector<Case>{
           {"redis://:hunter2@127.0.0.1:6379/0", "redis://:[REDACTED]@127.0.0.1:6379/0"},
           {"rediss://user:p@ss@h:1", "rediss://user:[REDACTED]@h:1"},
           {"connect to redis://127.0.0.1:6379 failed", "connect to redis://127.0.0.1:6379 failed"},
           {"GET https://u:pw@api.example.com/v2?x=1 and http://a:b@c/", "GET https://u:[REDACTED]@api.example.com/v2?x=1 and http://a:[REDACTED]@c/"},
           {"Authorization: Bearer abc.def.ghi", "Authorization: Bearer [REDACTED]"},
           {"Basic dXNlcjpwYXNz, next", "Basic [REDACTED], next"},
           {"plain text", "plain text"},
       }) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(RedactSecrets(c.in), c.out);
  }
}

}  // namespace
}  // namespace redisfleet
