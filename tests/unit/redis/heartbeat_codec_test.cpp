#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "redis/heartbeat.h"

namespace redisfleet::redis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

HostBeat SampleBeat() {
  HostBeat b;
  b.name = "docker-1";
  b.address = "10.0.0.7";
  b.docker_endpoint = "tcp://10.0.0.7:2375";
  b.containers = 3;
  b.memory_mib_used = 288;
  b.memory_mib_total = 1987;
  b.agent_version = "redis-fleet 0.1";
  b.at = TimePoint(std::chrono::seconds(1'800'000'123));
  return b;
}

TEST(HeartbeatCodecTest, RoundTrip) {
  const HostBeat b = SampleBeat();
  const std::string text = EncodeBeat(b);
  auto back = DecodeBeat(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
}

TEST(HeartbeatCodecTest, WireFormat) {
  const auto j = nlohmann::json::parse(EncodeBeat(SampleBeat()));
  EXPECT_EQ(j.at("name"), "docker-1");
  EXPECT_EQ(j.at("address"), "10.0.0.7");
  EXPECT_EQ(j.at("dockerEndpoint"), "tcp://10.0.0.7:2375");
  EXPECT_EQ(j.at("containers"), 3);
  EXPECT_EQ(j.at("memoryMiBUsed"), 288);
  EXPECT_EQ(j.at("memoryMiBTotal"), 1987);
  EXPECT_EQ(j.at("agentVersion"), "redis-fleet 0.1");
  EXPECT_EQ(j.at("at"), FormatTime(TimePoint(std::chrono::seconds(1'800'000'123))));
  EXPECT_EQ(j.size(), 8u);
}

TEST(HeartbeatCodecTest, AcceptsUnknownFieldsFractionalTimeAndEmptyOptionalStrings) {
  auto j = nlohmann::json::parse(EncodeBeat(SampleBeat()));
  j["futureField"] = {1, 2};
  j["at"] = "2027-01-15T08:00:03.250Z";
  j["agentVersion"] = "";
  j["dockerEndpoint"] = "";
  auto b = DecodeBeat(j.dump());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(FormatTime(b->at), "2027-01-15T08:00:03Z");
  EXPECT_EQ(b->agent_version, "");
}

TEST(HeartbeatCodecTest, EveryBadFieldIsNamedAndNeverPartial) {
  const nlohmann::json good = nlohmann::json::parse(EncodeBeat(SampleBeat()));
  struct Case {
    std::string name;
    std::string field;  // "" to replace the whole document with `doc`
    nlohmann::json value{};
    bool erase{false};
    std::string doc{};
  };
  const std::string kSecretish = "Zq9-value-never-echoed";
  const std::vector<Case> cases = {
      {"not json", "", nullptr, false, "{not json"},
      {"empty", "", nullptr, false, ""},
      {"array", "", nullptr, false, "[1,2]"},
      {"string", "", nullptr, false, "\"" + kSecretish + "\""},
      {"truncated", "", nullptr, false, good.dump().substr(0, 40)},
      {"name missing", "name", nullptr, true},
      {"name number", "name", 7},
      {"name empty", "name", ""},
      {"address missing", "address", nullptr, true},
      {"address null", "address", nullptr},
      {"address empty", "address", ""},
      {"dockerEndpoint missing", "dockerEndpoint", nullptr, true},
      {"dockerEndpoint object", "dockerEndpoint", nlohmann::json::object()},
      {"containers missing", "containers", nullptr, true},
      {"containers string", "containers", "3"},
      {"containers negative", "containers", -1},
      {"containers float", "containers", 2.5},
      {"containers bool", "containers", true},
      {"containers too big", "containers", 18446744073709551615ull},
      {"memoryMiBUsed missing", "memoryMiBUsed", nullptr, true},
      {"memoryMiBUsed negative", "memoryMiBUsed", -64},
      {"memoryMiBUsed string", "memoryMiBUsed", kSecretish},
      {"memoryMiBTotal missing", "memoryMiBTotal", nullptr, true},
      {"memoryMiBTotal float", "memoryMiBTotal", 1.0e3},
      {"agentVersion missing", "agentVersion", nullptr, true},
      {"agentVersion number", "agentVersion", 1},
      {"at missing", "at", nullptr, true},
      {"at number", "at", 1800000000},
      {"at garbage", "at", kSecretish},
      {"at empty", "at", ""},
      {"at local time", "at", "2027-01-15T08:00:03+02:00"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string doc = c.doc;
    if (!c.field.empty()) {
      nlohmann::json j = good;
      if (c.erase) {
        j.erase(c.field);
      } else {
        j[c.field] = c.value;
      }
      doc = j.dump();
    }
    auto b = DecodeBeat(doc);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
    if (!c.field.empty()) {
      EXPECT_THAT(b.status().message(), HasSubstr("\"" + c.field + "\""));
    }
    EXPECT_THAT(b.status().message(), Not(HasSubstr(kSecretish)));
  }
}

TEST(EscapeGlobTest, EscapesMetacharacters) {
  EXPECT_EQ(EscapeGlob("server:"), "server:");
  EXPECT_EQ(EscapeGlob("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
  EXPECT_EQ(EscapeGlob(""), "");
}

TEST(ParseRedisUrlTest, GoodUrls) {
  struct Case {
    std::string url;
    std::string host;
    int port;
    std::string username;
    std::string password;
    int db;
  };
  const std::vector<Case> cases = {
      {"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, "", "", 0},
      {"redis://localhost", "localhost", 6379, "", "", 0},
      {"redis://localhost/", "localhost", 6379, "", "", 0},
      {"REDIS://h.example:7000/3", "h.example", 7000, "", "", 3},
      {"redis://:s3cret@h:1/15", "h", 1, "", "s3cret", 15},
      {"redis://alice:s3cret@h:6380", "h", 6380, "alice", "s3cret", 0},
      {"redis://@h:6380", "h", 6380, "", "", 0},
      {"redis://:@h:6380", "h", 6380, "", "", 0},
      {"redis://:p%40ss%2Fw%3Ard@h:1", "h", 1, "", "p@ss/w:rd", 0},
      {"redis://:p@ss@h:1/2", "h", 1, "", "p@ss", 2},
      {"redis://:pa/ss?x@h:1/2", "h", 1, "", "pa/ss?x", 2},
      {"redis://b%6Fb:pw@h:65535", "h", 65535, "bob", "pw", 0},
      {"redis://[::1]:6390/4", "::1", 6390, "", "", 4},
      {"redis://[::1]", "::1", 6379, "", "", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto o = ParseRedisUrl(c.url);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ(o->host, c.host);
    EXPECT_EQ(o->port, c.port);
    EXPECT_EQ(o->username, c.username);
    EXPECT_EQ(o->password, c.password);
    EXPECT_EQ(o->db, c.db);
  }
}

TEST(ParseRedisUrlTest, BadUrlsNeverShowThePassword) {
  const std::string pw = "Hunter2-Xq";
  struct Case {
    std::string url;
    std::string want;  // a substring of the message
  };
  const std::vector<Case> cases = {
      {"", "want redis://"},
      {"127.0.0.1:6379", "want redis://"},
      {pw + "@h:1", "want redis://"},
      {"x:" + pw + "@h://", "want redis://"},
      {"rediss://:" + pw + "@h:6379", "rediss not supported yet"},
      {"http://:" + pw + "@h:6379", "unsupported scheme \"http\""},
      {"unix:///tmp/redis.sock", "unsupported scheme \"unix\""},
      {"redis://:" + pw + "@", "no host"},
      {"redis://:" + pw + "@:6379", "no host"},
      {"redis://:" + pw + "@h:", "empty port"},
      {"redis://:" + pw + "@h:port", "not a number"},
      {"redis://:" + pw + "@h:0", "out of range"},
      {"redis://:" + pw + "@h:65536", "out of range"},
      {"redis://:" + pw + "@h:123456", "not a number"},
      {"redis://:" + pw + "@h:1/x", "database"},
      {"redis://:" + pw + "@h:1/-1", "database"},
      {"redis://:" + pw + "@h:1/0/1", "database"},
      {"redis://:" + pw + "@h:1/0?timeout=1", "query"},
      {"redis://:" + pw + "@h:1/0#frag", "query"},
      {"redis://:" + pw + "%zz@h:1", "percent-escape in the password"},
      {"redis://:" + pw + "%4@h:1", "percent-escape in the password"},
      {"redis://us%er:" + pw + "@h:1", "percent-escape in the username"},
      {"redis://alice@h:1", "needs a password"},
      {"redis://alice:@h:1", "needs a password"},
      {"redis://:" + pw + "@::1:6379", "brackets"},
      {"redis://:" + pw + "@[::1", "unclosed"},
      {"redis://:" + pw + "@[::1]x", "after ']'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto o = ParseRedisUrl(c.url);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(o.status().message(), HasSubstr(c.want));
    EXPECT_THAT(o.status().message(), Not(HasSubstr(pw)));
    EXPECT_THAT(o.status().message(), Not(HasSubstr("Hunter")));
  }
}

}  // namespace
}  // namespace redisfleet::redis
