#include "redis/client.h"

#include <gtest/gtest.h>

#include "integration/process/process_test_util.h"
#include "support/harness.h"

namespace redisfleet::redis {
namespace {

using redisfleet::testing::KillAllUnder;
using redisfleet::testing::MakeSpec;
using redisfleet::testing::MakeTempRoot;
using redisfleet::testing::SilentServer;

constexpr char kPassword[] = "client-Pw-4242";

// One real redis-server (started through the process runtime) for the whole suite.
class RedisClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = MakeTempRoot("client");
    providers::ProcessRuntime::Options opts;
    opts.root_dir = root_;
    providers::ProcessRuntime runtime(opts, std::make_shared<RealClock>(), Logger::Null());
    auto ep = runtime.Ensure(providers::Host{}, MakeSpec("client", kPassword));
    if (ep.ok()) port_ = static_cast<int>(ep->port);
    else start_error_ = ep.status().ToString();
  }
  static void TearDownTestSuite() { EXPECT_TRUE(KillAllUnder(root_).empty()); }
  void SetUp() override { ASSERT_GT(port_, 0) << start_error_; }

  static ConnectOptions Options(std::string password = kPassword) {
    ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.password = std::move(password);
    return o;
  }

  inline static std::string root_;
  inline static int port_ = 0;
  inline static std::string start_error_;
};

TEST_F(RedisClientTest, CommandsRoundTripBinarySafeValues) {
  auto client = RedisClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string value("a\0b\r\nc:d,e", 10);
  auto set = (*client)->Command({"SET", "bin", value});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(*set, Reply::StatusReply("OK"));
  EXPECT_EQ((*client)->Command({"GET", "bin"}).value(), Reply::String(value));
  EXPECT_EQ((*client)->Command({"GET", "absent"}).value(), Reply::Nil());
  EXPECT_EQ((*client)->Command({"INCRBY", "n", "5"}).value(), Reply::Integer(5));
  EXPECT_EQ((*client)->Command({"RPUSH", "l", "x", "y"}).value(), Reply::Integer(2));
  EXPECT_EQ((*client)->Command({"LRANGE", "l", "0", "-1"}).value(),
            Reply::Array({Reply::String("x"), Reply::String("y")}));
  auto wrong = (*client)->Command({"LPUSH", "bin", "z"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(wrong->IsError());
  EXPECT_EQ(wrong->str.rfind("WRONGTYPE", 0), 0u) << wrong->str;
}

TEST_F(RedisClientTest, InfoAndConfig) {
  auto client = RedisClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  RedisStats stats = StatsFromInfo(*info);
  EXPECT_GT(stats.used_memory, 0);
  EXPECT_EQ(stats.maxmemory, 64 * 1024 * 1024);
  EXPECT_EQ(stats.maxclients, 100);
  EXPECT_GE(stats.connected_clients, 1);
  EXPECT_EQ(stats.maxmemory_policy, "noeviction");

  auto memory_only = (*client)->Info({"memory"});
  ASSERT_TRUE(memory_only.ok());
  EXPECT_TRUE(memory_only->sections.count("Memory"));
  EXPECT_FALSE(memory_only->sections.count("Server"));

  EXPECT_EQ((*client)->ConfigGet("maxclients").value(), "100");
  EXPECT_EQ((*client)->ConfigGet("no-such-parameter").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*client)->ConfigSet("slowlog-max-len", "77").ok());
  EXPECT_EQ((*client)->ConfigGet("slowlog-max-len").value(), "77");
  EXPECT_EQ((*client)->ConfigSet("maxmemory", "lots").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST_F(RedisClientTest, AuthFailuresAreUnauthenticatedAndNeverShowThePassword) {
  struct Case {
    std::string name;
    std::string username;
    std::string password;
  };
  const Case cases[] = {
      {"wrong password", "", "not-the-Pw-1111"},
      {"unknown user", "nobody", "not-the-Pw-2222"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ConnectOptions o = Options(c.password);
    o.username = c.username;
    auto client = RedisClient::Connect(o);
    ASSERT_FALSE(client.ok());
    EXPECT_EQ(client.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(client.status().message().find(c.password), std::string::npos)
        << client.status().message();
  }
  auto anonymous = RedisClient::Connect(Options(""));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ((*anonymous)->Ping().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ((*anonymous)->Info().status().code(), StatusCode::kUnauthenticated);
}

TEST_F(RedisClientTest, UnreachableAndSilentServersAreUnavailable) {
  int closed_port = 0;
  {
    SilentServer s;  // bound then closed: nothing listens there afterwards
    closed_port = s.port();
  }
  ConnectOptions refused = Options();
  refused.port = closed_port;
  auto r = RedisClient::Connect(refused);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);

  SilentServer silent;
  ASSERT_GT(silent.port(), 0);
  ConnectOptions o = Options();
  o.port = silent.port();
  o.timeout = std::chrono::milliseconds(200);
  auto started = std::chrono::steady_clock::now();
  auto c = RedisClient::Connect(o);  // TCP connects (backlog), AUTH never answers
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("timed out"), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find(kPassword), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(RedisClientTest, ABrokenConnectionStaysUnavailable) {
  auto client = RedisClient::Connect(Options());
  ASSERT_TRUE(client.ok());
  auto killer = RedisClient::Connect(Options());
  ASSERT_TRUE(killer.ok());
  auto id = (*client)->Command({"CLIENT", "ID"});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(id->type, Reply::Type::kInteger);
  auto killed = (*killer)->Command({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(*killed, Reply::Integer(1));
  EXPECT_EQ((*client)->Ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ((*client)->Ping().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace redisfleet::redis
