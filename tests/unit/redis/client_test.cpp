#include "redis/client.h"

#include <deque>
#include <memory>

#include <gtest/gtest.h>

namespace redisfleet::redis {
namespace {

// Scripted transport: answers from a queue and records every command sent.
struct Script {
  std::deque<StatusOr<Reply>> replies;
  std::vector<std::vector<std::string>> sent;
};

class FakeTransport final : public RedisTransport {
 public:
  explicit FakeTransport(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  StatusOr<Reply> RoundTrip(const std::vector<std::string>& argv) override {
    script_->sent.push_back(argv);
    if (script_->replies.empty()) return UnavailableError("fake: no scripted reply");
    StatusOr<Reply> r = script_->replies.front();
    script_->replies.pop_front();
    return r;
  }
  std::string Peer() const override { return "fake:1"; }

 private:
  std::shared_ptr<Script> script_;
};

constexpr char kPassword[] = "s3cret-Pa55";

StatusOr<std::unique_ptr<RedisClient>> OpenWith(std::shared_ptr<Script> script,
                                                std::string username = "",
                                                std::string password = kPassword) {
  ConnectOptions opts;
  opts.username = std::move(username);
  opts.password = std::move(password);
  return RedisClient::Open(std::make_unique<FakeTransport>(std::move(script)), opts);
}

TEST(ErrorReplyToStatusTest, CodesSayWhatToDoNext) {
  struct Case {
    std::string error;
    StatusCode want;
  };
  const Case cases[] = {
      {"NOAUTH Authentication required.", StatusCode::kUnauthenticated},
      {"WRONGPASS invalid username-password pair or user is disabled.", StatusCode::kUnauthenticated},
      {"NOPERM this user has no permissions to run the 'config|set' command", StatusCode::kPermissionDenied},
      {"LOADING Redis is loading the dataset in memory", StatusCode::kUnavailable},
      {"BUSY Redis is busy running a script.", StatusCode::kUnavailable},
      {"OOM command not allowed when used memory > 'maxmemory'.", StatusCode::kResourceExhausted},
      {"ERR max number of clients reached", StatusCode::kResourceExhausted},
      {"ERR unknown command 'FOO', with args beginning with: ", StatusCode::kInvalidArgument},
      {"ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument couldn't be "
       "parsed into an integer",
       StatusCode::kInvalidArgument},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    Status s = ErrorReplyToStatus(c.error, "CMD on fake:1");
    EXPECT_EQ(s.code(), c.want);
    EXPECT_EQ(s.message(), "CMD on fake:1: " + c.error);
  }
}

TEST(RedisClientTest, AuthenticatesWithUserAndPassword) {
  struct Case {
    std::string name;
    std::string username;
    std::string password;
    std::vector<std::vector<std::string>> want_sent;
  };
  const Case cases[] = {
      {"no password: no AUTH", "", "", {}},
      {"default user", "", kPassword, {{"AUTH", kPassword}}},
      {"named user", "app", kPassword, {{"AUTH", "app", kPassword}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto script = std::make_shared<Script>();
    script->replies.push_back(Reply::StatusReply("OK"));
    auto client = OpenWith(script, c.username, c.password);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    EXPECT_EQ(script->sent, c.want_sent);
  }
}

TEST(RedisClientTest, RefusedAuthIsUnauthenticatedWithoutThePassword) {
  struct Case {
    std::string name;
    std::string error;
    StatusCode want;
  };
  const Case cases[] = {
      {"wrong password", "WRONGPASS invalid username-password pair or user is disabled.",
       StatusCode::kUnauthenticated},
      {"server echoes the password", std::string("ERR invalid password '") + kPassword + "'",
       StatusCode::kUnauthenticated},
      {"no password configured",
       "ERR AUTH <password> called without any password configured for the default user.",
       StatusCode::kUnauthenticated},
      {"server full", "ERR max number of clients reached", StatusCode::kResourceExhausted},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto script = std::make_shared<Script>();
    script->replies.push_back(Reply::Error(c.error));
    auto client = OpenWith(script);
    ASSERT_FALSE(client.ok());
    EXPECT_EQ(client.status().code(), c.want);
    EXPECT_EQ(client.status().message().find(kPassword), std::string::npos)
        << client.status().message();
  }
}

TEST(RedisClientTest, TransportFailureIsReturnedAsIs) {
  auto script = std::make_shared<Script>();
  script->replies.push_back(Reply::StatusReply("OK"));
  script->replies.push_back(UnavailableError("redis fake:1: PING: connection closed by server"));
  auto client = OpenWith(script);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Ping().code(), StatusCode::kUnavailable);
}

TEST(RedisClientTest, CommandReturnsErrorRepliesAsValues) {
  auto script = std::make_shared<Script>();
  script->replies.push_back(Reply::Error("WRONGTYPE Operation against a key"));
  auto client = OpenWith(script, "", "");
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->Command({"GET", "k"});
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->IsError());
  EXPECT_EQ(reply->str, "WRONGTYPE Operation against a key");
}

TEST(RedisClientTest, PingAcceptsOnlyPong) {
  struct Case {
    std::string name;
    Reply reply;
    StatusCode want;
  };
  const Case cases[] = {
      {"pong", Reply::StatusReply("PONG"), StatusCode::kOk},
      {"noauth", Reply::Error("NOAUTH Authentication required."), StatusCode::kUnauthenticated},
      {"loading", Reply::Error("LOADING Redis is loading"), StatusCode::kUnavailable},
      {"something else", Reply::Integer(1), StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto script = std::make_shared<Script>();
    script->replies.push_back(c.reply);
    auto client = OpenWith(script, "", "");
    ASSERT_TRUE(client.ok());
    EXPECT_EQ((*client)->Ping().code(), c.want);
    EXPECT_EQ(script->sent.back(), (std::vector<std::string>{"PING"}));
  }
}

TEST(RedisClientTest, InfoSendsSectionsAndParses) {
  auto script = std::make_shared<Script>();
  script->replies.push_back(Reply::String("# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\n"));
  auto client = OpenWith(script, "", "");
  ASSERT_TRUE(client.ok());
  auto info = (*client)->Info({"memory", "clients"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(script->sent.back(), (std::vector<std::string>{"INFO", "memory", "clients"}));
  EXPECT_EQ(StatsFromInfo(*info).used_memory, 1024);
  EXPECT_EQ(StatsFromInfo(*info).maxmemory, 0);
}

TEST(RedisClientTest, ConfigGetFindsTheValue) {
  struct Case {
    std::string name;
    Reply reply;
    StatusCode want_code;
    std::string want_value;
  };
  const Case cases[] = {
      {"pair", Reply::Array({Reply::String("maxmemory"), Reply::String("67108864")}), StatusCode::kOk,
       "67108864"},
      {"several pairs",
       Reply::Array({Reply::String("maxmemory-policy"), Reply::String("noeviction"),
                     Reply::String("maxmemory"), Reply::String("5")}),
       StatusCode::kOk, "5"},
      {"unknown parameter", Reply::Array({}), StatusCode::kNotFound, ""},
      {"error", Reply::Error("NOPERM no"), StatusCode::kPermissionDenied, ""},
      {"not an array", Reply::String("x"), StatusCode::kInternal, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto script = std::make_shared<Script>();
    script->replies.push_back(c.reply);
    auto client = OpenWith(script, "", "");
    ASSERT_TRUE(client.ok());
    auto value = (*client)->ConfigGet("maxmemory");
    EXPECT_EQ(value.status().code(), c.want_code);
    if (value.ok()) {
      EXPECT_EQ(*value, c.want_value);
    }
    EXPECT_EQ(script->sent.back(), (std::vector<std::string>{"CONFIG", "GET", "maxmemory"}));
  }
}

TEST(RedisClientTest, ConfigSetNeverEchoesTheValue) {
  const std::string new_password = "n3w-Secret-Value";
  auto script = std::make_shared<Script>();
  script->replies.push_back(Reply::StatusReply("OK"));
  script->replies.push_back(Reply::Error("ERR CONFIG SET failed: bad value '" + new_password + "' (" +
                                         kPassword + ")"));
  auto client = OpenWith(script);
  ASSERT_TRUE(client.ok());
  Status s = (*client)->ConfigSet("requirepass", new_password);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find(new_password), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("requirepass"), std::string::npos);
  EXPECT_EQ(script->sent.back(),
            (std::vector<std::string>{"CONFIG", "SET", "requirepass", new_password}));
}

}  // namespace
}  // namespace redisfleet::redis
