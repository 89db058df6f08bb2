// Multi-host behaviour of the RedisInstance and HostPool reconcilers: per-requester quota,
// default TTL of requested instances, lost hosts, and adoption of servers a crash left
// unrecorded.

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixture.h"

namespace redisfleet::controllers {
namespace {

using ::testing::HasSubstr;

class FleetTest : public ControllerFixture {
 protected:
  api::RedisInstance Requested(const std::string& name, const std::string& requester) {
    auto ri = Instance(name);
    ri.spec.requester = requester;
    return ri;
  }
  const api::Condition* Cond(const api::RedisInstance& ri, const std::string& type) {
    return api::FindCondition(ri.status.conditions, type);
  }
};

TEST_F(FleetTest, QuotaKeepsARequesterToItsFirstInstances) {
  auto pool = Pool("pool");
  pool.spec.quota.max_instances_per_requester = 2;
  ASSERT_TRUE(store_->Apply(pool).ok());
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(store_->Apply(Requested(name, "10.0.0.1")).ok());
    clock_->Advance(std::chrono::seconds(1));  // creation order a < b < c
  }
  ASSERT_TRUE(store_->Apply(Requested("other", "10.0.0.2")).ok());
  for (const char* name : {"c", "a", "b", "other"}) ASSERT_TRUE(ReconcileRI(name).has_value());

  EXPECT_EQ(GetRI("a").status.phase, api::Phase::kReady);
  EXPECT_EQ(GetRI("b").status.phase, api::Phase::kReady);
  EXPECT_EQ(GetRI("other").status.phase, api::Phase::kReady);
  auto c = GetRI("c");
  EXPECT_EQ(c.status.phase, api::Phase::kPending);
  ASSERT_NE(Cond(c, "Ready"), nullptr);
  EXPECT_EQ(Cond(c, "Ready")->reason, "QuotaExceeded");
  EXPECT_THAT(Cond(c, "Ready")->message, HasSubstr("10.0.0.1"));
  EXPECT_EQ(runtime_->Count(), 3u);  // never a server for the one over quota

  // One of the first two goes: the third gets its place.
  ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, api::Key{"default", "a"}).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  ASSERT_TRUE(ReconcileRI("c").has_value());
  EXPECT_EQ(GetRI("c").status.phase, api::Phase::kReady);
  EXPECT_EQ(runtime_->Count(), 3u);
}

TEST_F(FleetTest, RequestedInstancesExpireAfterThePoolsDefaultTTL) {
  auto pool = Pool("pool");
  pool.spec.quota.default_ttl_seconds = 100;
  ASSERT_TRUE(store_->Apply(pool).ok());
  ASSERT_TRUE(store_->Apply(Requested("asked", "10.0.0.1")).ok());
  ASSERT_TRUE(store_->Apply(Instance("declared")).ok());
  ASSERT_TRUE(ReconcileRI("asked").has_value());
  ASSERT_TRUE(ReconcileRI("declared").has_value());
  auto asked = GetRI("asked");
  ASSERT_TRUE(asked.status.expires_at.has_value());
  EXPECT_EQ(*asked.status.expires_at, *asked.metadata.creation_timestamp + std::chrono::seconds(100));
  EXPECT_FALSE(GetRI("declared").status.expires_at.has_value());  // declared: no default TTL

  clock_->Advance(std::chrono::seconds(101));
  ASSERT_TRUE(ReconcileRI("asked").has_value());
  ASSERT_TRUE(ReconcileRI("declared").has_value());
  EXPECT_EQ(GetRI("asked").status.phase, api::Phase::kExpired);
  EXPECT_EQ(GetRI("declared").status.phase, api::Phase::kReady);
  EXPECT_EQ(runtime_->Count(), 1u);
}

TEST_F(FleetTest, InstancesOfALostHostArePlacedAgain) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 2)).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  ASSERT_EQ(GetRI("cache").status.host, "h1");
  hosts_changed_.clear();

  host_providers_.at("pool")->SetReady("h1", false);
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  auto pool = GetHP("pool");
  ASSERT_EQ(pool.status.hosts.size(), 2u);
  EXPECT_EQ(pool.status.hosts[0].name, "h1");
  EXPECT_EQ(pool.status.hosts[0].state, api::HostState::kLost);
  EXPECT_EQ(hosts_changed_, std::vector<std::string>{"pool"});

  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto ri = GetRI("cache");
  EXPECT_EQ(ri.status.host, "h2");
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  ASSERT_NE(Cond(ri, "Placed"), nullptr);
  EXPECT_EQ(Cond(ri, "Placed")->status, "True");

  // The host comes back: its old copy is an orphan now and goes after the grace period.
  host_providers_.at("pool")->SetReady("h1", true);
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(GetHP("pool").status.hosts[0].state, api::HostState::kReady);
  EXPECT_EQ(runtime_->Count(), 2u);
  clock_->Advance(std::chrono::seconds(61));
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(runtime_->Count(), 1u);
  EXPECT_EQ(GetRI("cache").status.host, "h2");
}

TEST_F(FleetTest, AHostIsLostOnlyAfterItServed) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 2)).ok());
  ASSERT_TRUE(pools_->Drivers(GetHP("pool")).ok());
  host_providers_.at("pool")->SetReady("h2", false);  // never answered yet
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  auto pool = GetHP("pool");
  ASSERT_EQ(pool.status.hosts.size(), 2u);
  EXPECT_EQ(pool.status.hosts[1].state, api::HostState::kProvisioning);
  EXPECT_EQ(pool.status.ready_hosts, 1);

  host_providers_.at("pool")->SetReady("h2", true);
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(GetHP("pool").status.hosts[1].state, api::HostState::kReady);
  host_providers_.at("pool")->SetReady("h2", false);
  ASSERT_TRUE(ReconcileHP("pool").has_value());
  EXPECT_EQ(GetHP("pool").status.hosts[1].state, api::HostState::kLost);
}

TEST_F(FleetTest, AServerACrashLeftUnrecordedIsAdoptedNotDuplicated) {
  ASSERT_TRUE(store_->Apply(Pool("pool", 3)).ok());
  ASSERT_TRUE(store_->Apply(Instance("cache")).ok());
  ASSERT_TRUE(pools_->Drivers(GetHP("pool")).ok());
  const auto ri = GetRI("cache");
  // The operator created it on h3 and died before writing status.
  providers::Host h3;
  h3.name = "h3";
  h3.address = "127.0.0.3";
  providers::RunningRedis running;
  running.instance = ri.metadata.key();
  running.uid = ri.metadata.uid;
  running.pool_id = "default.pool";
  running.endpoint = {"127.0.0.3", 7000};
  running.resources = {64, 100};
  running.running = true;
  running.labels = {{std::string(api::kLabelManagedBy), "redis-fleet"}};
  runtime_->Inject(h3, running);

  Rebuild();  // the restart
  ASSERT_TRUE(ReconcileRI("cache").has_value());
  auto after = GetRI("cache");
  EXPECT_EQ(after.status.host, "h3");  // not h1, where binpack would put a new one
  EXPECT_EQ(after.status.phase, api::Phase::kReady);
  EXPECT_EQ(runtime_->Count(), 1u);
}

// Records what the reconciler tells.
class RecordingEvents final : public store::EventRecorder {
 public:
  void Record(const api::ObjectMeta& regarding, api::Kind, store::Severity type,
              const std::string& reason, const std::string& message) override {
    seen.push_back(regarding.name + " " + (type == store::Severity::kWarning ? "Warning " : "Normal ") +
                   reason + ": " + message);
  }
  std::vector<std::string> seen;
};

TEST_F(FleetTest, ConditionChangesAreToldOnceAsEvents) {
  auto events = std::make_shared<RecordingEvents>();
  ri_->SetEventRecorder(events);
  auto pool = Pool("pool", 1, /*max_instances=*/1);
  ASSERT_TRUE(store_->Apply(pool).ok());
  ASSERT_TRUE(store_->Apply(Instance("a")).ok());
  ASSERT_TRUE(store_->Apply(Instance("b")).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  ASSERT_TRUE(ReconcileRI("b").has_value());
  ASSERT_TRUE(ReconcileRI("b").has_value());  // still no room: no second event
  ASSERT_TRUE(ReconcileRI("a").has_value());  // nothing changed: no event

  EXPECT_THAT(events->seen, ::testing::Contains(HasSubstr("a Normal Placed: on host h1")));
  EXPECT_THAT(events->seen, ::testing::Contains(HasSubstr("a Normal Running: answering on redis://")));
  EXPECT_THAT(events->seen, ::testing::Contains(HasSubstr("b Warning NoCapacity: no Ready host")));
  const auto count = [&](const std::string& what) {
    return std::count_if(events->seen.begin(), events->seen.end(),
                         [&](const std::string& e) { return e.find(what) != std::string::npos; });
  };
  EXPECT_EQ(count("b Warning NoCapacity"), 1);
  EXPECT_EQ(count("a Normal Running"), 1);
  EXPECT_EQ(count("AtSpec"), 0);

  // A resize is told; the password never is.
  ASSERT_TRUE(store_->Apply(Instance("a", "pool", 128)).ok());
  ASSERT_TRUE(ReconcileRI("a").has_value());
  EXPECT_EQ(count("a Normal Resized: 128 MiB"), 1);
  const std::string password = secrets_->ReadConnection(GetRI("a").metadata.key())->at("password");
  for (const auto& e : events->seen) EXPECT_EQ(e.find(password), std::string::npos) << e;
}

}  // namespace
}  // namespace redisfleet::controllers
