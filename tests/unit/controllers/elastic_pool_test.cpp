// A pool whose provider creates machines (droplet-like, in memory) with a FakeClock: how many
// hosts it keeps, when it adds and removes them, and what a crash at each step leaves.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixture.h"
#include "runtime/requeue_policy.h"

namespace redisfleet::controllers {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class ElasticPoolTest : public ControllerFixture {
 protected:
  api::HostPool Elastic(int64_t min_hosts, int64_t max_hosts, int64_t standby, int64_t per_host = 2) {
    api::HostPool p = Pool("pool", 0, per_host, 1024);
    p.metadata.labels["elastic"] = "true";
    p.spec.provider = api::HostProviderType::kDigitalOcean;
    p.spec.runtime = api::RuntimeType::kDocker;
    p.spec.min_hosts = min_hosts;
    p.spec.max_hosts = max_hosts;
    p.spec.standby_hosts = standby;
    p.spec.scale_in_delay_seconds = 600;
    return p;
  }
  // Reconciles the pool until it has nothing more to do this instant (at most 5 passes).
  void Settle() {
    for (int i = 0; i < 5; ++i) (void)ReconcileHP("pool");
  }
  void AllReady() {
    for (const auto& n : elastic_->Names()) elastic_->SetReady(n, true);
  }
  std::vector<std::string> Machines() { return elastic_ ? elastic_->Names() : std::vector<std::string>{}; }
  const api::HostStatus* HostNamed(const api::HostPool& hp, const std::string& name) {
    for (const auto& h : hp.status.hosts)
      if (h.name == name) return &h;
    return nullptr;
  }
};

TEST_F(ElasticPoolTest, EmptyPoolGetsItsStandbyHostOnceAndItBecomesReady) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 1)).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));
  auto hp = GetHP("pool");
  ASSERT_EQ(hp.status.hosts.size(), 1u);
  EXPECT_EQ(hp.status.hosts[0].state, api::HostState::kProvisioning);
  EXPECT_FALSE(hp.status.hosts[0].provider_id.empty());

  Settle();  // still provisioning: waited for, not created again
  EXPECT_EQ(elastic_->Calls("Create"), 1);
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));

  AllReady();
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  hp = GetHP("pool");
  EXPECT_EQ(hp.status.hosts[0].state, api::HostState::kReady);
  EXPECT_EQ(hp.status.standby_hosts, 1);
  EXPECT_EQ(hp.status.ready_hosts, 1);
  EXPECT_DOUBLE_EQ(hp.status.monthly_cost, 6.0);
  EXPECT_EQ(api::FindCondition(hp.status.conditions, "ScalingActive")->reason, "Stable");
}

TEST_F(ElasticPoolTest, MinHostsComeUpFirst) {
  ASSERT_TRUE(store_->Apply(Elastic(3, 5, 1)).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1", "rf-default-pool-2", "rf-default-pool-3"));
}

TEST_F(ElasticPoolTest, StandbyTakingAnInstanceAddsAHostInTheSameReconcile) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 1)).ok());
  Settle();
  AllReady();
  Settle();
  ASSERT_TRUE(store_->Apply(Instance("a")).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  EXPECT_EQ(GetRI("a").status.host, "rf-default-pool-1");

  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1", "rf-default-pool-2"));
  EXPECT_EQ(elastic_->Calls("Create"), 2);
}

TEST_F(ElasticPoolTest, InstancesWithoutRoomGrowThePoolUpToMaxHosts) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 2, 0, /*per_host=*/1)).ok());
  Settle();
  EXPECT_THAT(Machines(), ::testing::IsEmpty());  // no standby, no min: nothing yet
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_TRUE(store_->Apply(Instance(n)).ok());
    ASSERT_TRUE(ReconcileRI(n).has_value());
    EXPECT_EQ(GetRI(n).status.phase, api::Phase::kPending);
  }
  Settle();
  EXPECT_EQ(Machines().size(), 2u);  // three wait, maxHosts is 2
  AllReady();
  Settle();
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(ReconcileRI(n).has_value());
  int placed = 0;
  for (const char* n : {"a", "b", "c"}) placed += GetRI(n).status.host.empty() ? 0 : 1;
  EXPECT_EQ(placed, 2);
  Settle();
  EXPECT_EQ(Machines().size(), 2u);
}

TEST_F(ElasticPoolTest, EmptyHostsGoBackToOneStandbyAfterTheDelayCordonedFirst) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 5, 1, /*per_host=*/1)).ok());
  Settle();
  AllReady();
  for (const char* n : {"a", "b"}) {
    ASSERT_TRUE(store_->Apply(Instance(n)).ok());
    ASSERT_TRUE(ReconcileRI(n).has_value());
    Settle();
    AllReady();
    Settle();
  }
  ASSERT_EQ(Machines().size(), 3u);  // a's host, b's host, one standby
  for (const char* n : {"a", "b"}) {
    ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", n}).ok());
    ASSERT_TRUE(ReconcileRI(n).has_value());
  }
  Settle();
  EXPECT_EQ(Machines().size(), 3u);  // empty, but not for scaleInDelaySeconds yet

  clock_->Advance(std::chrono::seconds(601));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  auto hp = GetHP("pool");
  int cordoned = 0;
  for (const auto& h : hp.status.hosts) cordoned += h.state == api::HostState::kCordoned ? 1 : 0;
  EXPECT_EQ(cordoned, 2);  // placement stops using them before they go
  EXPECT_EQ(Machines().size(), 3u);

  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));  // the oldest stays as the standby
  hp = GetHP("pool");
  ASSERT_EQ(hp.status.hosts.size(), 1u);
  EXPECT_EQ(hp.status.standby_hosts, 1);
}

TEST_F(ElasticPoolTest, AHostWithInstancesIsNeverDeleted) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 5, 0)).ok());
  ASSERT_TRUE(store_->Apply(Instance("a")).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  Settle();
  AllReady();
  Settle();
  ASSERT_TRUE(ReconcileRI("a").has_value());
  ASSERT_FALSE(GetRI("a").status.host.empty());
  for (int i = 0; i < 5; ++i) {
    clock_->Advance(std::chrono::hours(1));
    Settle();
  }
  EXPECT_THAT(Machines(), ElementsAre(GetRI("a").status.host));
}

TEST_F(ElasticPoolTest, AnInstancePlacedOnAHostBeingCordonedKeepsIt) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 5, 0)).ok());
  elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_, true);
  providers::Host h;
  h.name = "rf-default-pool-7";
  h.ready = true;
  elastic_->Inject(h, "default.pool");
  Settle();  // observed, empty since now
  clock_->Advance(std::chrono::seconds(601));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  ASSERT_EQ(GetHP("pool").status.hosts.at(0).state, api::HostState::kCordoned);
  // An instance reaches the host in the ledger between the cordon and the delete pass (as a
  // racing placement would have before the cordon): the delete pass must keep the host.
  ledger_->Set("default.pool", "rf-default-pool-7", api::Key{"default", "late"}, 64);
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-7"));
  EXPECT_EQ(GetHP("pool").status.hosts.at(0).state, api::HostState::kReady);
}

TEST_F(ElasticPoolTest, RateLimitedCreateIsRecordedRetriedWithBackoffAndNeverDuplicated) {
  ASSERT_TRUE(store_->Apply(Elastic(2, 5, 0)).ok());
  elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_);
  elastic_->FailNext("Create", ResourceExhaustedError("rate limited by DigitalOcean until later"));
  auto r = ReconcileHP("pool");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
  // Rate limited: the second host was not even asked for in this pass.
  EXPECT_EQ(elastic_->Calls("Create"), 1);
  auto hp = GetHP("pool");
  ASSERT_EQ(hp.status.hosts.size(), 2u);  // both intents are on record
  EXPECT_EQ(api::FindCondition(hp.status.conditions, "ScalingActive")->reason, "RateLimited");
  // The work queue turns this error into a growing delay, not an immediate retry.
  Backoff backoff(std::chrono::seconds(1), std::chrono::minutes(5));
  auto first = runtime::DecideRequeue(r, 0, backoff);
  auto third = runtime::DecideRequeue(r, 2, backoff);
  EXPECT_EQ(first.kind, runtime::RequeueKind::kAfter);
  EXPECT_GT(third.delay, first.delay);

  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), UnorderedElementsAre("rf-default-pool-1", "rf-default-pool-2"));
  Settle();
  EXPECT_EQ(Machines().size(), 2u);
}

TEST_F(ElasticPoolTest, AHostNotReadyInTimeIsReplaced) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 1)).ok());
  Settle();
  ASSERT_THAT(Machines(), ElementsAre("rf-default-pool-1"));
  clock_->Advance(std::chrono::seconds(899));
  Settle();
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));
  clock_->Advance(std::chrono::seconds(2));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-2"));
  EXPECT_EQ(elastic_->Calls("Delete"), 1);
}

TEST_F(ElasticPoolTest, AfterACrashBetweenIntentAndCreateTheRecordedNameIsCreatedOnce) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 1)).ok());
  elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_);
  ASSERT_TRUE(ReconcileHP("pool").has_value());  // finalizer etc.
  // Simulate the crash: the status holds the intent, the provider has nothing (the create call
  // never went out).
  ASSERT_EQ(Machines().size(), 1u);
  auto hp = GetHP("pool");
  ASSERT_TRUE(elastic_->Delete(providers::Host{hp.status.hosts[0].name, hp.status.hosts[0].provider_id,
                                               "", "", {}, false}).ok());
  hp.status.hosts[0].provider_id.clear();
  ASSERT_TRUE(store_->UpdateStatus(hp).ok());

  Rebuild();
  Settle();
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));
}

TEST_F(ElasticPoolTest, AfterACrashBetweenCreateAndStatusTheMachineIsAdopted) {
  elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_);
  providers::Host h;
  h.name = "rf-default-pool-1";  // created by the run that crashed before recording it
  h.created = clock_->Now();
  elastic_->Inject(h, "default.pool");
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 1)).ok());
  Settle();
  EXPECT_THAT(Machines(), ElementsAre("rf-default-pool-1"));
  EXPECT_EQ(elastic_->Calls("Create"), 0);
  EXPECT_EQ(GetHP("pool").status.hosts.size(), 1u);
}

TEST_F(ElasticPoolTest, MachinesOfAPoolThatNoLongerExistsAreDeletedAfterTheGrace) {
  ASSERT_TRUE(store_->Apply(Elastic(0, 3, 0)).ok());
  elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_);
  providers::Host orphan;
  orphan.name = "rf-default-gone-1";
  elastic_->Inject(orphan, "default.gone");
  Settle();
  EXPECT_THAT(Machines(), ElementsAre("rf-default-gone-1"));
  clock_->Advance(std::chrono::seconds(601));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ::testing::IsEmpty());
}

TEST_F(ElasticPoolTest, DeletingThePoolDeletesItsMachinesBeforeItGoes) {
  ASSERT_TRUE(store_->Apply(Elastic(2, 3, 0)).ok());
  Settle();
  ASSERT_EQ(Machines().size(), 2u);
  ASSERT_TRUE(store_->Delete(api::Kind::kHostPool, api::Key{"default", "pool"}).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_THAT(Machines(), ::testing::IsEmpty());
  ASSERT_TRUE(store_->Get(api::Kind::kHostPool, api::Key{"default", "pool"}).has_value());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(store_->Get(api::Kind::kHostPool, api::Key{"default", "pool"}).error().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace redisfleet::controllers
