#include "redis/url.h"

#include <gtest/gtest.h>

namespace redisfleet::redis {
namespace {

TEST(ParseRedisUrlTest, Table) {
  struct Case {
    std::string url;
    std::string host;
    int port;
    std::string user;
    std::string password;
    int db;
    bool tls;
  };
  const Case cases[] = {
      {"redis://localhost", "localhost", 6379, "", "", 0, false},
      {"redis://127.0.0.1:7000", "127.0.0.1", 7000, "", "", 0, false},
      {"redis://127.0.0.1:7000/3", "127.0.0.1", 7000, "", "", 3, false},
      {"rediss://:pw@ec2-1-2-3-4.compute.amazonaws.com:25070", "ec2-1-2-3-4.compute.amazonaws.com", 25070,
       "", "pw", 0, true},
      {"rediss://default:p%40ss%3Aw%2Fd@host:6380/0", "host", 6380, "default", "p@ss:w/d", 0, true},
      {"redis://metrics:s3cret@10.0.0.5", "10.0.0.5", 6379, "metrics", "s3cret", 0, false},
      {"redis://h:pw@host/", "host", 6379, "h", "pw", 0, false},
      {"redis://[::1]:6390/2", "::1", 6390, "", "", 2, false},
      {"redis://user@host", "host", 6379, "user", "", 0, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto u = ParseRedisUrl(c.url);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(u->options.host, c.host);
    EXPECT_EQ(u->options.port, c.port);
    EXPECT_EQ(u->options.username, c.user);
    EXPECT_EQ(u->options.password, c.password);
    EXPECT_EQ(u->options.db, c.db);
    EXPECT_EQ(u->tls, c.tls);
  }
}

TEST(ParseRedisUrlTest, ErrorsAreInvalidArgumentWithoutThePassword) {
  const std::string bad[] = {
      "http://:hunter2x@host",        "redis://:hunter2x@host:99999", "redis://:hunter2x@host:abc",
      "redis://:hunter2x@host/x",     "redis://:hunter2x@",           "redis://:hunter2x%zz@host",
      "redis://:hunter2x@host?db=1",  "redis://:hunter2x@[::1",       "redis://:hunter2x@host:",
  };
  for (const std::string& url : bad) {
    SCOPED_TRACE(url);
    auto u = ParseRedisUrl(url);
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(u.status().message().find("hunter2x"), std::string::npos) << u.status().message();
  }
}

TEST(RedactUrlTest, MasksOnlyThePassword) {
  EXPECT_EQ(RedactUrl("rediss://u:secret@h:1/0"), "rediss://u:***@h:1/0");
  EXPECT_EQ(RedactUrl("redis://:secret@h"), "redis://:***@h");
  EXPECT_EQ(RedactUrl("redis://user@h:1"), "redis://user@h:1");
  EXPECT_EQ(RedactUrl("redis://h:1/0"), "redis://h:1/0");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
}

TEST(ConnectUrlTest, BadUrlFailsBeforeTheNetwork) {
  auto c = ConnectUrl("redis://:topsecret@host:0", TlsOptions{}, std::chrono::milliseconds(100));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace redisfleet::redis
