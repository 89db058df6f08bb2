// The ScalingPolicy reconciler with the RedisInstance reconciler over one MemoryStore: decisions
// recorded, recommendations applied in place, outcomes (success, failure) told once; DryRun never
// acts. Samples come from a fake UsageSource the test feeds, time from a FakeClock.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/scalingpolicy/reconciler.h"
#include "notify/notifier.h"
#include "fixture.h"

namespace redisfleet::controllers {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

class FakeUsage final : public UsageSource {
 public:
  Status Track(const api::Key& instance, const Target& target) override {
    std::lock_guard<std::mutex> lock(mu_);
    targets_[instance] = target;
    return Status::Ok();
  }
  void Untrack(const api::Key& instance) override {
    std::lock_guard<std::mutex> lock(mu_);
    targets_.erase(instance);
    windows_.erase(instance);
  }
  std::vector<scaling::Sample> Window(const api::Key& instance) override {
    std::lock_guard<std::mutex> lock(mu_);
    return windows_[instance];
  }
  void Append(const api::Key& instance, scaling::Sample s) {
    std::lock_guard<std::mutex> lock(mu_);
    windows_[instance].push_back(s);
  }
  bool Tracked(const api::Key& instance) {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_.count(instance) > 0;
  }

 private:
  std::mutex mu_;
  std::map<api::Key, Target> targets_;
  std::map<api::Key, std::vector<scaling::Sample>> windows_;
};

class RecordingEvents final : public store::EventRecorder {
 public:
  void Record(const api::ObjectMeta&, api::Kind, store::Severity, const std::string& reason,
              const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    reasons_.push_back(reason);
  }
  int Count(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::count(reasons_.begin(), reasons_.end(), reason));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> reasons_;
};

class ScalingPolicyTest : public ControllerFixture {
 protected:
  void SetUp() override {
    ControllerFixture::SetUp();
    usage_ = std::make_shared<FakeUsage>();
    events_ = std::make_shared<RecordingEvents>();
    notifier_ = std::make_shared<notify::Notifier>(clock_, nullptr, nullptr);
    sp_ = std::make_unique<ScalingPolicyReconciler>(store_, secrets_, usage_, notifier_, events_, clock_,
                                                    Logger::Null());
    sp_->SetOnPlanChanged([this](const api::Key& k) { woken_.push_back(k.name); });
    sp_->SetOnDecision([this](const std::string& a) { actions_.push_back(a); });
    auto store = store_;
    ri_->SetPlanSource([store](const api::RedisInstance& ri) { return EffectivePlan(*store, ri); });
    ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  }

  api::ScalingPolicy Policy(api::ScalingMode mode = api::ScalingMode::kAuto) {
    api::ScalingPolicy p;
    p.metadata.name = "policy";
    p.spec.target_ref.name = "cache";
    p.spec.mode = mode;
    p.spec.interval_seconds = 10;
    p.spec.scale_up.sustain_seconds = 30;
    p.spec.scale_down.sustain_seconds = 60;
    p.spec.cooldown_seconds = 60;
    p.spec.plans = {{"small", 64, 100, 5}, {"medium", 256, 500, 15}, {"large", 1024, 1000, 40}};
    p.spec.min_plan = "small";
    p.spec.max_plan = "large";
    return p;
  }

  api::RedisInstance Cache(const std::string& plan) {
    api::RedisInstance ri = Instance("cache");
    ri.spec.plan = plan;
    return ri;
  }

  // One collection interval: a sample of `used_mib` now, then the policy and the instance.
  void Tick(int64_t used_mib, int64_t clients = 5) {
    clock_->Advance(std::chrono::seconds(10));
    usage_->Append(api::Key{"default", "cache"}, scaling::Sample{clock_->Now(), true, used_mib * kMiB, clients, 0, 0});
    auto r = sp_->Reconcile(api::Key{"default", "policy"});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->requeue_after, std::chrono::seconds(10));
    auto ri = ReconcileRI("cache");
    ASSERT_TRUE(ri.has_value()) << ri.error().ToString();
  }

  api::ScalingPolicy GetSP() {
    auto got = store_->Get(api::Kind::kScalingPolicy, api::Key{"default", "policy"});
    EXPECT_TRUE(got.has_value());
    return std::get<api::ScalingPolicy>(*got);
  }
  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    for (const auto& d : GetSP().status.decisions) out.push_back(d.action);
    return out;
  }
  int64_t RunningMiB() {
    auto running = runtime_->List(providers::Host{"h1", "h1", "127.0.0.1", "", {}, true});
    EXPECT_TRUE(running.has_value() && running->size() == 1u);
    return running.has_value() && !running->empty() ? (*running)[0].resources.memory_mib : -1;
  }

  std::shared_ptr<FakeUsage> usage_;
  std::shared_ptr<RecordingEvents> events_;
  std::shared_ptr<notify::Notifier> notifier_;
  std::unique_ptr<ScalingPolicyReconciler> sp_;
  std::vector<std::string> woken_;
  std::vector<std::string> actions_;
};

TEST_F(ScalingPolicyTest, SustainedPressureScalesUpInPlaceAndTheSuccessIsRecordedOnce) {
  ASSERT_TRUE(store_->Apply(Cache("small")).ok());
  ASSERT_TRUE(store_->Apply(Policy()).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_EQ(GetRI("cache").status.memory_mib, 64);
  const int64_t port = GetRI("cache").status.endpoint.port;

  Tick(20);  // 31%: calm
  EXPECT_TRUE(usage_->Tracked(api::Key{"default", "cache"}));
  EXPECT_TRUE(Actions().empty());
  for (int i = 0; i < 3; ++i) Tick(60);  // 94% for 20 s: not yet sustained
  EXPECT_TRUE(Actions().empty());
  Tick(60);  // 94% for 30 s
  EXPECT_THAT(Actions(), ::testing::ElementsAre("ScaleUp"));
  auto sp = GetSP();
  ASSERT_EQ(sp.status.instances.size(), 1u);
  EXPECT_EQ(sp.status.instances[0].recommended_plan, "medium");  // cheapest that fits 60 MiB under 80%
  EXPECT_THAT(woken_, ::testing::Contains("cache"));

  // The instance reconcile in the same tick applied it: same port, new size, plan shown.
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.memory_mib, 256);
  EXPECT_EQ(ri.status.max_clients, 500);
  EXPECT_EQ(ri.status.plan, "medium");
  EXPECT_EQ(ri.status.endpoint.port, port);
  EXPECT_EQ(RunningMiB(), 256);

  Tick(60);
  Tick(60);
  EXPECT_THAT(Actions(), ::testing::ElementsAre("ScaleUp", "ScaleSucceeded"));
  EXPECT_EQ(GetSP().status.instances[0].current_plan, "medium");
  EXPECT_EQ(events_->Count("ThresholdBreach"), 1) << "one message per breach episode";
  EXPECT_EQ(events_->Count("ScaleSucceeded"), 2) << "the notifier's event and the policy's audit event";
  EXPECT_EQ(actions_, (std::vector<std::string>{"ScaleUp", "ScaleSucceeded"}));
}

TEST_F(ScalingPolicyTest, DryRunRecordsTheDecisionAndNeverActs) {
  ASSERT_TRUE(store_->Apply(Cache("small")).ok());
  ASSERT_TRUE(store_->Apply(Policy(api::ScalingMode::kDryRun)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  for (int i = 0; i < 6; ++i) Tick(60);
  EXPECT_THAT(Actions(), ::testing::ElementsAre("DryRun:ScaleUp"));
  EXPECT_EQ(GetSP().status.instances[0].recommended_plan, "medium");
  EXPECT_EQ(GetRI("cache").status.memory_mib, 64);
  EXPECT_EQ(RunningMiB(), 64);
  EXPECT_TRUE(woken_.empty());
  // After the cooldown it says so again (a record per cooldown, not per cycle).
  for (int i = 0; i < 4; ++i) Tick(60);
  EXPECT_THAT(Actions(), ::testing::ElementsAre("DryRun:ScaleUp", "DryRun:ScaleUp"));
  EXPECT_EQ(RunningMiB(), 64);
}

TEST_F(ScalingPolicyTest, AScaleDownTheInstanceRefusesIsAFailureAndTheRecommendationFallsBack) {
  ASSERT_TRUE(store_->Apply(Cache("medium")).ok());
  ASSERT_TRUE(store_->Apply(Policy()).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_EQ(GetRI("cache").status.memory_mib, 256);
  // The server holds 100 MiB although the (stale) samples say 10: shrinking to 64 MiB would lose data.
  runtime_->SetUsedMemoryMiB(api::Key{"default", "cache"}, 100);
  for (int i = 0; i < 8 && Actions().empty(); ++i) Tick(10);
  ASSERT_THAT(Actions(), ::testing::ElementsAre("ScaleDown"));
  EXPECT_EQ(GetRI("cache").status.memory_mib, 256);
  Tick(10);
  EXPECT_THAT(Actions(), ::testing::ElementsAre("ScaleDown", "ScaleFailed"));
  auto sp = GetSP();
  EXPECT_EQ(sp.status.instances[0].recommended_plan, "medium");
  EXPECT_THAT(sp.status.decisions.back().reason, ::testing::HasSubstr("memory in use"));  // the instance's word
  EXPECT_EQ(events_->Count("ScaleFailed"), 2) << "the notifier's event and the policy's audit event";
  Tick(10);
  EXPECT_EQ(GetRI("cache").status.memory_mib, 256);
  EXPECT_EQ(RunningMiB(), 256);
  EXPECT_TRUE(api::IsConditionTrue(GetRI("cache").status.conditions, "Scaled"));
}

TEST_F(ScalingPolicyTest, DeletingThePolicyStopsCollectingAndWakesItsInstances) {
  ASSERT_TRUE(store_->Apply(Cache("small")).ok());
  ASSERT_TRUE(store_->Apply(Policy()).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  Tick(20);
  ASSERT_TRUE(usage_->Tracked(api::Key{"default", "cache"}));
  ASSERT_TRUE(store_->Delete(api::Kind::kScalingPolicy, api::Key{"default", "policy"}).ok());
  woken_.clear();
  ASSERT_TRUE(sp_->Reconcile(api::Key{"default", "policy"}).has_value());
  EXPECT_FALSE(usage_->Tracked(api::Key{"default", "cache"}));
  EXPECT_THAT(woken_, ::testing::ElementsAre("cache"));
}

}  // namespace
}  // namespace redisfleet::controllers
