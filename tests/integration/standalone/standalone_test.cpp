// The real redis-fleet binary in standalone mode against real redis-server processes.

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/types.h"
#include "redis/client.h"
#include "redis/info.h"
#include "support/harness.h"
#include "support/operator_process.h"

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using testing::Child;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteText;

std::string InstanceYaml(const std::string& name, int64_t memory_mib, const std::string& extra = "") {
  return "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + name +
         "\nspec:\n  hostPool: local\n  memoryMiB: " + std::to_string(memory_mib) +
         "\n  maxClients: 20\n" + extra;
}

bool InPhase(const testing::OperatorProcess& op, const std::string& name, api::Phase phase) {
  auto ri = op.Instance(name);
  return ri && ri->status.phase == phase;
}

std::unique_ptr<redis::RedisClient> Connect(const testing::OperatorProcess& op, const std::string& name) {
  auto ri = op.Instance(name);
  if (!ri || ri->status.endpoint.port == 0) return nullptr;
  redis::ConnectOptions opts;
  opts.host = ri->status.endpoint.host;
  opts.port = static_cast<int>(ri->status.endpoint.port);
  opts.password = op.Password(name);
  auto c = redis::RedisClient::Connect(opts);
  return c ? std::move(*c) : nullptr;
}

int64_t ConfigInt(redis::RedisClient& c, const std::string& name) {
  auto v = c.ConfigGet(name);
  return v ? std::stoll(*v) : -1;
}

int64_t ServerPid(redis::RedisClient& c) {
  auto info = c.Info({"server"});
  if (!info) return -1;
  return info->GetInt("process_id").value_or(-1);
}

class StandaloneTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- operator log ----\n" << op_.Log() << "\n";
    op_.Kill9();
    // Stop every redis-server the test's state dir holds, so none outlives the test.
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator(op_.state_dir() + "/redis", ec)) {
      std::string pid_text = testing::ReadText(entry.path().string() + "/redis.pid");
      if (!pid_text.empty()) ::kill(std::stoi(pid_text), SIGKILL);
    }
  }
  void StartOperator() { ASSERT_TRUE(op_.Start()) << op_.Log(); }

  TempDir root_;
  // One operator process over <root>/resources and <root>/state.
  testing::OperatorProcess op_{root_.path(), root_ / "resources", root_ / "state"};
};

TEST_F(StandaloneTest, ApplyResizeInPlaceAndDelete) {
  WriteText(op_.dir() + "/cache.yaml", InstanceYaml("cache", 64));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "cache", api::Phase::kReady); })) << op_.Log();

  auto ri = *op_.Instance("cache");
  EXPECT_EQ(ri.status.endpoint.host, "127.0.0.1");
  EXPECT_EQ(ri.status.url, "redis://127.0.0.1:" + std::to_string(ri.status.endpoint.port));
  EXPECT_GE(op_.Password("cache").size(), 32u);
  EXPECT_EQ(std::filesystem::status(op_.state_dir() + "/secrets/default.cache/password").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  auto client = Connect(op_, "cache");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Ping().ok());
  EXPECT_EQ(ConfigInt(*client, "maxmemory"), 64 * 1024 * 1024);
  EXPECT_EQ(ConfigInt(*client, "maxclients"), 20);
  const int64_t pid = ServerPid(*client);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(client->Command({"SET", "greeting", "hello"}).has_value());

  // Without the password, nothing.
  redis::ConnectOptions anon;
  anon.port = static_cast<int>(ri.status.endpoint.port);
  auto anon_client = redis::RedisClient::Connect(anon);
  ASSERT_TRUE(anon_client.has_value());
  auto denied = (*anon_client)->Command({"GET", "greeting"});
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->type, redis::Reply::Type::kError);

  // Edit memory: resized in place.
  WriteText(op_.dir() + "/cache.yaml", InstanceYaml("cache", 128));
  ASSERT_TRUE(WaitUntil([&] { return ConfigInt(*client, "maxmemory") == 128 * 1024 * 1024; }))
      << op_.Log();
  EXPECT_EQ(ServerPid(*client), pid);
  ASSERT_TRUE(WaitUntil([&] {
    auto r = op_.Instance("cache");
    return r && r->status.memory_mib == 128 && r->status.observed_generation == 2;
  }));
  EXPECT_EQ(op_.Instance("cache")->status.endpoint.port, ri.status.endpoint.port);
  auto value = client->Command({"GET", "greeting"});
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->str, "hello");

  // Remove the file: the server stops and its data goes.
  std::filesystem::remove(op_.dir() + "/cache.yaml");
  ASSERT_TRUE(WaitUntil([&] { return !op_.Instance("cache").has_value(); })) << op_.Log();
  EXPECT_TRUE(WaitUntil([&] { return !testing::ProcessAlive(static_cast<pid_t>(pid)); }));
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(op_.state_dir() + "/redis", ec) || ec);
  EXPECT_FALSE(std::filesystem::exists(op_.state_dir() + "/secrets/default.cache"));
}

TEST_F(StandaloneTest, TtlExpiryStopsTheServer) {
  WriteText(op_.dir() + "/temp.yaml", InstanceYaml("temp", 16, "  ttlSeconds: 3\n"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "temp", api::Phase::kReady); })) << op_.Log();
  auto client = Connect(op_, "temp");
  ASSERT_NE(client, nullptr);
  const int64_t pid = ServerPid(*client);
  ASSERT_TRUE(op_.Instance("temp")->status.expires_at.has_value());

  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "temp", api::Phase::kExpired); })) << op_.Log();
  EXPECT_TRUE(WaitUntil([&] { return !testing::ProcessAlive(static_cast<pid_t>(pid)); }));
  EXPECT_EQ(op_.Instance("temp")->status.url, "");
}

TEST_F(StandaloneTest, Kill9AndRestartAdoptsEverythingWithItsData) {
  WriteText(op_.dir() + "/a.yaml", InstanceYaml("a", 32) + "---\n" + InstanceYaml("b", 32));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] {
    return InPhase(op_, "a", api::Phase::kReady) && InPhase(op_, "b", api::Phase::kReady);
  })) << op_.Log();
  auto a = Connect(op_, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Command({"CONFIG", "SET", "appendfsync", "always"}).has_value());
  ASSERT_TRUE(a->Command({"SET", "k", "survives"}).has_value());
  const int64_t pid_a = ServerPid(*a);
  const auto port_a = op_.Instance("a")->status.endpoint.port;
  const std::string password_a = op_.Password("a");
  auto b = Connect(op_, "b");
  ASSERT_NE(b, nullptr);
  const int64_t pid_b = ServerPid(*b);

  op_.Kill9();
  EXPECT_TRUE(testing::ProcessAlive(static_cast<pid_t>(pid_a)));  // servers outlive the operator
  // While the operator is down, b's server dies too.
  ::kill(static_cast<pid_t>(pid_b), SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return !testing::ProcessAlive(static_cast<pid_t>(pid_b)); }));

  StartOperator();
  // a is adopted as it is: same process, port and password, data intact.
  ASSERT_TRUE(WaitUntil([&] {
    auto c = Connect(op_, "b");
    return c && c->Ping().ok();
  })) << op_.Log();
  EXPECT_EQ(op_.Instance("a")->status.endpoint.port, port_a);
  EXPECT_EQ(op_.Password("a"), password_a);
  auto a2 = Connect(op_, "a");
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(ServerPid(*a2), pid_a);
  auto v = a2->Command({"GET", "k"});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->str, "survives");
  // b was started again, once.
  auto b2 = Connect(op_, "b");
  ASSERT_NE(b2, nullptr);
  EXPECT_NE(ServerPid(*b2), pid_b);
  std::size_t dirs = 0;
  for (auto& e : std::filesystem::directory_iterator(op_.state_dir() + "/redis")) {
    (void)e;
    ++dirs;
  }
  EXPECT_EQ(dirs, 2u);
}

TEST_F(StandaloneTest, BadFileNextToGoodOnesIsReportedAndSkipped) {
  WriteText(op_.dir() + "/good.yaml", InstanceYaml("good", 16));
  WriteText(op_.dir() + "/bad.yaml", InstanceYaml("bad", 16, "  memoryMB: 3\n"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "good", api::Phase::kReady); })) << op_.Log();
  EXPECT_FALSE(op_.Instance("bad").has_value());

  auto get = RunCommand({testing::BinaryPath(), "get", "redisinstances", "--state-dir", op_.state_dir()});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_THAT(get.out, HasSubstr("good"));
  EXPECT_THAT(get.out, HasSubstr("Ready"));
  EXPECT_THAT(get.err, HasSubstr("bad.yaml: doc 1: RedisInstance default/bad: spec.memoryMB"));

  ASSERT_TRUE(WaitUntil([&] {
    return testing::HttpGet(op_.metrics_port(), "/metrics").second.find("redisfleet_invalid_resources 1") !=
           std::string::npos;
  }));

  // Breaking a good resource keeps it running as it was.
  auto client = Connect(op_, "good");
  ASSERT_NE(client, nullptr);
  const int64_t pid = ServerPid(*client);
  WriteText(op_.dir() + "/good.yaml", InstanceYaml("good", -5));
  ASSERT_TRUE(WaitUntil([&] {
    auto r = op_.Instance("good");
    if (!r) return false;
    const auto* valid = api::FindCondition(r->status.conditions, "Valid");
    return valid != nullptr && valid->status == "False";
  })) << op_.Log();
  EXPECT_TRUE(client->Ping().ok());
  EXPECT_EQ(ServerPid(*client), pid);
  EXPECT_EQ(op_.Instance("good")->status.phase, api::Phase::kReady);
}

TEST_F(StandaloneTest, HealthMetricsAndGracefulShutdown) {
  WriteText(op_.dir() + "/one.yaml", InstanceYaml("one", 16));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "one", api::Phase::kReady); })) << op_.Log();
  EXPECT_EQ(testing::HttpGet(op_.health_port(), "/healthz").first, 200);
  ASSERT_TRUE(WaitUntil([&] {
    auto body = testing::HttpGet(op_.metrics_port(), "/metrics").second;
    return body.find("redisfleet_instances{phase=\"Ready\"} 1") != std::string::npos;
  })) << testing::HttpGet(op_.metrics_port(), "/metrics").second;
  auto body = testing::HttpGet(op_.metrics_port(), "/metrics").second;
  EXPECT_THAT(body, HasSubstr("redisfleet_reconcile_total{controller=\"redisinstance\",result=\"success\"}"));
  EXPECT_THAT(body, HasSubstr("redisfleet_reconcile_duration_seconds_bucket"));
  EXPECT_THAT(body, HasSubstr("redisfleet_workqueue_depth"));
  // No secret anywhere in what the operator printed or exports.
  const std::string password = op_.Password("one");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(body.find(password), std::string::npos);
  EXPECT_EQ(op_.Log().find(password), std::string::npos);

  auto rc = op_.Terminate();
  ASSERT_TRUE(rc.has_value()) << "operator did not exit after SIGTERM";
  EXPECT_EQ(*rc, 0);
}

TEST(ValidateCommand, ReportsEveryProblemWithFileDocAndField) {
  TempDir dir;
  WriteText(dir / "ok.yaml", InstanceYaml("ok", 16));
  WriteText(dir / "bad.yaml", InstanceYaml("bad", 0) + "---\n" + InstanceYaml("ok", 16, "  persistence: sometimes\n"));
  auto ok = RunCommand({testing::BinaryPath(), "validate", "-f", dir / "ok.yaml"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto bad = RunCommand({testing::BinaryPath(), "validate", "-f", dir / "ok.yaml", "-f", dir / "bad.yaml"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr(dir / "bad.yaml" + ": doc 1: RedisInstance default/bad: spec.memoryMiB:"));
  EXPECT_THAT(bad.err, HasSubstr("(got 0)"));
  EXPECT_THAT(bad.err, HasSubstr(dir / "bad.yaml" + ": doc 2: RedisInstance default/ok: spec.persistence:"));
  EXPECT_THAT(bad.err, HasSubstr("(got sometimes)"));
}

TEST(ValidateCommand, ShippedExamplesAreValid) {
  auto r = RunCommand({testing::BinaryPath(), "validate", "-f",
                       testing::SourceDir() + "/examples/quickstart/pool.yaml", "-f",
                       testing::SourceDir() + "/examples/quickstart/instances.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace redisfleet

namespace redisfleet {
namespace {

std::string PolicyYaml(const std::string& target, const std::string& mode) {
  return "apiVersion: redisfleet.io/v1alpha1\nkind: ScalingPolicy\nmetadata:\n  name: " + target +
         "-policy\nspec:\n  targetRef: {name: " + target + "}\n  mode: " + mode +
         "\n  intervalSeconds: 1\n  targets: {memoryPercent: 80, connectionsPercent: 80}\n"
         "  scaleUp: {sustainSeconds: 2}\n  scaleDown: {sustainSeconds: 3, bufferPercent: 5, lowerPlanMaxPercent: 75}\n"
         "  cooldownSeconds: 2\n  plans:\n"
         "    - {name: small, memoryMiB: 8, maxClients: 20, monthlyCost: 5}\n"
         "    - {name: medium, memoryMiB: 32, maxClients: 20, monthlyCost: 15}\n"
         "  minPlan: small\n  maxPlan: medium\n";
}

std::vector<std::string> Actions(const testing::OperatorProcess& op, const std::string& policy) {
  std::vector<std::string> out;
  if (auto p = op.Policy(policy)) {
    for (const auto& d : p->status.decisions) out.push_back(d.action);
  }
  return out;
}

// ~6 MiB of values: above 80% of an 8 MiB plan, well under it on 32 MiB.
void Fill(redis::RedisClient& c) {
  const std::string value(100 * 1024, 'x');
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(c.Command({"SET", "k" + std::to_string(i), value}).ok());
}

TEST_F(StandaloneTest, ScalingPolicyScalesUpUnderLoadInPlaceAndBackDownWhenEmptied) {
  WriteText(op_.dir() + "/cache.yaml", InstanceYaml("cache", 8, "  plan: small\n  persistence: none\n"));
  WriteText(op_.dir() + "/policy.yaml", PolicyYaml("cache", "Auto"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "cache", api::Phase::kReady); })) << op_.Log();
  auto client = Connect(op_, "cache");
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(ConfigInt(*client, "maxmemory"), 8 * 1024 * 1024);
  const int64_t pid = ServerPid(*client);

  Fill(*client);
  ASSERT_TRUE(WaitUntil([&] { return ConfigInt(*client, "maxmemory") == 32 * 1024 * 1024; },
                        std::chrono::seconds(60)))
      << op_.Log();
  EXPECT_EQ(ServerPid(*client), pid) << "resized in place, no restart";
  EXPECT_EQ(client->Command({"STRLEN", "k59"})->integer, 100 * 1024) << "data intact";
  ASSERT_TRUE(WaitUntil([&] {
    auto a = Actions(op_, "cache-policy");
    return std::find(a.begin(), a.end(), "ScaleSucceeded") != a.end();
  }, std::chrono::seconds(30))) << op_.Log();
  EXPECT_EQ(Actions(op_, "cache-policy").front(), "ScaleUp");
  EXPECT_EQ(op_.Instance("cache")->status.plan, "medium");
  EXPECT_EQ(op_.Policy("cache-policy")->status.instances.at(0).current_plan, "medium");

  // Emptied: back to the cheaper plan once use stays low for the scale-down window.
  ASSERT_TRUE(client->Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(WaitUntil([&] { return ConfigInt(*client, "maxmemory") == 8 * 1024 * 1024; },
                        std::chrono::seconds(60)))
      << op_.Log();
  EXPECT_EQ(ServerPid(*client), pid);
  EXPECT_TRUE(WaitUntil([&] {  // the state file is written behind, within milliseconds
    auto a = Actions(op_, "cache-policy");
    return std::find(a.begin(), a.end(), "ScaleDown") != a.end();
  })) << op_.Log();

  // The decisions are counted in /metrics.
  const std::string metrics = testing::HttpGet(op_.metrics_port(), "/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("redisfleet_scaling_decisions_total{action=\"ScaleUp\",mode=\"Auto\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("redisfleet_redis_used_memory_bytes{"));
  EXPECT_EQ(metrics.find(op_.Password("cache")), std::string::npos);
  EXPECT_EQ(op_.Log().find(op_.Password("cache")), std::string::npos);
}

TEST_F(StandaloneTest, DryRunPolicyRecordsItsDecisionAndNeverActs) {
  WriteText(op_.dir() + "/cache.yaml", InstanceYaml("cache", 8, "  plan: small\n  persistence: none\n"));
  WriteText(op_.dir() + "/policy.yaml", PolicyYaml("cache", "DryRun"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return InPhase(op_, "cache", api::Phase::kReady); })) << op_.Log();
  auto client = Connect(op_, "cache");
  ASSERT_NE(client, nullptr);
  Fill(*client);
  ASSERT_TRUE(WaitUntil([&] {
    auto a = Actions(op_, "cache-policy");
    return !a.empty() && a.front() == "DryRun:ScaleUp";
  }, std::chrono::seconds(60))) << op_.Log();
  EXPECT_EQ(op_.Policy("cache-policy")->status.instances.at(0).recommended_plan, "medium");
  // Several cycles later it still runs the plan it had.
  ASSERT_TRUE(WaitUntil([&] { return Actions(op_, "cache-policy").size() >= 2; }, std::chrono::seconds(60)))
      << op_.Log();
  EXPECT_EQ(ConfigInt(*client, "maxmemory"), 8 * 1024 * 1024);
  EXPECT_EQ(op_.Instance("cache")->status.memory_mib, 8);
}

}  // namespace
}  // namespace redisfleet
