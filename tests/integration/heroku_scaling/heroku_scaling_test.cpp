// The real redis-fleet binary in standalone mode scaling Heroku add-ons: the fake Heroku API runs
// in this process (spec.heroku.apiURL points the operator at it) and each add-on is backed by a
// real redis-server serving TLS with certificates made by the openssl CLI at start. The policy
// sees the Redis fill up, the operator changes the add-on's plan, the fake applies it to the
// real server (maxmemory) and rotates the URL, and the operator follows it; a refused change is
// recorded as a failure, never a success. No secret ever reaches the operator's log.

#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/types.h"
#include "fake_heroku.h"
#include "redis/client.h"
#include "support/harness.h"
#include "support/operator_process.h"

namespace redisfleet {
namespace {

using fakes::FakeAddonSetup;
using fakes::FakeHeroku;
using fakes::FakeRedisBackend;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Child;
using testing::FreePort;
using testing::ReadText;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteText;

constexpr char kApiKey[] = "hrku-scaling-key-5d2c8e9f01ab";
constexpr int64_t kMiB = 1024 * 1024;

// A redis-server with a plain admin port (the fake's CONFIG SET) and a TLS port (REDIS_URL).
struct Backend {
  int admin_port = 0;
  int tls_port = 0;
  std::string password;
  std::unique_ptr<Child> child;
};

class HerokuScalingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const TempDir& d = *dir_;
    // Self-signed like Heroku's: the operator is told to skip verification.
    setup_error_ = testing::MakeTestCertificates(d.path(), "heroku-scaling-test-ca");
    if (!setup_error_.empty()) return;

    FakeHeroku::Options fo;
    fo.api_key = kApiKey;
    fo.rate_limit_pool = 100000;
    fo.refill_per_second = 1000;
    fo.provisioning_time = std::chrono::milliseconds(500);
    fake_ = new FakeHeroku(fo);
    // shop: plan changes work and rotate the URL; legacy: the add-on refuses plan changes.
    for (const char* app : {"shop", "legacy"}) {
      Backend& b = backends_[app];
      b.admin_port = FreePort();
      b.tls_port = FreePort();
      b.password = std::string("initial-") + app + "-pw-2718";
      const std::string conf = d / (std::string(app) + ".conf");
      WriteText(conf, "bind 127.0.0.1\nport " + std::to_string(b.admin_port) + "\ntls-port " +
                          std::to_string(b.tls_port) + "\ntls-cert-file " + d / "server.crt" +
                          "\ntls-key-file " + d / "server.key" + "\ntls-ca-cert-file " + d / "ca.crt" +
                          "\ntls-auth-clients no\nrequirepass " + b.password +
                          "\nmaxmemory 25mb\nmaxmemory-policy noeviction\nmaxclients 20\n"
                          "save \"\"\nappendonly no\ndir " + d.path() + "\n");
      b.child = std::make_unique<Child>(std::vector<std::string>{"redis-server", conf},
                                        d / (std::string(app) + "-redis.log"));
      const int port = b.admin_port;
      const std::string pw = b.password;
      if (!WaitUntil([&] { return Admin(port, pw) != nullptr; })) {
        setup_error_ = std::string("redis-server for ") + app + " did not start: " + b.child->Log();
        return;
      }
      FakeAddonSetup s;
      s.app = app;
      s.name = std::string(app) + "-redis";
      s.plan = "mini";  // 25 MiB, 20 clients
      s.backend = FakeRedisBackend{"127.0.0.1", b.tls_port, b.admin_port, b.password};
      s.rotate_url_on_change = std::string(app) == "shop";
      s.plan_change_supported = std::string(app) == "shop";
      if (auto id = fake_->AddAddon(s); !id.ok()) {
        setup_error_ = id.error().ToString();
        return;
      }
    }
    if (auto s = fake_->Start(); !s.ok()) setup_error_ = s.ToString();
  }

  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
    for (auto& [app, b] : backends_) b.child.reset();
    backends_.clear();
    delete dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    std::filesystem::create_directories(dir_res_ + "/secrets/heroku");
    WriteText(dir_res_ + "/secrets/heroku/apiKey", kApiKey);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- operator log ----\n" << op_.Log() << "\n";
      for (const char* kind : {"redisinstances", "scalingpolicies"}) {
        std::cerr << "---- " << kind << " ----\n"
                  << RunCommand({testing::BinaryPath(), "get", kind, "--state-dir", op_.state_dir(), "-o", "json"}).out
                  << "\n";
      }
    }
    op_.Kill9();
  }

  static std::unique_ptr<redis::RedisClient> Admin(int port, const std::string& password) {
    redis::ConnectOptions o;
    o.port = port;
    o.password = password;
    auto c = redis::RedisClient::Connect(o);
    return c.ok() ? std::move(*c) : nullptr;
  }
  // The backend of `app` as the fake last left its password.
  static std::unique_ptr<redis::RedisClient> AdminOf(const std::string& app) {
    auto pw = fake_->BackendPassword(app + "-redis");
    return Admin(backends_.at(app).admin_port, pw.value_or(backends_.at(app).password));
  }
  static int64_t MaxMemory(const std::string& app) {
    auto c = AdminOf(app);
    if (!c) return -1;
    auto v = c->ConfigGet("maxmemory");
    return v ? std::stoll(*v) : -1;
  }
  // ~22 MiB of values: above 80 % of mini's 25 MiB, under it on premium-0's 50 MiB.
  static void Fill(const std::string& app, const std::string& prefix, int count) {
    auto c = AdminOf(app);
    ASSERT_NE(c, nullptr);
    const std::string value(100 * 1024, 'x');
    for (int i = 0; i < count; ++i) ASSERT_TRUE(c->Command({"SET", prefix + std::to_string(i), value}).ok());
  }

  void StartOperator() { ASSERT_TRUE(op_.Start()) << op_.Log(); }

  std::vector<std::string> Actions(const std::string& policy) const {
    std::vector<std::string> out;
    if (auto p = op_.Policy(policy))
      for (const auto& d : p->status.decisions) out.push_back(d.action);
    return out;
  }
  bool Has(const std::string& policy, const std::string& action) const {
    auto a = Actions(policy);
    return std::find(a.begin(), a.end(), action) != a.end();
  }
  // A sample value of `family` for instance `name` from /metrics; -1 when absent.
  double Metric(const std::string& family, const std::string& name) const {
    const std::string text = testing::HttpGet(op_.metrics_port(), "/metrics").second;
    std::regex line("^" + family + "\\{([^}]*)\\} ([-+0-9.eE]+)$");
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string l = text.substr(pos, end - pos);
      pos = end + 1;
      std::smatch m;
      if (std::regex_match(l, m, line) && m[1].str().find("name=\"" + name + "\"") != std::string::npos) {
        return std::stod(m[2].str());
      }
    }
    return -1;
  }

  static std::string InstanceYaml(const std::string& app) {
    return "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + app +
           "\nspec:\n  heroku:\n    app: " + app + "\n    addon: " + app +
           "-redis\n    apiKeySecretRef: {name: heroku, key: apiKey}\n    apiURL: " + fake_->url() +
           "\n    tlsInsecureSkipVerify: true\n";
  }
  static std::string PolicyYaml(const std::string& target, const std::string& catalogue) {
    return "apiVersion: redisfleet.io/v1alpha1\nkind: ScalingPolicy\nmetadata:\n  name: " + target +
           "-policy\nspec:\n  targetRef: {name: " + target +
           "}\n  mode: Auto\n  intervalSeconds: 1\n  targets: {memoryPercent: 80, connectionsPercent: 80}\n"
           "  scaleUp: {sustainSeconds: 2}\n  scaleDown: {sustainSeconds: 600, bufferPercent: 5, lowerPlanMaxPercent: 75}\n"
           "  cooldownSeconds: 600\n" + catalogue;
  }

  inline static TempDir* dir_ = nullptr;
  inline static FakeHeroku* fake_ = nullptr;
  inline static std::map<std::string, Backend> backends_;
  inline static std::string setup_error_;

  TempDir root_;
  std::string dir_res_ = root_.path() + "/resources";
  testing::OperatorProcess op_{root_.path(), dir_res_, root_.path() + "/state"};
};

TEST_F(HerokuScalingTest, FillingTheRedisScalesTheAddonUpAndTheOperatorFollowsTheRotatedUrl) {
  WriteText(dir_res_ + "/shop.yaml", InstanceYaml("shop"));
  WriteText(dir_res_ + "/policy.yaml",
            PolicyYaml("shop", "  planCatalog: {herokuAddonService: heroku-redis}\n  minPlan: mini\n"
                               "  maxPlan: premium-1\n"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] {
    auto ri = op_.Instance("shop");
    return ri && ri->status.phase == api::Phase::kReady;
  }, std::chrono::seconds(30))) << op_.Log();
  auto ri = *op_.Instance("shop");
  const Backend& b = backends_.at("shop");
  EXPECT_EQ(ri.status.plan, "mini");
  EXPECT_EQ(ri.status.memory_mib, 25);
  EXPECT_EQ(ri.status.url, "rediss://127.0.0.1:" + std::to_string(b.tls_port));
  EXPECT_EQ(op_.Password("shop"), b.password);
  // Metrics flow over TLS (self-signed certificate, verification skipped by the instance's opt-out).
  ASSERT_TRUE(WaitUntil([&] { return Metric("redisfleet_redis_maxmemory_bytes", "shop") == 25 * kMiB; },
                        std::chrono::seconds(20)))
      << op_.Log();

  Fill("shop", "k", 220);
  ASSERT_TRUE(WaitUntil([&] { return fake_->AddonPlan("shop-redis") == "premium-0"; }, std::chrono::seconds(60)))
      << op_.Log();
  ASSERT_TRUE(WaitUntil([&] { return MaxMemory("shop") == 50 * kMiB; }, std::chrono::seconds(30))) << op_.Log();
  const std::string rotated = fake_->BackendPassword("shop-redis").value_or("");
  ASSERT_FALSE(rotated.empty());
  ASSERT_NE(rotated, b.password) << "the fake rotates the URL on a plan change";

  // The operator follows: plan and capacity, the new password in the connection secret.
  ASSERT_TRUE(WaitUntil([&] {
    auto now = op_.Instance("shop");
    return now && now->status.plan == "premium-0" && now->status.phase == api::Phase::kReady &&
           op_.Password("shop") == rotated;
  }, std::chrono::seconds(30))) << op_.Log();
  ri = *op_.Instance("shop");
  EXPECT_EQ(ri.status.memory_mib, 50);
  EXPECT_EQ(ri.status.url.find(rotated), std::string::npos);
  EXPECT_EQ(ri.status.url, "rediss://127.0.0.1:" + std::to_string(b.tls_port));
  ASSERT_TRUE(WaitUntil([&] { return Has("shop-policy", "ScaleSucceeded"); }, std::chrono::seconds(30))) << op_.Log();
  EXPECT_EQ(Actions("shop-policy").front(), "ScaleUp");
  EXPECT_FALSE(Has("shop-policy", "ScaleFailed"));

  // Metrics keep flowing with the new password: old connections dropped, new data seen.
  {
    auto admin = AdminOf("shop");
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->Command({"CLIENT", "KILL", "TYPE", "normal"}).ok());
  }
  const double before = Metric("redisfleet_redis_used_memory_bytes", "shop");
  Fill("shop", "more", 40);  // +4 MiB
  ASSERT_TRUE(WaitUntil([&] {
    return Metric("redisfleet_redis_used_memory_bytes", "shop") > before + 3 * kMiB &&
           Metric("redisfleet_redis_maxmemory_bytes", "shop") == 50 * kMiB;
  }, std::chrono::seconds(30))) << op_.Log();

  const std::string metrics = testing::HttpGet(op_.metrics_port(), "/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("redisfleet_api_ratelimit_remaining{provider=\"heroku\"}"));
  EXPECT_THAT(metrics, HasSubstr("redisfleet_api_requests_total{code=\"200\",provider=\"heroku\"}"));
  // No DigitalOcean pool here: no DigitalOcean rate-limit series reading 0 ("exhausted").
  EXPECT_THAT(metrics, Not(HasSubstr("redisfleet_api_ratelimit_remaining{provider=\"digitalocean\"}")));
  EXPECT_THAT(metrics, HasSubstr("redisfleet_scaling_decisions_total{action=\"ScaleSucceeded\",mode=\"Auto\"} 1"));
  const std::string log = op_.Log();
  for (const std::string& secret : {std::string(kApiKey), b.password, rotated}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "a secret in the operator log";
    EXPECT_EQ(metrics.find(secret), std::string::npos) << "a secret in /metrics";
  }
}

TEST_F(HerokuScalingTest, APlanChangeTheAddonRefusesIsAScaleFailureNeverASuccess) {
  WriteText(dir_res_ + "/legacy.yaml", InstanceYaml("legacy"));
  WriteText(dir_res_ + "/policy.yaml",
            PolicyYaml("legacy", "  plans:\n"
                                 "    - {name: mini, memoryMiB: 25, maxClients: 20, monthlyCost: 3}\n"
                                 "    - {name: premium-0, memoryMiB: 50, maxClients: 40, monthlyCost: 15}\n"));
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] {
    auto ri = op_.Instance("legacy");
    return ri && ri->status.phase == api::Phase::kReady;
  }, std::chrono::seconds(30))) << op_.Log();

  Fill("legacy", "k", 220);
  ASSERT_TRUE(WaitUntil([&] { return Has("legacy-policy", "ScaleFailed"); }, std::chrono::seconds(60))) << op_.Log();
  auto actions = Actions("legacy-policy");
  EXPECT_EQ(actions.front(), "ScaleUp");
  EXPECT_FALSE(Has("legacy-policy", "ScaleSucceeded"));
  EXPECT_EQ(fake_->AddonPlan("legacy-redis"), "mini");
  EXPECT_EQ(MaxMemory("legacy"), 25 * kMiB);
  auto ri = *op_.Instance("legacy");
  EXPECT_EQ(ri.status.plan, "mini");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady) << "the add-on still serves";
  const api::Condition* scaled = api::FindCondition(ri.status.conditions, "Scaled");
  ASSERT_NE(scaled, nullptr);
  EXPECT_EQ(scaled->reason, "PlanChangeFailed");
  EXPECT_THAT(scaled->message, HasSubstr("plan change not supported"));
  auto p = *op_.Policy("legacy-policy");
  for (const auto& d : p.status.decisions) {
    if (d.action == "ScaleFailed") {
      EXPECT_THAT(d.reason, HasSubstr("plan change not supported"));
    }
  }
  const std::string metrics = testing::HttpGet(op_.metrics_port(), "/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("redisfleet_scaling_decisions_total{action=\"ScaleFailed\",mode=\"Auto\"} 1"));
  const std::string log = op_.Log();
  EXPECT_EQ(log.find(kApiKey), std::string::npos);
  EXPECT_EQ(log.find(backends_.at("legacy").password), std::string::npos);
}

}  // namespace
}  // namespace redisfleet
