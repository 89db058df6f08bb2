// RedisInstances on Heroku add-ons: the HerokuActuator inside the RedisInstance reconciler over a
// fake HerokuApi (plan changes, provisioning, URL rotation, refused changes), and the
// ScalingPolicy reconciler deciding for Heroku instances (spec.plans or a planCatalog read from
// the fake, cached; TLS collector targets).

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/redisinstance/heroku.h"
#include "controllers/scalingpolicy/reconciler.h"
#include "fixture.h"

namespace redisfleet::controllers {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kMiB = 1024 * 1024;
constexpr const char* kKey = "heroku-key-123456";
constexpr const char* kPass1 = "first-password-abc";
constexpr const char* kPass2 = "second-password-xyz";

// One add-on; records calls; the next error of each call can be injected.
class FakeHerokuApi final : public HerokuApi {
 public:
  StatusOr<heroku::Addon> GetAddon(const std::string& app, const std::string& addon) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("GetAddon " + app + " " + addon);
    if (auto e = Take(get_error)) return *e;
    return addon_;
  }
  StatusOr<heroku::Addon> ChangePlan(const std::string& app, const std::string& addon,
                                     const std::string& plan) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("ChangePlan " + app + " " + addon + " " + plan);
    if (auto e = Take(change_error)) return *e;
    addon_.state = "provisioning";
    pending_ = plan;
    heroku::Addon out = addon_;
    out.plan = "heroku-redis:" + plan;
    return out;
  }
  StatusOr<std::string> GetConfigVar(const std::string& app, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("GetConfigVar " + app + " " + name);
    return url_;
  }
  StatusOr<std::vector<heroku::HerokuPlan>> ListPlans(const std::string& service) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("ListPlans " + service);
    if (auto e = Take(list_error)) return *e;
    return std::vector<heroku::HerokuPlan>{
        {"1", service + ":mini", "Mini", 300, "month", true},
        {"2", service + ":premium-0", "Premium 0", 1500, "month", false},
        {"3", service + ":premium-1", "Premium 1", 3000, "month", false},
        {"4", service + ":premium-2", "Premium 2", 6000, "month", false},
        {"5", service + ":mystery-9", "Mystery", 100, "month", false},
    };
  }

  // Test controls.
  void SetPlan(const std::string& plan, const std::string& state = "provisioned") {
    std::lock_guard<std::mutex> lock(mu_);
    addon_.plan = "heroku-redis:" + plan;
    addon_.state = state;
  }
  // The pending change is done (the add-on provisioned at the new plan).
  void Settle() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_.empty()) addon_.plan = "heroku-redis:" + pending_;
    pending_.clear();
    addon_.state = "provisioned";
  }
  void SetUrl(std::string url) {
    std::lock_guard<std::mutex> lock(mu_);
    url_ = std::move(url);
  }
  int Count(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }

  std::optional<Status> get_error, change_error, list_error;
  std::vector<std::string> calls;

 private:
  static std::optional<Status> Take(std::optional<Status>& e) {
    std::optional<Status> out = std::move(e);
    e.reset();
    return out;
  }
  std::mutex mu_;
  heroku::Addon addon_{"id-1", "redis-curly-1", "my-app", "heroku-redis:premium-0", "heroku-redis",
                       "provisioned", {"REDIS_URL"}};
  std::string pending_;
  std::string url_ = std::string("rediss://:") + kPass1 + "@ec2-1.compute.example:16379";
};

class FakeFactory final : public HerokuApiFactory {
 public:
  explicit FakeFactory(std::shared_ptr<FakeHerokuApi> api) : api_(std::move(api)) {}
  StatusOr<std::shared_ptr<HerokuApi>> For(const std::string& api_url, const std::string& api_key) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen.emplace_back(api_url, api_key);
    return std::shared_ptr<HerokuApi>(api_);
  }
  std::vector<std::pair<std::string, std::string>> seen;

 private:
  std::mutex mu_;
  std::shared_ptr<FakeHerokuApi> api_;
};

class RecordingUsage final : public UsageSource {
 public:
  Status Track(const api::Key& instance, const Target& target) override {
    std::lock_guard<std::mutex> lock(mu_);
    targets[instance] = target;
    return Status::Ok();
  }
  void Untrack(const api::Key& instance) override {
    std::lock_guard<std::mutex> lock(mu_);
    targets.erase(instance);
  }
  std::vector<scaling::Sample> Window(const api::Key& instance) override {
    std::lock_guard<std::mutex> lock(mu_);
    return windows[instance];
  }
  std::mutex mu_;
  std::map<api::Key, Target> targets;
  std::map<api::Key, std::vector<scaling::Sample>> windows;
};

// Captures log lines (to check that no secret is ever written).
struct CapturedLog {
  std::mutex mu;
  std::string text;
  std::string Text() {
    std::lock_guard<std::mutex> lock(mu);
    return text;
  }
};

class HerokuTest : public ControllerFixture {
 protected:
  void SetUp() override {
    ControllerFixture::SetUp();
    api_ = std::make_shared<FakeHerokuApi>();
    factory_ = std::make_shared<FakeFactory>(api_);
    sink_ = std::make_shared<CapturedLog>();
    log_ = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, clock_, [sink = sink_](const std::string& line) {
      std::lock_guard<std::mutex> lock(sink->mu);
      sink->text += line + "\n";
    });
    secrets_->Put("default", api::SecretKeyRef{"heroku", "apiKey"}, kKey);
    ri_->SetHerokuActuator(std::make_shared<HerokuActuator>(factory_, secrets_, clock_, log_));
    auto store = store_;
    ri_->SetPlanSource([store](const api::RedisInstance& ri) { return EffectivePlan(*store, ri); });
  }

  api::RedisInstance Addon(const std::string& plan = "") {
    api::RedisInstance ri;
    ri.metadata.name = "cache";
    ri.spec.heroku = api::HerokuRef{"my-app", "redis-curly-1", "REDIS_URL", {"heroku", "apiKey"},
                                    "http://127.0.0.1:9"};
    ri.spec.plan = plan;
    return ri;
  }

  const api::Condition* Cond(const api::RedisInstance& ri, const std::string& type) {
    return api::FindCondition(ri.status.conditions, type);
  }

  std::shared_ptr<FakeHerokuApi> api_;
  std::shared_ptr<FakeFactory> factory_;
  std::shared_ptr<CapturedLog> sink_;
  std::shared_ptr<Logger> log_;
};

TEST_F(HerokuTest, AnAddonAtItsPlanIsReadyWithTheUrlWithoutThePassword) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  auto r = ReconcileRI("cache");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  EXPECT_EQ(ri.status.plan, "premium-0");
  EXPECT_EQ(ri.status.memory_mib, 50);
  EXPECT_EQ(ri.status.max_clients, 40);
  EXPECT_EQ(ri.status.url, "rediss://ec2-1.compute.example:16379");
  EXPECT_EQ(ri.status.endpoint.port, 16379);
  ASSERT_NE(Cond(ri, "Scaled"), nullptr);
  EXPECT_EQ(Cond(ri, "Scaled")->status, "True");
  EXPECT_EQ(api_->Count("ChangePlan"), 0);
  auto conn = secrets_->ReadConnection(ri.metadata.key());
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ(conn->at("password"), kPass1);
  EXPECT_EQ(conn->at("host"), "ec2-1.compute.example");
  EXPECT_EQ(conn->at("port"), "16379");
  EXPECT_EQ(conn->at("url"), "rediss://ec2-1.compute.example:16379");
  ASSERT_EQ(factory_->seen.size(), 1u);
  EXPECT_EQ(factory_->seen[0], std::make_pair(std::string("http://127.0.0.1:9"), std::string(kKey)));
  EXPECT_THAT(sink_->Text(), Not(HasSubstr(kPass1)));
  EXPECT_THAT(sink_->Text(), Not(HasSubstr(kKey)));
  EXPECT_THAT(ri.status.url + ri.status.connection_secret, Not(HasSubstr(kPass1)));
}

// The table of the brief: change asked, provisioning, reached, refused, URL rotated.
TEST_F(HerokuTest, PlanChangeTable) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());

  {
    SCOPED_TRACE("change asked -> Resizing");
    auto ri = GetRI("cache");
    ri.spec.plan = "premium-2";
    ASSERT_TRUE(store_->Apply(ri).ok());
    auto r = ReconcileRI("cache");
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_LE(r->requeue_after, std::chrono::seconds(5));
    EXPECT_GT(r->requeue_after.count(), 0);
    auto got = GetRI("cache");
    EXPECT_EQ(got.status.phase, api::Phase::kResizing);
    EXPECT_EQ(got.status.plan, "premium-0");
    EXPECT_EQ(api_->Count("ChangePlan my-app redis-curly-1 premium-2"), 1);
  }
  {
    SCOPED_TRACE("provisioning -> Resizing, no second PATCH");
    auto r = ReconcileRI("cache");
    ASSERT_TRUE(r.has_value());
    EXPECT_LE(r->requeue_after, std::chrono::seconds(5));
    EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kResizing);
    EXPECT_EQ(api_->Count("ChangePlan"), 1);
  }
  {
    SCOPED_TRACE("reached -> Ready + Scaled True Resized");
    api_->Settle();
    clock_->Advance(std::chrono::seconds(5));
    ASSERT_TRUE(ReconcileRI("cache").has_value());
    auto got = GetRI("cache");
    EXPECT_EQ(got.status.phase, api::Phase::kReady);
    EXPECT_EQ(got.status.plan, "premium-2");
    EXPECT_EQ(got.status.memory_mib, 250);
    EXPECT_EQ(got.status.max_clients, 200);
    ASSERT_NE(Cond(got, "Scaled"), nullptr);
    EXPECT_EQ(Cond(got, "Scaled")->status, "True");
    EXPECT_EQ(Cond(got, "Scaled")->reason, "Resized");
  }
  {
    SCOPED_TRACE("422 -> Scaled False PlanChangeFailed, still Ready");
    auto ri = GetRI("cache");
    ri.spec.plan = "premium-1";
    ASSERT_TRUE(store_->Apply(ri).ok());
    api_->change_error = InvalidArgumentError("heroku: 422 invalid_params: plan change not supported");
    clock_->Advance(std::chrono::seconds(5));
    auto r = ReconcileRI("cache");
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    auto got = GetRI("cache");
    EXPECT_EQ(got.status.phase, api::Phase::kReady);
    EXPECT_EQ(got.status.plan, "premium-2");
    ASSERT_NE(Cond(got, "Scaled"), nullptr);
    EXPECT_EQ(Cond(got, "Scaled")->status, "False");
    EXPECT_EQ(Cond(got, "Scaled")->reason, "PlanChangeFailed");
    EXPECT_THAT(Cond(got, "Scaled")->message, HasSubstr("plan change not supported"));
    EXPECT_THAT(Cond(got, "Scaled")->message, Not(HasSubstr(kKey)));
    // Back to the plan in effect: the refusal stays visible, and no second PATCH.
    const TimePoint refused_at = Cond(got, "Scaled")->last_transition_time;
    got.spec.plan = "premium-2";
    ASSERT_TRUE(store_->Apply(got).ok());
    ASSERT_TRUE(ReconcileRI("cache").has_value());
    EXPECT_EQ(Cond(GetRI("cache"), "Scaled")->reason, "PlanChangeFailed");
    EXPECT_EQ(api_->Count("ChangePlan"), 2);
    // A later refusal is a new transition.
    clock_->Advance(std::chrono::seconds(5));
    got = GetRI("cache");
    got.spec.plan = "premium-1";
    ASSERT_TRUE(store_->Apply(got).ok());
    api_->change_error = InvalidArgumentError("heroku: 422 invalid_params: plan change not supported");
    ASSERT_TRUE(ReconcileRI("cache").has_value());
    EXPECT_EQ(Cond(GetRI("cache"), "Scaled")->status, "False");
    EXPECT_GT(Cond(GetRI("cache"), "Scaled")->last_transition_time, refused_at);
    got = GetRI("cache");
    got.spec.plan = "premium-2";
    ASSERT_TRUE(store_->Apply(got).ok());
    ASSERT_TRUE(ReconcileRI("cache").has_value());
  }
  {
    SCOPED_TRACE("URL rotated -> secret updated, status url without password");
    api_->SetUrl(std::string("rediss://:") + kPass2 + "@ec2-2.compute.example:17000");
    ASSERT_TRUE(ReconcileRI("cache").has_value());
    auto got = GetRI("cache");
    EXPECT_EQ(got.status.url, "rediss://ec2-2.compute.example:17000");
    EXPECT_EQ(got.status.endpoint.host, "ec2-2.compute.example");
    auto conn = secrets_->ReadConnection(got.metadata.key());
    ASSERT_TRUE(conn.has_value());
    EXPECT_EQ(conn->at("password"), kPass2);
    EXPECT_EQ(conn->at("url"), "rediss://ec2-2.compute.example:17000");
  }
  EXPECT_THAT(sink_->Text(), Not(HasSubstr(kPass1)));
  EXPECT_THAT(sink_->Text(), Not(HasSubstr(kPass2)));
  EXPECT_THAT(sink_->Text(), Not(HasSubstr(kKey)));
}

TEST_F(HerokuTest, TransientErrorsAreReturnedForBackoffAndTerminalOnesAreReported) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  api_->get_error = UnavailableError("heroku: 503");
  auto r = ReconcileRI("cache");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);

  api_->get_error = NotFoundError("heroku: 404 not_found: Couldn't find that add-on.");
  r = ReconcileRI("cache");
  ASSERT_TRUE(r.has_value());
  auto got = GetRI("cache");
  EXPECT_EQ(got.status.phase, api::Phase::kFailed);
  EXPECT_EQ(Cond(got, "Ready")->reason, "AddonUnavailable");

  // A deprovisioned add-on refuses a change.
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  api_->SetPlan("premium-0", "deprovisioned");
  got = GetRI("cache");
  got.spec.plan = "premium-1";
  ASSERT_TRUE(store_->Apply(got).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  got = GetRI("cache");
  EXPECT_EQ(got.status.phase, api::Phase::kFailed);
  EXPECT_EQ(Cond(got, "Scaled")->reason, "PlanChangeFailed");
}

TEST_F(HerokuTest, MissingKeyIsPendingAndUnknownPlanHasNoCapacity) {
  api::RedisInstance ri = Addon();
  ri.spec.heroku->api_key_secret_ref = {"missing", "apiKey"};
  ASSERT_TRUE(store_->Apply(ri).ok());
  auto r = ReconcileRI("cache");
  ASSERT_TRUE(r.has_value());
  auto got = GetRI("cache");
  EXPECT_EQ(got.status.phase, api::Phase::kPending);
  EXPECT_EQ(Cond(got, "Ready")->reason, "ApiKeyUnavailable");
  EXPECT_EQ(api_->Count("GetAddon"), 0);

  got.spec.heroku->api_key_secret_ref = {"heroku", "apiKey"};
  ASSERT_TRUE(store_->Apply(got).ok());
  api_->SetPlan("mystery-9");
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  got = GetRI("cache");
  EXPECT_EQ(got.status.phase, api::Phase::kReady);
  EXPECT_EQ(got.status.plan, "mystery-9");
  EXPECT_EQ(got.status.memory_mib, 0);
  EXPECT_EQ(Cond(got, "Placed")->reason, "CapacityUnknown");
}

TEST_F(HerokuTest, DeletingForgetsTheSecretAndNeverTouchesTheAddon) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_TRUE(secrets_->ReadConnection(api::Key{"default", "cache"}).has_value());
  ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", "cache"}).ok());
  const int calls = static_cast<int>(api_->calls.size());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(static_cast<int>(api_->calls.size()), calls);
  EXPECT_FALSE(secrets_->ReadConnection(api::Key{"default", "cache"}).has_value());
  EXPECT_FALSE(store_->Get(api::Kind::kRedisInstance, api::Key{"default", "cache"}).has_value());
}

class HerokuPolicyTest : public HerokuTest {
 protected:
  void SetUp() override {
    HerokuTest::SetUp();
    usage_ = std::make_shared<RecordingUsage>();
    ScalingPolicyOptions o;
    sp_ = std::make_unique<ScalingPolicyReconciler>(store_, secrets_, usage_, nullptr, nullptr, clock_, log_, o);
    sp_->SetHerokuApi(factory_);
  }

  api::ScalingPolicy Policy(bool catalog) {
    api::ScalingPolicy p;
    p.metadata.name = "policy";
    p.spec.target_ref.name = "cache";
    p.spec.mode = api::ScalingMode::kAuto;
    p.spec.interval_seconds = 10;
    p.spec.scale_up.sustain_seconds = 20;
    p.spec.scale_down.sustain_seconds = 600;
    p.spec.cooldown_seconds = 0;
    if (catalog) {
      p.spec.plan_catalog = api::PlanCatalog{"heroku-redis"};
    } else {
      p.spec.plans = {{"premium-0", 50, 40, 15}, {"premium-1", 100, 80, 30}, {"premium-2", 250, 200, 60}};
    }
    return p;
  }

  void Tick(int64_t used_mib) {
    clock_->Advance(std::chrono::seconds(10));
    {
      std::lock_guard<std::mutex> lock(usage_->mu_);
      usage_->windows[api::Key{"default", "cache"}].push_back(
          scaling::Sample{clock_->Now(), true, used_mib * kMiB, 3, 0, 0});
    }
    auto r = sp_->Reconcile(api::Key{"default", "policy"});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    auto ri = ReconcileRI("cache");
    ASSERT_TRUE(ri.has_value()) << ri.error().ToString();
  }

  std::vector<std::string> Actions() {
    auto got = store_->Get(api::Kind::kScalingPolicy, api::Key{"default", "policy"});
    std::vector<std::string> out;
    for (const auto& d : std::get<api::ScalingPolicy>(*got).status.decisions) out.push_back(d.action + ":" + d.to);
    return out;
  }

  std::shared_ptr<RecordingUsage> usage_;
  std::unique_ptr<ScalingPolicyReconciler> sp_;
};

TEST_F(HerokuPolicyTest, ScalesAHerokuAddonUpWithACatalogueFromHeroku) {
  api::RedisInstance ri = Addon();
  ri.spec.heroku->tls_insecure_skip_verify = true;
  ASSERT_TRUE(store_->Apply(ri).ok());
  ASSERT_TRUE(store_->Apply(Policy(true)).ok());
  // Before the add-on was read, its spec's memoryMiB says nothing: no recommendation.
  ASSERT_TRUE(sp_->Reconcile(api::Key{"default", "policy"}).has_value());
  {
    auto sp = std::get<api::ScalingPolicy>(*store_->Get(api::Kind::kScalingPolicy, api::Key{"default", "policy"}));
    ASSERT_EQ(sp.status.instances.size(), 1u);
    EXPECT_EQ(sp.status.instances[0].recommended_plan, "");
  }
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  for (int i = 0; i < 4; ++i) Tick(48);  // 96 % of premium-0's 50 MiB
  EXPECT_EQ(api_->Count("ListPlans heroku-redis"), 1) << "the catalogue is cached";
  {
    std::lock_guard<std::mutex> lock(usage_->mu_);
    const auto& t = usage_->targets.at(api::Key{"default", "cache"});
    EXPECT_TRUE(t.tls);
    EXPECT_FALSE(t.tls_verify);
    EXPECT_EQ(t.password, kPass1);
    EXPECT_EQ(t.endpoint.port, 16379);
  }
  ASSERT_THAT(Actions(), ::testing::ElementsAre("ScaleUp:premium-1"));
  EXPECT_EQ(api_->Count("ChangePlan my-app redis-curly-1 premium-1"), 1);
  EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kResizing);
  api_->Settle();
  Tick(48);
  Tick(48);
  EXPECT_EQ(GetRI("cache").status.plan, "premium-1");
  ASSERT_GE(Actions().size(), 2u);
  EXPECT_EQ(Actions()[1], "ScaleSucceeded:premium-1");

  // An hour later the catalogue is read again.
  clock_->Advance(std::chrono::minutes(61));
  Tick(10);
  EXPECT_EQ(api_->Count("ListPlans heroku-redis"), 2);
}

TEST_F(HerokuPolicyTest, ARefusedChangeIsAScaleFailedNeverASuccess) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  ASSERT_TRUE(store_->Apply(Policy(false)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  api_->change_error = InvalidArgumentError("heroku: 422 invalid_params: plan change not supported");
  for (int i = 0; i < 6; ++i) Tick(48);
  auto actions = Actions();
  ASSERT_GE(actions.size(), 2u);
  EXPECT_EQ(actions[0], "ScaleUp:premium-1");
  EXPECT_EQ(actions[1], "ScaleFailed:premium-1");
  for (const auto& a : actions) EXPECT_THAT(a, Not(HasSubstr("ScaleSucceeded")));
  EXPECT_EQ(GetRI("cache").status.plan, "premium-0");
  {
    std::lock_guard<std::mutex> lock(usage_->mu_);
    // Verification stays on unless the instance opts out.
    EXPECT_TRUE(usage_->targets.at(api::Key{"default", "cache"}).tls_verify);
  }
}

TEST_F(HerokuPolicyTest, AnUnreadableCatalogueIsAConditionAndNoDecision) {
  ASSERT_TRUE(store_->Apply(Addon()).ok());
  ASSERT_TRUE(store_->Apply(Policy(true)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  api_->list_error = PermissionDeniedError("heroku: 403 forbidden");
  Tick(48);
  auto got = store_->Get(api::Kind::kScalingPolicy, api::Key{"default", "policy"});
  const auto& sp = std::get<api::ScalingPolicy>(*got);
  const api::Condition* ready = api::FindCondition(sp.status.conditions, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "CatalogUnavailable");
  EXPECT_TRUE(sp.status.decisions.empty());
}

TEST(HerokuEffectivePlan, ResolvesCatalogueRecommendationsByKnownCapacity) {
  auto clock = std::make_shared<FakeClock>();
  store::MemoryStore store(clock);
  api::RedisInstance ri;
  ri.metadata.name = "cache";
  ri.spec.heroku = api::HerokuRef{"a", "b", "REDIS_URL", {"heroku", "apiKey"}, "http://127.0.0.1:9"};
  ri.spec.plan = "premium-0";
  ASSERT_TRUE(store.Apply(ri).ok());
  api::ScalingPolicy p;
  p.metadata.name = "policy";
  p.spec.target_ref.name = "cache";
  p.spec.plan_catalog = api::PlanCatalog{"heroku-redis"};
  ASSERT_TRUE(store.Apply(p).ok());
  auto got = std::get<api::RedisInstance>(*store.Get(api::Kind::kRedisInstance, ri.metadata.key()));
  auto plan = EffectivePlan(store, got);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->name, "premium-0");
  EXPECT_EQ(plan->memory_mib, 50);

  auto sp = std::get<api::ScalingPolicy>(*store.Get(api::Kind::kScalingPolicy, p.metadata.key()));
  sp.status.instances.push_back(api::PolicyInstanceStatus{});
  sp.status.instances.back().name = "cache";
  sp.status.instances.back().recommended_plan = "premium-3";
  ASSERT_TRUE(store.UpdateStatus(sp).ok());
  plan = EffectivePlan(store, got);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->name, "premium-3");
  EXPECT_EQ(plan->memory_mib, 500);

  sp = std::get<api::ScalingPolicy>(*store.Get(api::Kind::kScalingPolicy, p.metadata.key()));
  sp.status.instances.back().recommended_plan = "no-such-plan";
  ASSERT_TRUE(store.UpdateStatus(sp).ok());
  plan = EffectivePlan(store, got);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->name, "premium-0") << "an unknown recommendation falls back to spec.plan";
}

}  // namespace
}  // namespace redisfleet::controllers
