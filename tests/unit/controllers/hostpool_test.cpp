#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixture.h"

namespace redisfleet::controllers {
namespace {

class HostPoolTest : public ControllerFixture {};

TEST_F(HostPoolTest, PublishesHostsWithUsageAndStandbyCount) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 2, 40, 1024)).ok());
  ASSERT_TRUE(store_->Apply(Instance("a", "pool", 100)).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  ASSERT_TRUE(ReconcileHP("pool").has_value());

  auto hp = GetHP("pool");
  ASSERT_EQ(hp.status.hosts.size(), 2u);
  EXPECT_EQ(hp.status.hosts[0].name, "h1");
  EXPECT_EQ(hp.status.hosts[0].state, api::HostState::kReady);
  EXPECT_EQ(hp.status.hosts[0].instances, 1);
  EXPECT_EQ(hp.status.hosts[0].memory_mib_used, 100);
  EXPECT_EQ(hp.status.hosts[1].instances, 0);
  EXPECT_EQ(hp.status.ready_hosts, 2);
  EXPECT_EQ(hp.status.standby_hosts, 1);
  EXPECT_TRUE(api::IsConditionTrue(hp.status.conditions, "Ready"));
  EXPECT_EQ(hp.status.observed_generation, hp.metadata.generation);
}

TEST_F(HostPoolTest, OrphanIsRemovedOnlyAfterTheGracePeriod) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(store_->Apply(Instance("owned")).ok());
  ASSERT_TRUE(ReconcileRI("owned").has_value());
  providers::Host h1{"h1", "h1", "127.0.0.1", "", {}, true};
  providers::RunningRedis orphan;
  orphan.instance = api::Key{"default", "gone"};
  orphan.uid = "uid-of-a-deleted-instance";
  orphan.pool_id = "default.pool";
  orphan.running = true;
  orphan.labels = {{std::string(api::kLabelManagedBy), "redis-fleet"}};
  runtime_->Inject(h1, orphan);
  providers::RunningRedis foreign = orphan;
  foreign.instance = api::Key{"default", "foreign"};
  foreign.labels = {{std::string(api::kLabelManagedBy), "another-operator"}};
  runtime_->Inject(h1, foreign);
  ASSERT_EQ(runtime_->Count(), 3u);

  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(runtime_->Count(), 3u);  // seen, but within the grace period
  clock_->Advance(std::chrono::seconds(61));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(runtime_->Count(), 2u);  // the orphan went; ours and the foreign one stay
  auto left = runtime_->List(h1);
  for (const auto& r : *left) EXPECT_NE(r.instance.name, "gone");
}

TEST_F(HostPoolTest, PoolIsHeldWhileInstancesUseIt) {
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  ASSERT_TRUE(store_->Apply(Instance("a")).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());

  ASSERT_TRUE(store_->Delete(api::Kind::kHostPool, api::Key{"default", "pool"}).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  auto hp = GetHP("pool");
  EXPECT_EQ(api::FindCondition(hp.status.conditions, "Ready")->reason, "InUse");

  ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", "a"}).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(store_->Get(api::Kind::kHostPool, api::Key{"default", "pool"}).error().code(),
            StatusCode::kNotFound);
}

TEST_F(HostPoolTest, UnsupportedProviderIsReportedNotRetried) {
  pools_ = std::make_shared<PoolRegistry>([](const api::HostPool&) -> StatusOr<PoolDrivers> {
    return InvalidArgumentError("provider digitalocean is not available in this build");
  });
  hp_ = std::make_unique<HostPoolReconciler>(store_, pools_, ledger_, clock_, Logger::Null());
  ASSERT_TRUE(store_->Apply(Pool("pool")).ok());
  auto r = ReconcileHP("pool");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->requeue_after.count(), 0);
  auto hp = GetHP("pool");
  const auto* ready = api::FindCondition(hp.status.conditions, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason, "InvalidConfiguration");
  EXPECT_THAT(ready->message, ::testing::HasSubstr("digitalocean"));
}

}  // namespace
}  // namespace redisfleet::controllers
