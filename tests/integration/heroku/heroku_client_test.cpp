// HerokuClient against the fake Heroku API, whose add-ons are backed by one real redis-server
// with TLS (certificates made with the openssl CLI at start).

#include "providers/heroku/heroku_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "fake_heroku.h"
#include "redis/client.h"
#include "support/harness.h"

namespace redisfleet::heroku {
namespace {

using fakes::FakeAddonSetup;
using fakes::FakeHeroku;
using fakes::FakeRedisBackend;
using redisfleet::testing::Child;
using redisfleet::testing::FreePort;
using redisfleet::testing::RunCommand;
using redisfleet::testing::TempDir;
using redisfleet::testing::WaitUntil;
using redisfleet::testing::WriteText;

constexpr char kApiKey[] = "hrku-test-key-7f3a9c1e55d04b2a";
constexpr char kRedisPassword[] = "initial-Redis-pw-3141";

std::string PasswordOf(const std::string& url) {
  // rediss://:<pass>@host:port
  const auto colon = url.find(":", std::string("rediss://").size());
  const auto at = url.rfind('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon) return "";
  return url.substr(colon + 1, at - colon - 1);
}

class HerokuClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const TempDir& d = *dir_;
    // A CA and a server certificate for 127.0.0.1 (IP SAN).
    setup_error_ = testing::MakeTestCertificates(d.path(), "fake-heroku-test-ca");
    if (!setup_error_.empty()) return;
    admin_port_ = FreePort();
    tls_port_ = FreePort();
    // The password goes in the config file, not argv.
    WriteText(d / "redis.conf",
              "bind 127.0.0.1\n"
              "port " + std::to_string(admin_port_) + "\n"
              "tls-port " + std::to_string(tls_port_) + "\n"
              "tls-cert-file " + d / "server.crt" + "\n"
              "tls-key-file " + d / "server.key" + "\n"
              "tls-ca-cert-file " + d / "ca.crt" + "\n"
              "tls-auth-clients no\n"
              "requirepass " + kRedisPassword + "\n"
              "save \"\"\nappendonly no\n"
              "dir " + d.path() + "\n");
    redis_ = new Child({"redis-server", d / "redis.conf"}, d / "redis.log");
    const bool up = WaitUntil([] {
      redis::ConnectOptions o;
      o.port = admin_port_;
      o.password = kRedisPassword;
      auto c = redis::RedisClient::Connect(o);
      return c.ok() && (*c)->Ping().ok();
    });
    if (!up) {
      setup_error_ = "redis-server did not start: " + redis_->Log();
      return;
    }

    FakeHeroku::Options fo;
    fo.api_key = kApiKey;
    fo.rate_limit_pool = 100000;
    fo.refill_per_second = 1000;
    fo.provisioning_time = std::chrono::milliseconds(300);
    fake_ = new FakeHeroku(fo);
    FakeRedisBackend backend;
    backend.tls_port = tls_port_;
    backend.admin_port = admin_port_;
    backend.password = kRedisPassword;
    auto add = [&](FakeAddonSetup s) {
      auto id = fake_->AddAddon(std::move(s));
      if (!id.ok() && setup_error_.empty()) setup_error_ = id.error().ToString();
      return id.ok() ? *id : std::string();
    };
    auto setup = [](std::string app, std::string name) {
      FakeAddonSetup s;
      s.app = std::move(app);
      s.name = std::move(name);
      return s;
    };
    FakeAddonSetup shop = setup("shop", "shop-redis");
    shop.backend = backend;
    shop_id_ = add(shop);
    FakeAddonSetup blog = setup("blog", "blog-redis");
    blog.backend = backend;
    blog.rotate_url_on_change = true;
    add(blog);
    FakeAddonSetup legacy = setup("legacy", "legacy-redis");
    legacy.plan_change_supported = false;
    add(legacy);
    for (const char* app : {"gone", "misc", "slow"}) add(setup(app, std::string(app) + "-redis"));
    if (auto s = fake_->Start(); !s.ok()) setup_error_ = s.ToString();
  }

  static void TearDownTestSuite() {
    if (fake_) {
      // The client sends the v3 Accept header on every request: no 406 in the whole run.
      for (const auto& e : fake_->RequestLog()) EXPECT_NE(e.status, 406) << e.method << " " << e.path;
    }
    delete fake_;
    delete redis_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    fake_->ClearLog();
    fake_->SetRateLimit(100000, 1000);
  }

  static HerokuClientOptions Options(std::string key = kApiKey) {
    HerokuClientOptions o;
    o.api_url = fake_->url();
    o.api_key = std::move(key);
    o.timeout = std::chrono::milliseconds(3000);
    o.retry.max_attempts = 4;
    o.retry.backoff_base = std::chrono::milliseconds(20);
    o.retry.backoff_cap = std::chrono::milliseconds(200);
    o.retry.rate_limit_floor = 0;
    o.poll_base = std::chrono::milliseconds(50);
    o.poll_cap = std::chrono::milliseconds(200);
    return o;
  }

  static std::unique_ptr<redis::RedisClient> Admin(const std::string& password) {
    redis::ConnectOptions o;
    o.port = admin_port_;
    o.password = password;
    auto c = redis::RedisClient::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static int Count(const std::string& method, const std::string& path, int status) {
    const auto log = fake_->RequestLog();
    return static_cast<int>(std::count_if(log.begin(), log.end(), [&](const auto& e) {
      return e.method == method && e.path == path && e.status == status;
    }));
  }

  RealClock clock_;
  inline static TempDir* dir_ = nullptr;
  inline static Child* redis_ = nullptr;
  inline static FakeHeroku* fake_ = nullptr;
  inline static int admin_port_ = 0;
  inline static int tls_port_ = 0;
  inline static std::string shop_id_;
  inline static std::string setup_error_;
};

TEST_F(HerokuClientTest, GetsAddonByAppAndNameAndById) {
  HerokuClient client(Options(), clock_);
  auto a = client.GetAddon("shop", "shop-redis");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->id, shop_id_);
  EXPECT_EQ(a->name, "shop-redis");
  EXPECT_EQ(a->app, "shop");
  EXPECT_EQ(a->addon_service, "heroku-redis");
  EXPECT_EQ(a->state, "provisioned");
  EXPECT_EQ(a->config_vars, std::vector<std::string>{"REDIS_URL"});
  EXPECT_EQ(a->plan.rfind("heroku-redis:", 0), 0u) << a->plan;

  auto by_id = client.GetAddon("", shop_id_);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->name, "shop-redis");
  EXPECT_EQ(Count("GET", "/addons/" + shop_id_, 200), 1);
  EXPECT_GT(client.rate_limit_remaining(), 0);

  // Every request carries its own Request-Id and the User-Agent.
  const auto log = fake_->RequestLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].request_id.size(), 36u) << log[0].request_id;
  EXPECT_NE(log[0].request_id, log[1].request_id);
  EXPECT_EQ(log[0].user_agent, "redis-fleet/0.1 (heroku)");

  auto missing = client.GetAddon("shop", "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("not_found"), std::string::npos)
      << missing.status().message();
}

TEST_F(HerokuClientTest, ChangePlanWaitsProvisionedAndResizesTheRealServer) {
  HerokuClient client(Options(), clock_);
  auto changed = client.ChangePlan("shop", "shop-redis", "premium-1");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->plan, "heroku-redis:premium-1");
  EXPECT_EQ(changed->state, "provisioning");

  auto done = client.WaitProvisioned("shop", "shop-redis", clock_.Now() + std::chrono::seconds(10));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state, "provisioned");
  EXPECT_EQ(done->ShortPlan(), "premium-1");
  EXPECT_EQ(Count("PATCH", "/apps/shop/addons/shop-redis", 200), 1);

  auto admin = Admin(*fake_->BackendPassword("shop-redis"));
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->ConfigGet("maxmemory").value(), std::to_string(100LL * 1024 * 1024));
  EXPECT_EQ(admin->ConfigGet("maxclients").value(), "80");
}

TEST_F(HerokuClientTest, RotatedUrlIsReReadAndWorksOverTls) {
  HerokuClient client(Options(), clock_);
  auto before = client.GetConfigVar("blog", "REDIS_URL");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(client.ChangePlan("blog", "blog-redis", "heroku-redis:premium-0").ok());
  auto done = client.WaitProvisioned("blog", "blog-redis", clock_.Now() + std::chrono::seconds(10));
  ASSERT_TRUE(done.ok()) << done.status().ToString();

  auto after = client.GetConfigVar("blog", "REDIS_URL");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE(*after, *before);
  const std::string new_pass = PasswordOf(*after);
  ASSERT_FALSE(new_pass.empty());
  EXPECT_EQ(*after, "rediss://:" + new_pass + "@127.0.0.1:" + std::to_string(tls_port_));

  // The old password is refused, the new one works; maxmemory is premium-0's 50 MiB.
  redis::ConnectOptions old_opts;
  old_opts.port = admin_port_;
  old_opts.password = PasswordOf(*before);
  EXPECT_EQ(redis::RedisClient::Connect(old_opts).status().code(), StatusCode::kUnauthenticated);
  auto admin = Admin(new_pass);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->ConfigGet("maxmemory").value(), std::to_string(50LL * 1024 * 1024));

  // The URL works as a client would use it: TLS, verified against the test CA.
  // (redis-cli 7.0 -u sends an empty user name for "rediss://:pw@", so pass the parts.)
  auto ping = RunCommand({"redis-cli", "--no-auth-warning", "--tls", "--cacert", *dir_ / "ca.crt",
                          "-h", "127.0.0.1", "-p", std::to_string(tls_port_), "-a", new_pass,
                          "PING"});
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_NE(ping.out.find("PONG"), std::string::npos) << ping.out << ping.err;

  auto missing = client.GetConfigVar("blog", "NOPE_URL");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().find(new_pass), std::string::npos);
}

TEST_F(HerokuClientTest, ListsPlansAcrossSeveralRangePages) {
  auto opts = Options();
  opts.page_size = 2;
  HerokuClient client(opts, clock_);
  auto plans = client.ListPlans("heroku-redis");
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), FakeHeroku::DefaultRedisPlans().size());
  EXPECT_EQ(Count("GET", "/addon-services/heroku-redis/plans", 206), 3);
  EXPECT_EQ(Count("GET", "/addon-services/heroku-redis/plans", 200), 1);
  std::vector<std::string> names;
  for (const auto& p : *plans) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end()) << "a plan came twice";

  auto catalog = ToCatalog(*plans);
  EXPECT_TRUE(catalog.unknown.empty());
  ASSERT_EQ(catalog.plans.size(), plans->size());
  EXPECT_EQ(catalog.plans.front().name, "mini");
  EXPECT_DOUBLE_EQ(catalog.plans.front().monthly_cost, 3.0);
  auto p1 = std::find_if(catalog.plans.begin(), catalog.plans.end(),
                         [](const api::Plan& p) { return p.name == "premium-1"; });
  ASSERT_NE(p1, catalog.plans.end());
  EXPECT_EQ(p1->memory_mib, 100);
  EXPECT_EQ(p1->max_clients, 80);
  EXPECT_DOUBLE_EQ(p1->monthly_cost, 30.0);

  // A plan without known capacity is reported, not guessed.
  fake_->SetPlans("heroku-redis-beta", {{"premium-6", "Premium 6", 50000, 0, 0},
                                        {"premium-0", "Premium 0", 1500, 50, 40}});
  auto beta = client.ListPlans("heroku-redis-beta");
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  auto beta_catalog = ToCatalog(*beta);
  EXPECT_TRUE(beta_catalog.plans.empty());  // another service: heroku-redis table does not apply
  EXPECT_EQ(beta_catalog.unknown.size(), 2u);
}

TEST_F(HerokuClientTest, RateLimitedThenSucceeds) {
  HerokuClient client(Options(), clock_);
  fake_->SetRateLimit(0, 20);  // empty pool, one token every 50 ms
  auto a = client.GetAddon("misc", "misc-redis");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_GE(Count("GET", "/apps/misc/addons/misc-redis", 429), 1);
  EXPECT_EQ(Count("GET", "/apps/misc/addons/misc-redis", 200), 1);
  EXPECT_GE(client.rate_limited_total(), 1);
  EXPECT_GE(client.rate_limit_remaining(), 0);
}

TEST_F(HerokuClientTest, RateLimitedForeverIsABoundedFailure) {
  auto opts = Options();
  std::vector<long> statuses;  // what the request metric is fed
  opts.on_response = [&statuses](long status) { statuses.push_back(status); };
  HerokuClient client(opts, clock_);
  fake_->SetRateLimit(0, 0);
  auto a = client.GetAddon("misc", "misc-redis");
  EXPECT_EQ(statuses, std::vector<long>(4, 429));  // every attempt, retries included
  EXPECT_EQ(a.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(a.status().message().find("rate_limit"), std::string::npos) << a.status().message();
  EXPECT_EQ(Count("GET", "/apps/misc/addons/misc-redis", 429), 4);  // max_attempts
  EXPECT_EQ(client.rate_limit_remaining(), 0);
  // /account/rate-limits does not count against the limit.
  auto remaining = client.GetRateLimitRemaining();
  ASSERT_TRUE(remaining.ok()) << remaining.status().ToString();
  EXPECT_EQ(*remaining, 0);
}

TEST_F(HerokuClientTest, HonoursRetryAfterOn429) {
  // A second fake whose 429s carry Retry-After: 1 (Heroku's own carry none).
  FakeHeroku::Options fo;
  fo.api_key = kApiKey;
  fo.retry_after_seconds = 1;
  FakeHeroku fake(fo);
  FakeAddonSetup s;
  s.app = "ra";
  s.name = "ra-redis";
  ASSERT_TRUE(fake.AddAddon(s).ok());
  ASSERT_TRUE(fake.Start().ok());
  fake.SetRateLimit(0, 5);  // a token 200 ms from now
  auto opts = Options();
  opts.api_url = fake.url();
  opts.retry.backoff_base = std::chrono::milliseconds(1);
  opts.retry.backoff_cap = std::chrono::milliseconds(1);
  HerokuClient client(opts, clock_);
  const auto start = std::chrono::steady_clock::now();
  auto a = client.GetAddon("ra", "ra-redis");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // One 429, then a wait of Retry-After (not the 1 ms backoff), then success.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  const auto log = fake.RequestLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status, 429);
  EXPECT_EQ(log[1].status, 200);
}

TEST_F(HerokuClientTest, SlowsDownBelowTheRemainingFloor) {
  auto opts = Options();
  opts.retry.rate_limit_floor = 1000;
  opts.retry.low_remaining_delay = std::chrono::milliseconds(400);
  HerokuClient client(opts, clock_);
  fake_->SetRateLimit(100, 0);
  ASSERT_TRUE(client.GetAddon("misc", "misc-redis").ok());  // learns remaining = 99
  EXPECT_EQ(client.rate_limit_remaining(), 99);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.GetAddon("misc", "misc-redis").ok());
  // Waits 400 ms * (1000 - 99) / 1000 before sending.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(HerokuClientTest, WrongKeyIsUnauthenticatedAndNeverInTheMessage) {
  const std::string wrong = "hrku-wrong-key-0badc0ffee";
  HerokuClient client(Options(wrong), clock_);
  auto a = client.GetAddon("shop", "shop-redis");
  EXPECT_EQ(a.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(a.status().message().find(wrong), std::string::npos) << a.status().message();
  EXPECT_EQ(a.status().message().find(kApiKey), std::string::npos);
  EXPECT_NE(a.status().message().find("unauthorized"), std::string::npos);
  EXPECT_EQ(Count("GET", "/apps/shop/addons/shop-redis", 401), 1);  // not retried

  auto no_key = HerokuClient(Options(""), clock_).GetConfigVar("shop", "REDIS_URL");
  EXPECT_EQ(no_key.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(HerokuClientTest, FakeAnswers406WithoutTheV3AcceptHeader) {
  // Proves the no-406 check in TearDownTestSuite means something.
  httplib::Client raw("127.0.0.1", fake_->port());
  auto r = raw.Get("/apps/shop/addons/shop-redis",
                   {{"Authorization", std::string("Bearer ") + kApiKey}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 406);
  EXPECT_NE(r->body.find("not_acceptable"), std::string::npos);
  EXPECT_FALSE(r->get_header_value("RateLimit-Remaining").empty());
  fake_->ClearLog();
}

TEST_F(HerokuClientTest, UnsupportedPlanChangeIsAFailure) {
  HerokuClient client(Options(), clock_);
  auto r = client.ChangePlan("legacy", "legacy-redis", "premium-2");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("plan change not supported"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(*fake_->AddonPlan("legacy-redis"), "mini");
  EXPECT_EQ(Count("PATCH", "/apps/legacy/addons/legacy-redis", 422), 1);  // not retried

  // An injected 422 on a changeable add-on is a failure too, and nothing changed.
  fake_->FailNext(1, 422, "invalid_params", "plan change not supported");
  auto injected = client.ChangePlan("misc", "misc-redis", "premium-2");
  EXPECT_EQ(injected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*fake_->AddonPlan("misc-redis"), "mini");

  auto unknown = client.ChangePlan("misc", "misc-redis", "premium-99");
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HerokuClientTest, DeprovisionedIsAFailureNeverSuccess) {
  HerokuClient client(Options(), clock_);
  ASSERT_TRUE(fake_->SetAddonState("gone-redis", "deprovisioned").ok());
  auto w = client.WaitProvisioned("gone", "gone-redis", clock_.Now() + std::chrono::seconds(5));
  EXPECT_EQ(w.status().code(), StatusCode::kFailedPrecondition);
  auto c = client.ChangePlan("gone", "gone-redis", "premium-0");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(*fake_->AddonPlan("gone-redis"), "mini");
}

TEST_F(HerokuClientTest, WaitProvisionedStopsAtTheDeadline) {
  HerokuClient client(Options(), clock_);
  ASSERT_TRUE(client.ChangePlan("slow", "slow-redis", "premium-0").ok());
  auto w = client.WaitProvisioned("slow", "slow-redis", clock_.Now() + std::chrono::milliseconds(60));
  EXPECT_EQ(w.status().code(), StatusCode::kDeadlineExceeded);
  // A second change while provisioning is refused (422), not silently queued.
  EXPECT_EQ(client.ChangePlan("slow", "slow-redis", "premium-1").status().code(),
            StatusCode::kInvalidArgument);
  auto done = client.WaitProvisioned("slow", "slow-redis", clock_.Now() + std::chrono::seconds(10));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->ShortPlan(), "premium-0");
}

TEST_F(HerokuClientTest, ServerErrorsAreRetriedThenBounded) {
  HerokuClient client(Options(), clock_);
  fake_->FailNext(2, 503, "service_unavailable", "try again");
  auto ok = client.GetAddon("misc", "misc-redis");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Count("GET", "/apps/misc/addons/misc-redis", 503), 2);

  fake_->FailNext(100, 500, "internal_server_error", "boom");
  auto bad = client.GetAddon("misc", "misc-redis");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Count("GET", "/apps/misc/addons/misc-redis", 500), 4);
  fake_->FailNext(0, 500, "", "");
}

TEST_F(HerokuClientTest, SlowResponseTimesOut) {
  auto opts = Options();
  opts.timeout = std::chrono::milliseconds(300);
  HerokuClient client(opts, clock_);
  fake_->SlowNext(1, std::chrono::milliseconds(1500));
  auto a = client.GetAddon("misc", "misc-redis");
  EXPECT_EQ(a.status().code(), StatusCode::kDeadlineExceeded) << a.status().ToString();
  EXPECT_TRUE(client.GetAddon("misc", "misc-redis").ok());
}

TEST(KnownPlanCapacityTest, DocumentedPlansOnly) {
  EXPECT_EQ(KnownPlanCapacity("mini")->memory_mib, 25);
  EXPECT_EQ(KnownPlanCapacity("heroku-redis:premium-0")->max_clients, 40);
  EXPECT_EQ(KnownPlanCapacity("premium-5")->memory_mib, 1024);
  EXPECT_EQ(KnownPlanCapacity("private-7")->max_clients, 10000);
  EXPECT_EQ(KnownPlanCapacity("shield-14")->memory_mib, 100 * 1024);
  EXPECT_FALSE(KnownPlanCapacity("premium-6").has_value());
  EXPECT_FALSE(KnownPlanCapacity("private-0").has_value());
  EXPECT_FALSE(KnownPlanCapacity("heroku-postgresql:premium-0").has_value());
  EXPECT_EQ(ShortPlanName("heroku-redis:premium-3"), "premium-3");
}

}  // namespace
}  // namespace redisfleet::heroku
