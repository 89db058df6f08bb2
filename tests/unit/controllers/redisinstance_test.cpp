#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixture.h"

namespace redisfleet::controllers {
namespace {

using ::testing::HasSubstr;

class RedisInstanceTest : public ControllerFixture {};

TEST_F(RedisInstanceTest, PlacesRunsAndPublishesStatusWithoutThePassword) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());

  auto r = ReconcileRI("cache");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();

  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  EXPECT_EQ(ri.status.host, "h1");
  EXPECT_EQ(ri.status.endpoint.host, "127.0.0.1");
  EXPECT_GT(ri.status.endpoint.port, 0);
  EXPECT_EQ(ri.status.url, "redis://127.0.0.1:" + std::to_string(ri.status.endpoint.port));
  EXPECT_EQ(ri.status.memory_mib, 64);
  EXPECT_EQ(ri.status.max_clients, 100);
  EXPECT_EQ(ri.status.observed_generation, ri.metadata.generation);
  EXPECT_TRUE(api::IsConditionTrue(ri.status.conditions, "Ready"));
  EXPECT_TRUE(api::IsConditionTrue(ri.status.conditions, "Placed"));
  EXPECT_THAT(ri.metadata.finalizers, ::testing::Contains(std::string(api::kFinalizer)));
  EXPECT_EQ(runtime_->Count(), 1u);

  auto conn = secrets_->ReadConnection(ri.metadata.key());
  ASSERT_TRUE(conn.has_value());
  const std::string password = conn->at("password");
  EXPECT_GE(password.size(), 32u);
  EXPECT_EQ(ri.status.url.find(password), std::string::npos);
  EXPECT_EQ(conn->at("url"), ri.status.url);
}

TEST_F(RedisInstanceTest, ReconcilingAgainChangesNothing) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto before = GetRI("cache");
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto after = GetRI("cache");
  EXPECT_EQ(after.status, before.status);
  EXPECT_EQ(after.metadata.resource_version, before.metadata.resource_version);
  EXPECT_EQ(runtime_->Count(), 1u);
}

TEST_F(RedisInstanceTest, MemoryEditResizesInPlaceOnTheSamePort) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  const auto port = GetRI("cache").status.endpoint.port;

  ASSERT_TRUE(store_->Apply(Instance("cache", "pool", 128)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.memory_mib, 128);
  EXPECT_EQ(ri.status.endpoint.port, port);
  EXPECT_EQ(ri.status.observed_generation, 2);
  auto running = runtime_->List(providers::Host{"h1", "h1", "127.0.0.1", "", {}, true});
  ASSERT_TRUE(running.has_value());
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].resources.memory_mib, 128);
}

TEST_F(RedisInstanceTest, ShrinkBelowMemoryInUseKeepsTheOldSize) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache", "pool", 128)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  runtime_->SetUsedMemoryMiB(api::Key{"default", "cache"}, 100);

  ASSERT_TRUE(store_->Apply(Instance("cache", "pool", 64)).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  EXPECT_EQ(ri.status.memory_mib, 128);
  const auto* scaled = api::FindCondition(ri.status.conditions, "Scaled");
  ASSERT_NE(scaled, nullptr);
  EXPECT_EQ(scaled->status, "False");
  EXPECT_EQ(scaled->reason, "MemoryInUse");
}

TEST_F(RedisInstanceTest, CapacityLimitsAreNeverExceeded) {
  struct Case {
    std::string name;
    int64_t max_instances;
    int64_t memory_per_host;
    int64_t instance_memory;
    int instances;
    int want_placed;
  };
  const std::vector<Case> cases = {
      {"by count", 2, 1024, 64, 3, 2},
      {"by memory", 40, 200, 64, 4, 3},
      {"exact fit", 2, 128, 64, 2, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SetUp();
    ASSERT_TRUE(store_->Apply(Pool("pool", 1, c.max_instances, c.memory_per_host)).ok());
    int placed = 0;
    for (int i = 0; i < c.instances; ++i) {
      std::string name = "r" + std::to_string(i);
      ASSERT_TRUE(store_->Apply(Instance(name, "pool", c.instance_memory)).ok());
      ASSERT_TRUE(ReconcileRI(name).has_value());
      auto ri = GetRI(name);
      if (ri.status.phase == api::Phase::kReady) {
        ++placed;
      } else {
        EXPECT_EQ(ri.status.phase, api::Phase::kPending);
        const auto* cond = api::FindCondition(ri.status.conditions, "Placed");
        ASSERT_NE(cond, nullptr);
        EXPECT_EQ(cond->reason, "NoCapacity");
      }
    }
    EXPECT_EQ(placed, c.want_placed);
    EXPECT_EQ(runtime_->Count(), static_cast<std::size_t>(c.want_placed));
  }
}

TEST_F(RedisInstanceTest, BinpackFillsTheFirstHostBeforeTheSecond) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 2, 2, 1024)).ok());
  std::vector<std::string> hosts;
  for (int i = 0; i < 4; ++i) {
    std::string name = "r" + std::to_string(i);
    ASSERT_TRUE(store_->Apply(Instance(name)).ok());
    ASSERT_TRUE(ReconcileRI(name).has_value());
    hosts.push_back(GetRI(name).status.host);
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"h1", "h1", "h2", "h2"}));
}

TEST_F(RedisInstanceTest, ExpiresAfterTtlAndStopsTheServer) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  auto inst = Instance("temp");
  inst.spec.ttl_seconds = 60;
  ASSERT_TRUE(store_->Apply(inst).ok());
  auto r = ReconcileRI("temp");
  ASSERT_TRUE(r.has_value());
  EXPECT_LE(r->requeue_after, std::chrono::milliseconds(60000));
  auto ri = GetRI("temp");
  ASSERT_TRUE(ri.status.expires_at.has_value());
  EXPECT_EQ(*ri.status.expires_at, *ri.metadata.creation_timestamp + std::chrono::seconds(60));
  EXPECT_EQ(runtime_->Count(), 1u);

  clock_->Advance(std::chrono::seconds(59));
  ASSERT_TRUE(ReconcileRI("temp").has_value());
  EXPECT_EQ(GetRI("temp").status.phase, api::Phase::kReady);

  clock_->Advance(std::chrono::seconds(1));
  ASSERT_TRUE(ReconcileRI("temp").has_value());
  ri = GetRI("temp");
  EXPECT_EQ(ri.status.phase, api::Phase::kExpired);
  EXPECT_EQ(ri.status.url, "");
  EXPECT_FALSE(api::IsConditionTrue(ri.status.conditions, "Ready"));
  EXPECT_EQ(runtime_->Count(), 0u);
  // The capacity it held is free again.
  EXPECT_EQ(ledger_->Usage("default.pool", "h1").instances, 0);
}

TEST_F(RedisInstanceTest, DeletionStopsTheServerRemovesTheSecretAndReleasesTheObject) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_EQ(runtime_->Count(), 1u);

  ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", "cache"}).ok());
  // The finalizer holds the object until cleanup ran.
  ASSERT_TRUE(store_->Get(api::Kind::kRedisInstance, api::Key{"default", "cache"}).has_value());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(runtime_->Count(), 0u);
  EXPECT_EQ(store_->Get(api::Kind::kRedisInstance, api::Key{"default", "cache"}).error().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(secrets_->ReadConnection(api::Key{"default", "cache"}).error().code(),
            StatusCode::kNotFound);
}

TEST_F(RedisInstanceTest, FailedCleanupKeepsTheFinalizerAndRetries) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", "cache"}).ok());
  runtime_->FailNext("Remove", UnavailableError("host unreachable"));
  auto r = ReconcileRI("cache");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kDeleting);
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(runtime_->Count(), 0u);
}

TEST_F(RedisInstanceTest, MissingPoolIsPendingUntilThePoolAppears) {
  ASSERT_TRUE(store_->Apply(Instance("cache", "later")).ok());
  auto r = ReconcileRI("cache");
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(r->requeue_after.count(), 0);
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kPending);
  EXPECT_EQ(api::FindCondition(ri.status.conditions, "Placed")->reason, "PoolNotFound");
  EXPECT_EQ(runtime_->Count(), 0u);

  ASSERT_TRUE(store_->Apply(Pool("later")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kReady);
}

TEST_F(RedisInstanceTest, EmbeddedLocalPoolServesInstancesWithoutAHostPoolObject) {
  ASSERT_TRUE(store_->Apply(Instance("cache", "local")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  EXPECT_EQ(runtime_->Count(), 1u);
}

TEST_F(RedisInstanceTest, TransientStartFailureIsRetriedWithoutADuplicate) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  runtime_->FailNext("Ensure", UnavailableError("daemon busy"));
  auto r = ReconcileRI("cache");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kProvisioning);
  EXPECT_EQ(ri.status.host, "h1");  // the placement was recorded before acting

  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kReady);
  EXPECT_EQ(runtime_->Count(), 1u);
}

TEST_F(RedisInstanceTest, PasswordFromSecretRef) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  auto inst = Instance("cache");
  inst.spec.password_secret_ref = {"mine", "password"};
  ASSERT_TRUE(store_->Apply(inst).ok());

  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.phase, api::Phase::kPending);
  const auto* ready = api::FindCondition(ri.status.conditions, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason, "PasswordUnavailable");
  EXPECT_EQ(runtime_->Count(), 0u);

  secrets_->Put("default", {"mine", "password"}, "s3cret-value-from-the-user");
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  EXPECT_EQ(GetRI("cache").status.phase, api::Phase::kReady);
  EXPECT_EQ(secrets_->ReadConnection(api::Key{"default", "cache"})->at("password"),
            "s3cret-value-from-the-user");
}

TEST_F(RedisInstanceTest, RestartAdoptsWhatExistsAndKeepsCapacityAccounting) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 1, 2, 1024)).ok());
  for (std::string name : {"a", "b"}) {
    ASSERT_TRUE(store_->Apply(Instance(name)).ok());
    ASSERT_TRUE(ReconcileRI(name).has_value());
  }
  const auto port_a = GetRI("a").status.endpoint.port;
  const auto password_a = secrets_->ReadConnection(api::Key{"default", "a"})->at("password");

  Rebuild();  // the operator restarts: new ledger, new reconcilers, same world
  ASSERT_TRUE(ri_->Prime().ok());
  ASSERT_TRUE(store_->Apply(Instance("c")).ok());
  for (std::string name : {"a", "b", "c"}) ASSERT_TRUE(ReconcileRI(name).has_value());

  EXPECT_EQ(GetRI("a").status.endpoint.port, port_a);
  EXPECT_EQ(secrets_->ReadConnection(api::Key{"default", "a"})->at("password"), password_a);
  EXPECT_EQ(runtime_->Count(), 2u);  // no duplicate, and c does not overfill the host
  EXPECT_EQ(GetRI("c").status.phase, api::Phase::kPending);
}

TEST_F(RedisInstanceTest, CrashedServerIsStartedAgain) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  runtime_->Crash(api::Key{"default", "cache"});
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto running = runtime_->List(providers::Host{"h1", "h1", "127.0.0.1", "", {}, true});
  ASSERT_EQ(running->size(), 1u);
  EXPECT_TRUE((*running)[0].running);
}

TEST_F(RedisInstanceTest, HerokuInstancesAreReportedUnsupportedAndLeftAlone) {
  api::RedisInstance ri;
  ri.metadata.name = "h";
  ri.spec.heroku = api::HerokuRef{"app", "addon", "REDIS_URL", {"heroku", "apiKey"}, "https://api.heroku.com"};
  ASSERT_TRUE(store_->Apply(ri).ok());
  ASSERT_TRUE(ReconcileRI("h").has_value());
  auto got = GetRI("h");
  EXPECT_EQ(got.status.phase, api::Phase::kPending);
  EXPECT_THAT(api::FindCondition(got.status.conditions, "Ready")->reason, HasSubstr("Unsupported"));
  EXPECT_EQ(runtime_->Count(), 0u);
}

}  // namespace
}  // namespace redisfleet::controllers
