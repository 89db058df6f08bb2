#include "controllers/hostpool/autoscale.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace redisfleet::controllers::hostpool {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using api::HostState;
using std::chrono::seconds;

const TimePoint kNow = TimePoint(seconds(1'800'000'000));

HostView Host(const std::string& name, HostState state, int64_t instances = 0,
              Duration age = seconds(3600), bool exists = true) {
  HostView h;
  h.name = name;
  h.state = state;
  h.exists = exists;
  h.instances = instances;
  h.requested = kNow - age;
  h.since = kNow - age;
  if (state == HostState::kReady && instances == 0) h.empty_since = kNow - age;
  return h;
}

AutoscaleSpec Spec(int64_t min_hosts, int64_t max_hosts, int64_t standby) {
  AutoscaleSpec s;
  s.min_hosts = min_hosts;
  s.max_hosts = max_hosts;
  s.standby_hosts = standby;
  s.scale_in_delay = seconds(600);
  s.ready_timeout = seconds(900);
  s.limits = {4, 1024};
  return s;
}

struct Row {
  std::string name;
  AutoscaleSpec spec;
  std::vector<HostView> hosts{};
  std::vector<int64_t> unplaced{};
  int64_t create = 0;
  std::vector<std::string> cordon{}, remove{}, replace{}, uncordon{}, cancel{};
};

TEST(PlanHosts, Table) {
  const std::vector<Row> rows = {
      {"empty pool gets min hosts (min above standby)", Spec(2, 10, 1), {}, {}, 2},
      {"empty pool gets its standby host", Spec(0, 10, 1), {}, {}, 1},
      {"standby 0 and min 0: nothing", Spec(0, 10, 0), {}, {}, 0},
      {"one empty ready host is the standby: nothing", Spec(0, 10, 1), {Host("a", HostState::kReady)}, {}, 0},
      {"standby used -> one more", Spec(0, 10, 1), {Host("a", HostState::kReady, 1)}, {}, 1},
      {"standby used while one is provisioning: nothing more", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 3), Host("b", HostState::kProvisioning, 0, seconds(30))}, {}, 0},
      {"an intent not yet created counts as coming", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 3), Host("b", HostState::kProvisioning, 0, seconds(30), false)}, {}, 0},
      {"standby 2 and both used -> two more", Spec(0, 10, 2),
       {Host("a", HostState::kReady, 1), Host("b", HostState::kReady, 2)}, {}, 2},
      {"no room for 6 waiting instances of 4 per host: 2 hosts + standby", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 4)}, {64, 64, 64, 64, 64, 64}, 3},
      {"an instance bigger than a host needs no host", Spec(0, 10, 0),
       {Host("a", HostState::kReady, 1)}, {4096}, 0},
      {"maxHosts caps growth", Spec(0, 3, 1),
       {Host("a", HostState::kReady, 4), Host("b", HostState::kReady, 4)}, {64, 64, 64, 64, 64, 64, 64, 64}, 1},
      {"at maxHosts: nothing even with waiting instances", Spec(0, 2, 1),
       {Host("a", HostState::kReady, 4), Host("b", HostState::kReady, 4)}, {64}, 0},
      {"a Lost host counts against maxHosts", Spec(0, 2, 1),
       {Host("a", HostState::kReady, 4), Host("b", HostState::kLost, 2, seconds(60))}, {}, 0},
      {"three empty -> back to one standby (newest first)", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kReady), Host("c", HostState::kReady)}, {}, 0,
       {"c", "b"}},
      {"empty but not long enough: kept", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 0, seconds(599)), Host("b", HostState::kReady, 0, seconds(60))}, {}, 0},
      {"of two surplus candidates only the one empty long enough goes", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kReady, 0, seconds(60))}, {}, 0, {"a"}},
      {"min hosts keep empty hosts", Spec(3, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kReady), Host("c", HostState::kReady)}, {}, 0},
      {"busy hosts are never scaled in", Spec(0, 10, 0),
       {Host("a", HostState::kReady, 1), Host("b", HostState::kReady, 2)}, {}, 0},
      {"cordoned and empty, still surplus -> delete", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kCordoned)}, {}, 0, {}, {"b"}},
      {"cordoned host needed again -> uncordon instead of creating", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 1), Host("b", HostState::kCordoned)}, {}, 0, {}, {}, {}, {"b"}},
      {"cordoned but an instance got there -> uncordon, keep", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kCordoned, 1)}, {}, 0, {}, {}, {}, {"b"}},
      {"not ready within the timeout -> replaced", Spec(0, 10, 1),
       {Host("a", HostState::kProvisioning, 0, seconds(901))}, {}, 1, {}, {}, {"a"}},
      {"still within the timeout -> waited for", Spec(0, 10, 1),
       {Host("a", HostState::kProvisioning, 0, seconds(899))}, {}, 0},
      {"lost and emptied for long -> replaced", Spec(0, 10, 1),
       {Host("a", HostState::kReady, 2), Host("b", HostState::kLost, 0, seconds(901))}, {}, 1, {}, {}, {"b"}},
      {"lost with instances: kept until they moved", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kLost, 2, seconds(901))}, {}, 0},
      {"surplus intents are cancelled before ready hosts are cordoned", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kProvisioning, 0, seconds(5), false)}, {}, 0, {}, {}, {},
       {}, {"b"}},
      {"deleting hosts are ignored", Spec(0, 10, 1),
       {Host("a", HostState::kReady), Host("b", HostState::kDeleting)}, {}, 0},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    AutoscalePlan p = PlanHosts(r.spec, r.hosts, r.unplaced, kNow);
    EXPECT_EQ(p.create, r.create);
    EXPECT_EQ(p.cordon, r.cordon);
    EXPECT_EQ(p.remove, r.remove);
    EXPECT_EQ(p.replace, r.replace);
    EXPECT_EQ(p.uncordon, r.uncordon);
    EXPECT_EQ(p.cancel, r.cancel);
    if (!p.Empty()) {
      EXPECT_FALSE(p.reason.empty());
    }
  }
}

TEST(HostsFor, FirstFitLargestFirst) {
  const placement::Limits limits{4, 1024};
  EXPECT_EQ(HostsFor({}, limits), 0);
  EXPECT_EQ(HostsFor({512, 512}, limits), 1);
  EXPECT_EQ(HostsFor({512, 600, 400}, limits), 2);
  EXPECT_EQ(HostsFor({10, 10, 10, 10, 10}, limits), 2);  // 4 per host
  EXPECT_EQ(HostsFor({2048}, limits), 0);                // fits nowhere
}

}  // namespace
}  // namespace redisfleet::controllers::hostpool
