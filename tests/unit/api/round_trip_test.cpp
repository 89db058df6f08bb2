// FromJson(ToJson(o)) == o and ParseYaml(ToYaml(o)) == o for fully populated objects of every
// kind, including metadata, status and awkward strings.

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/codec.h"
#include "unit/api/test_util.h"

namespace redisfleet::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using testing::ExpectObjectEq;

const TimePoint kT0 = TimePoint(seconds(1'800'000'000));

ObjectMeta FullMeta(const std::string& name) {
  ObjectMeta m;
  m.name = name;
  m.namespace_ = "team-a";
  m.uid = "0b6f7c1e-1111-2222-3333-444455556666";
  m.generation = 7;
  m.resource_version = "123456";
  // Strings that a careless YAML writer would turn into other types.
  m.labels = {{"tier", "cache"}, {"app.kubernetes.io/name", "redis"}, {"bool", "true"}, {"yes", "no"},
              {"num", "0123"}, {"hex", "0x1F"}, {"float", "1e3"}, {"null", "~"}, {"empty", ""}};
  m.annotations = {{"note", "multi\nline \"quoted\" text"}, {"colon", "a: b"}, {"hash", "x #y"},
                   {"lead", " space"}, {"dash", "- item"}, {"unicode", "h\xc3\xa9llo \xe2\x9c\x93"},
                   {"brace", "{not: a map}"}, {"time", "2026-01-02T03:04:05Z"}, {"ip", "10.0.0.7"},
                   {"weird key: x", "v"}, {"tab", "a\tb"}};
  m.finalizers = {std::string(kFinalizer), "other.io/x"};
  m.creation_timestamp = kT0 + milliseconds(250);
  m.deletion_timestamp = kT0 + seconds(60) + nanoseconds(1);
  return m;
}

std::vector<Condition> FullConditions() {
  return {{"Ready", "True", "Running", "all good", kT0 + seconds(1), 7},
          {"ScalingActive", "False", "NoCapacity", "", kT0 - seconds(3600) + milliseconds(5), 0}};
}

HostPool FullHostPool() {
  HostPool hp;
  hp.metadata = FullMeta("pool");
  HostPoolSpec& s = hp.spec;
  s.provider = HostProviderType::kDigitalOcean;
  s.runtime = RuntimeType::kDocker;
  s.capacity = {12, 4096};
  s.placement = PlacementStrategy::kSpread;
  s.min_hosts = 2;
  s.max_hosts = 9;
  s.standby_hosts = 3;
  s.scale_in_delay_seconds = 77;
  s.quota = {4, 99};
  s.docker = DockerSpec{"tcp://127.0.0.1:2375", {"/ca", "/cert", "/key"}, SecretKeyRef{"auth", "creds"},
                        NetworkMode::kHost, "127.0.0.1", "redis:7.2"};
  s.static_hosts = StaticSpec{{{"h1", "tcp://10.0.0.1:2376", "10.0.0.1"}, {"h2", "tcp://10.0.0.2:2376", ""}}};
  s.digitalocean = DigitalOceanSpec{{"do", "token"}, "http://127.0.0.1:9999", "fra1", "s-2vcpu-4gb",
                                    "img", {"1", "ab:cd"}, {"t1", "t2"}, "vpc-1", 2377, 300,
                                    "host-tls", "https://example.com/redis-fleet",
                                    "https://example.com/redis.tar"};
  s.discovery = DiscoverySpec{"rediss://:pw@127.0.0.1:6379/1", "srv:", 5};
  hp.status.hosts = {{"h1", "droplet-1", "10.0.0.1", HostState::kReady, 3, 192, kT0},
                     {"h2", "", "", HostState::kLost, 0, 0, kT0 + milliseconds(1)}};
  hp.status.ready_hosts = 1;
  hp.status.standby_hosts = 1;
  hp.status.monthly_cost = 12.34;
  hp.status.conditions = FullConditions();
  hp.status.observed_generation = 7;
  return hp;
}

RedisInstance FullRedisInstance() {
  RedisInstance ri;
  ri.metadata = FullMeta("cache");
  RedisInstanceSpec& s = ri.spec;
  s.heroku = HerokuRef{"app", "redis-curly-123", "MY_REDIS", {"heroku", "apiKey"}, "http://127.0.0.1:1", true};
  s.plan = "premium-0";
  s.memory_mib = 100;
  s.max_clients = 1000;
  s.persistence = Persistence::kNone;
  s.ttl_seconds = 3600;
  s.requester = "127.0.0.1";
  s.password_secret_ref = {"pw", ""};  // an empty key that differs from the default
  RedisInstanceStatus& st = ri.status;
  st.phase = Phase::kResizing;
  st.host = "h1";
  st.endpoint = {"127.0.0.1", 7001};
  st.url = "redis://127.0.0.1:7001";
  st.connection_secret = "/state/secrets/team-a/cache";
  st.plan = "premium-0";
  st.memory_mib = 100;
  st.max_clients = 1000;
  st.used_memory_bytes = 9'007'199'254'740'993;  // above 2^53: must not go through a double
  st.connected_clients = 5;
  st.expires_at = kT0 + seconds(3600);
  st.conditions = FullConditions();
  st.observed_generation = 6;
  return ri;
}

ScalingPolicy FullScalingPolicy() {
  ScalingPolicy sp;
  sp.metadata = FullMeta("policy");
  ScalingPolicySpec& s = sp.spec;
  s.target_ref.name = "cache";
  s.mode = ScalingMode::kDryRun;
  s.interval_seconds = 4;
  s.targets = {70, 60};
  s.scale_up = {30};
  s.scale_down = {900, 0, 50};
  s.cooldown_seconds = 0;
  s.plans = {{"small", 64, 100, 5}, {"medium", 256, 500, 15.5}, {"large", 1024, 2000, 0.1}};
  s.min_plan = "small";
  s.max_plan = "large";
  s.notifications = Notifications{
      {NotificationEvent::kScaleFailed, NotificationEvent::kThresholdBreach},
      EmailSpec{"smtps://mail:465", false, "ops", SecretKeyRef{"smtp", "password"}, "f@x", {"a@x", "b@x"}},
      WebhookSpec{"https://hooks/x"}};
  ScalingPolicyStatus& st = sp.status;
  st.instances = {{"cache", "small", "medium", 91.5, 12.25, kT0 + milliseconds(999)},
                  {"other", "", "", 0, 0, std::nullopt}};
  st.decisions = {{kT0, "cache", "small", "medium", "ScaleUp", "memory 91.5% > 80% for 60s", 91.5, 12.25},
                  {kT0 + seconds(1), "cache", "medium", "medium", "None", "", 0, 0}};
  st.conditions = FullConditions();
  st.observed_generation = 7;
  return sp;
}

std::vector<Object> FullObjects() {
  ScalingPolicy by_selector = FullScalingPolicy();
  by_selector.metadata.name = "by-selector";
  by_selector.spec.target_ref = {"", {{"tier", "cache"}, {"zone", "a"}}};
  by_selector.spec.plans.clear();
  by_selector.spec.min_plan.clear();
  by_selector.spec.max_plan.clear();
  by_selector.spec.plan_catalog = PlanCatalog{"heroku-redis"};
  by_selector.spec.notifications = Notifications{};

  HostPool minimal;
  minimal.metadata.name = "minimal";
  return {FullHostPool(), FullRedisInstance(), FullScalingPolicy(), by_selector, minimal};
}

TEST(RoundTripTest, JsonIsLossless) {
  for (const Object& o : FullObjects()) {
    SCOPED_TRACE(MetaOf(o).name);
    auto back = FromJson(ToJson(o));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectObjectEq(o, *back);
    // Through text as well, as state files and the API server see it.
    auto reparsed = FromJson(nlohmann::json::parse(ToJson(o).dump()));
    ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
    ExpectObjectEq(o, *reparsed);
  }
}

TEST(RoundTripTest, YamlIsLossless) {
  for (const Object& o : FullObjects()) {
    SCOPED_TRACE(MetaOf(o).name);
    const std::string yaml = ToYaml(o);
    SCOPED_TRACE(yaml);
    auto docs = ParseYaml(yaml, "out.yaml");
    ASSERT_EQ(docs.size(), 1u);
    for (const auto& p : docs[0].problems) ADD_FAILURE() << p.ToString();
    ASSERT_TRUE(docs[0].object);
    ExpectObjectEq(o, *docs[0].object);
  }
}

TEST(RoundTripTest, StatusIsLossless) {
  for (const Object& o : FullObjects()) {
    SCOPED_TRACE(MetaOf(o).name);
    Object copy = o;
    std::visit([](auto& x) { x.status = {}; }, copy);
    ASSERT_TRUE(StatusFromJson(StatusToJson(o), copy).ok());
    ExpectObjectEq(o, copy);
  }
}

TEST(RoundTripTest, WireNamesFollowResources) {
  const nlohmann::json hp = ToJson(FullHostPool());
  EXPECT_TRUE(hp["spec"].contains("static"));
  EXPECT_EQ(hp["spec"]["capacity"]["memoryMiBPerHost"], 4096);
  EXPECT_EQ(hp["spec"]["digitalocean"]["vpcUUID"], "vpc-1");
  EXPECT_EQ(hp["status"]["hosts"][0]["providerID"], "droplet-1");
  EXPECT_EQ(hp["status"]["hosts"][0]["memoryMiBUsed"], 192);
  EXPECT_EQ(hp["metadata"]["creationTimestamp"], "2027-01-15T08:00:00.25Z");
  EXPECT_EQ(hp["metadata"]["deletionTimestamp"], "2027-01-15T08:01:00.000000001Z");
  EXPECT_EQ(hp["status"]["conditions"][0]["lastTransitionTime"], "2027-01-15T08:00:01Z");

  const nlohmann::json ri = ToJson(FullRedisInstance());
  EXPECT_EQ(ri["spec"]["heroku"]["apiKeySecretRef"]["name"], "heroku");
  EXPECT_EQ(ri["status"]["usedMemoryBytes"], 9'007'199'254'740'993);
  EXPECT_EQ(ri["status"]["expiresAt"], "2027-01-15T09:00:00Z");

  ScalingPolicy sp = FullScalingPolicy();
  sp.spec.target_ref = {"", {{"tier", "cache"}}};
  const nlohmann::json spj = ToJson(sp);
  EXPECT_EQ(spj["spec"]["targetRef"], nlohmann::json::parse(R"({"selector": {"matchLabels": {"tier": "cache"}}})"));
  EXPECT_EQ(spj["status"]["instances"][0]["lastScaleTime"], "2027-01-15T08:00:00.999Z");

  RedisInstance fresh;
  fresh.metadata.name = "x";
  fresh.spec.host_pool = "p";
  EXPECT_FALSE(ToJson(fresh).contains("status")) << "a default status is omitted";
}

}  // namespace
}  // namespace redisfleet::api
