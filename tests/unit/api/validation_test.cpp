// Validate on objects built in code, ApplyDefaults, and ValidateSet across objects.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/validation.h"

namespace redisfleet::api {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Strings(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.ToString());
  return out;
}

HostPool Pool(const std::string& ns, const std::string& name) {
  HostPool hp;
  hp.metadata = {};
  hp.metadata.namespace_ = ns;
  hp.metadata.name = name;
  return hp;
}

RedisInstance Instance(const std::string& ns, const std::string& name, const std::string& pool) {
  RedisInstance ri;
  ri.metadata.namespace_ = ns;
  ri.metadata.name = name;
  ri.spec.host_pool = pool;
  return ri;
}

ScalingPolicy Policy(const std::string& ns, const std::string& name, const std::string& target) {
  ScalingPolicy sp;
  sp.metadata.namespace_ = ns;
  sp.metadata.name = name;
  sp.spec.target_ref.name = target;
  sp.spec.plans = {{"small", 64, 100, 5}, {"large", 256, 500, 15}};
  return sp;
}

TEST(ApplyDefaultsTest, FillsNamespaceAndDockerAndIsIdempotent) {
  HostPool hp = Pool("", "p");
  hp.spec.runtime = RuntimeType::kDocker;
  Object o = hp;
  ApplyDefaults(o);
  EXPECT_EQ(MetaOf(o).namespace_, "default");
  ASSERT_TRUE(std::get<HostPool>(o).spec.docker);
  std::get<HostPool>(o).spec.docker->image = "custom";
  ApplyDefaults(o);
  EXPECT_EQ(std::get<HostPool>(o).spec.docker->image, "custom") << "an existing block is kept";

  Object process = Pool("x", "p");
  ApplyDefaults(process);
  EXPECT_FALSE(std::get<HostPool>(process).spec.docker) << "process pools get no docker block";
}

TEST(ValidateTest, ProblemsCarryKindAndKeyButNoSource) {
  RedisInstance ri = Instance("ns", "c", "");
  ri.spec.max_clients = 0;
  EXPECT_THAT(Strings(Validate(ri)),
              ElementsAre("RedisInstance ns/c: spec.maxClients: must be >= 1 (got 0)",
                          "RedisInstance ns/c: spec: must set exactly one of hostPool or heroku (got neither)"));
  Object empty_ns = Pool("", "p");
  EXPECT_THAT(Strings(Validate(empty_ns)), ElementsAre("HostPool default/p: metadata.namespace: required"));
  EXPECT_THAT(Validate(Instance("default", "c", "p")), IsEmpty());
  EXPECT_THAT(Validate(Policy("default", "p", "c")), IsEmpty());
}

TEST(ValidateTest, PlanOrderIsByMemoryThenCostNotListOrder) {
  ScalingPolicy sp = Policy("default", "p", "c");
  sp.spec.plans = {{"large", 256, 500, 15}, {"small", 64, 100, 5}};
  sp.spec.min_plan = "small";
  sp.spec.max_plan = "large";
  EXPECT_THAT(Validate(sp), IsEmpty());
  std::swap(sp.spec.min_plan, sp.spec.max_plan);
  EXPECT_THAT(Strings(Validate(sp)),
              ElementsAre("ScalingPolicy default/p: spec.minPlan: must not be above maxPlan (got large > small)"));
  sp.spec.max_plan = "large";
  EXPECT_THAT(Validate(sp), IsEmpty()) << "min == max is allowed";
}

TEST(ValidateSetTest, DuplicatesNameTheFirstOccurrence) {
  std::vector<SourcedObject> set = {
      {"a.yaml", 1, Instance("default", "cache", "p")},
      {"b.yaml", 3, Instance("default", "cache", "p")},
      {"b.yaml", 4, Pool("default", "cache")},           // another kind: fine
      {"c.yaml", 1, Instance("other", "cache", "p")},    // another namespace: fine
      {"", 0, Instance("", "cache", "p")},               // empty namespace is "default"
  };
  EXPECT_THAT(Strings(ValidateSet(set, false)),
              ElementsAre("b.yaml: doc 3: RedisInstance default/cache: metadata.name: duplicate RedisInstance "
                          "default/cache: already defined in a.yaml doc 1",
                          "RedisInstance default/cache: metadata.name: duplicate RedisInstance default/cache: "
                          "already defined in a.yaml doc 1"));
}

TEST(ValidateSetTest, ReferencesAreCheckedOnlyWhenAsked) {
  RedisInstance planned = Instance("default", "cache", "pool");
  planned.spec.plan = "huge";
  RedisInstance labelled = Instance("default", "labelled", "pool");
  labelled.metadata.labels = {{"tier", "cache"}};
  labelled.spec.plan = "tiny";
  ScalingPolicy by_selector = Policy("default", "by-label", "");
  by_selector.spec.target_ref.match_labels = {{"tier", "cache"}};
  std::vector<SourcedObject> set = {
      {"f.yaml", 1, Pool("default", "pool")},
      {"f.yaml", 2, planned},
      {"f.yaml", 3, Instance("team", "c2", "pool")},   // the pool is in another namespace
      {"f.yaml", 4, Policy("default", "p1", "cache")},
      {"f.yaml", 5, Policy("team", "p2", "cache")},    // the instance is in another namespace
      {"f.yaml", 6, labelled},
      {"f.yaml", 7, by_selector},
  };
  EXPECT_THAT(ValidateSet(set, false), IsEmpty());
  EXPECT_THAT(Strings(ValidateSet(set, true)),
              ElementsAre("f.yaml: doc 3: RedisInstance team/c2: spec.hostPool: names no HostPool in namespace "
                          "team (got pool)",
                          "f.yaml: doc 2: RedisInstance default/cache: spec.plan: names no plan of ScalingPolicy "
                          "default/p1 (got huge)",
                          "f.yaml: doc 5: ScalingPolicy team/p2: spec.targetRef.name: names no RedisInstance in "
                          "namespace team (got cache)",
                          "f.yaml: doc 6: RedisInstance default/labelled: spec.plan: names no plan of "
                          "ScalingPolicy default/by-label (got tiny)"));
}

}  // namespace
TEST(ValidateSetTest, TheEmbeddedLocalPoolAlwaysExists) {
  std::vector<SourcedObject> set = {{"f.yaml", 1, Instance("team", "cache", "local")},
                                    {"f.yaml", 2, Instance("team", "other", "missing")}};
  EXPECT_THAT(Strings(ValidateSet(set, true)),
              ElementsAre("f.yaml: doc 2: RedisInstance team/other: spec.hostPool: names no HostPool in "
                          "namespace team (got missing)"));
}

}  // namespace redisfleet::api
