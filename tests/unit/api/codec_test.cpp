// Decoding good documents (defaults filled), multi-document files, Problem formatting and the
// JSON entry points.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/validation.h"
#include "unit/api/test_util.h"

namespace redisfleet::api {
namespace {

using ::testing::ElementsAre;
using testing::ParseOne;
using testing::ProblemStrings;
using testing::ReadFixture;

TEST(ProblemTest, ToStringLeavesOutUnknownParts) {
  struct Case {
    Problem problem;
    std::string want;
  };
  const Case cases[] = {
      {{"a.yaml", 2, "RedisInstance", "default/cache", "spec.memoryMiB", "must be >= 1 (got 0)"},
       "a.yaml: doc 2: RedisInstance default/cache: spec.memoryMiB: must be >= 1 (got 0)"},
      {{"a.yaml", 2, "", "", "spec.memoryMiB", "m"}, "a.yaml: doc 2: spec.memoryMiB: m"},
      {{"", 0, "HostPool", "", "metadata.name", "required"}, "HostPool: metadata.name: required"},
      {{"", 0, "", "ns/x", "kind", "required"}, "ns/x: kind: required"},
      {{"f", 0, "", "", "", "m"}, "f: m"},
      {{"", 3, "", "", "", "m"}, "doc 3: m"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(c.problem.ToString(), c.want);
  }
}

constexpr const char* kHeader = "apiVersion: redisfleet.io/v1alpha1\n";

TEST(ParseYamlTest, MinimalDocumentsOfEveryKindGetDefaults) {
  {
    SCOPED_TRACE("HostPool with no spec: a local process pool");
    auto o = ParseOne(std::string(kHeader) + "kind: HostPool\nmetadata: {name: local}\n");
    ASSERT_TRUE(o);
    const auto& hp = std::get<HostPool>(*o);
    EXPECT_EQ(hp.metadata.namespace_, "default");
    EXPECT_TRUE(hp.spec == HostPoolSpec{});
    EXPECT_TRUE(hp.status == HostPoolStatus{});
  }
  {
    SCOPED_TRACE("HostPool runtime docker gets a default docker block");
    auto o = ParseOne(std::string(kHeader) + "kind: HostPool\nmetadata: {name: local}\nspec: {runtime: docker}\n");
    ASSERT_TRUE(o);
    const auto& hp = std::get<HostPool>(*o);
    ASSERT_TRUE(hp.spec.docker.has_value());
    EXPECT_TRUE(*hp.spec.docker == DockerSpec{});
    EXPECT_EQ(hp.spec.docker->endpoint, "unix:///var/run/docker.sock");
  }
  {
    SCOPED_TRACE("RedisInstance");
    auto o = ParseOne(std::string(kHeader) + "kind: RedisInstance\nmetadata: {name: cache}\nspec: {hostPool: local}\n");
    ASSERT_TRUE(o);
    const auto& ri = std::get<RedisInstance>(*o);
    RedisInstanceSpec want;
    want.host_pool = "local";
    EXPECT_TRUE(ri.spec == want);
    EXPECT_EQ(ri.spec.password_secret_ref.key, "password");
    EXPECT_EQ(ri.metadata.key().ToString(), "default/cache");
  }
  {
    SCOPED_TRACE("ScalingPolicy");
    auto o = ParseOne(std::string(kHeader) +
                      "kind: ScalingPolicy\nmetadata: {name: p, namespace: team-a}\n"
                      "spec:\n  targetRef: {name: cache}\n  planCatalog: {herokuAddonService: heroku-redis}\n");
    ASSERT_TRUE(o);
    const auto& sp = std::get<ScalingPolicy>(*o);
    ScalingPolicySpec want;
    want.target_ref.name = "cache";
    want.plan_catalog = PlanCatalog{"heroku-redis"};
    EXPECT_TRUE(sp.spec == want);
    EXPECT_EQ(sp.metadata.namespace_, "team-a");
  }
  {
    SCOPED_TRACE("explicit empty namespace is defaulted");
    auto o = ParseOne(std::string(kHeader) + "kind: HostPool\nmetadata: {name: local, namespace: \"\"}\n");
    ASSERT_TRUE(o);
    EXPECT_EQ(MetaOf(*o).namespace_, "default");
  }
}

TEST(ParseYamlTest, FullFixtureDecodesEveryField) {
  auto docs = ParseYaml(ReadFixture("good.yaml"), "good.yaml");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_THAT(ProblemStrings(docs), ::testing::IsEmpty());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(docs[i].doc, i + 1);

  const auto& hp = std::get<HostPool>(*docs[0].object);
  EXPECT_EQ(hp.metadata.key().ToString(), "prod/edge");
  EXPECT_EQ(hp.metadata.labels.at("tier"), "cache");
  EXPECT_EQ(hp.spec.provider, HostProviderType::kStatic);
  EXPECT_EQ(hp.spec.runtime, RuntimeType::kDocker);
  EXPECT_EQ(hp.spec.capacity, (Capacity{20, 2048}));
  EXPECT_EQ(hp.spec.placement, PlacementStrategy::kSpread);
  EXPECT_EQ(hp.spec.min_hosts, 1);
  EXPECT_EQ(hp.spec.max_hosts, 3);
  EXPECT_EQ(hp.spec.standby_hosts, 0);
  EXPECT_EQ(hp.spec.scale_in_delay_seconds, 120);
  EXPECT_EQ(hp.spec.quota, (Quota{2, 3600}));
  ASSERT_TRUE(hp.spec.docker);
  EXPECT_EQ(hp.spec.docker->tls, (TlsFiles{"/etc/ca.pem", "", ""}));
  EXPECT_EQ(hp.spec.docker->basic_auth_secret_ref, (SecretKeyRef{"docker-auth", "credentials"}));
  EXPECT_EQ(hp.spec.docker->network_mode, NetworkMode::kHost);
  EXPECT_EQ(hp.spec.docker->bind_address, "127.0.0.1");
  EXPECT_EQ(hp.spec.docker->image, "redis:7");
  ASSERT_TRUE(hp.spec.static_hosts);
  EXPECT_THAT(hp.spec.static_hosts->hosts,
              ElementsAre(StaticHost{"h1", "tcp://203.0.113.5:2376", "203.0.113.5"},
                          StaticHost{"h2", "tcp://203.0.113.6:2376", "203.0.113.6"}));
  ASSERT_TRUE(hp.spec.digitalocean);
  EXPECT_EQ(hp.spec.digitalocean->token_secret_ref, (SecretKeyRef{"do-token", "token"}));
  EXPECT_EQ(hp.spec.digitalocean->region, "ams3");
  EXPECT_EQ(hp.spec.digitalocean->size, "s-2vcpu-2gb");
  EXPECT_THAT(hp.spec.digitalocean->ssh_keys, ElementsAre("12345"));
  EXPECT_THAT(hp.spec.digitalocean->tags, ElementsAre("fleet"));
  ASSERT_TRUE(hp.spec.discovery);
  EXPECT_EQ(*hp.spec.discovery, (DiscoverySpec{"redis://127.0.0.1:6379/0", "server:", 10}));

  const auto& ri = std::get<RedisInstance>(*docs[1].object);
  EXPECT_EQ(ri.spec.host_pool, "edge");
  EXPECT_EQ(ri.spec.plan, "small");
  EXPECT_EQ(ri.spec.persistence, Persistence::kRdb);
  EXPECT_EQ(ri.spec.requester, "10.0.0.7");
  EXPECT_EQ(ri.spec.password_secret_ref, (SecretKeyRef{"", "password"}));

  const auto& sp = std::get<ScalingPolicy>(*docs[2].object);
  EXPECT_EQ(sp.spec.target_ref.name, "");
  EXPECT_EQ(sp.spec.target_ref.match_labels, (std::map<std::string, std::string>{{"tier", "cache"}}));
  EXPECT_EQ(sp.spec.mode, ScalingMode::kDryRun);
  EXPECT_EQ(sp.spec.targets, (Targets{80, 70}));
  EXPECT_EQ(sp.spec.scale_down, (ScaleDown{600, 5, 75}));
  EXPECT_THAT(sp.spec.plans, ElementsAre(Plan{"medium", 256, 500, 15}, Plan{"small", 64, 100, 5}));
  EXPECT_EQ(sp.spec.min_plan, "small");
  EXPECT_EQ(sp.spec.max_plan, "medium");
  ASSERT_TRUE(sp.spec.notifications);
  EXPECT_THAT(sp.spec.notifications->on,
              ElementsAre(NotificationEvent::kThresholdBreach, NotificationEvent::kScaleSucceeded,
                          NotificationEvent::kScaleFailed));
  ASSERT_TRUE(sp.spec.notifications->email);
  const EmailSpec& email = *sp.spec.notifications->email;
  EXPECT_EQ(email.smtp_url, "smtp://mail.example.com:587");
  EXPECT_FALSE(email.starttls);
  EXPECT_EQ(email.username, "ops");
  EXPECT_EQ(email.password_secret_ref, (SecretKeyRef{"smtp", "password"}));
  EXPECT_THAT(email.to, ElementsAre("ops@example.com"));
  EXPECT_EQ(sp.spec.notifications->webhook, WebhookSpec{"https://hooks.example.com/fleet"});

  // The fixture is consistent as a set, too.
  std::vector<SourcedObject> set;
  for (const auto& d : docs) set.push_back({"good.yaml", d.doc, *d.object});
  EXPECT_THAT(ValidateSet(set, true), ::testing::IsEmpty());
}

TEST(ParseYamlTest, MixedFileKeepsGoodDocumentsAndNumbersTheRest) {
  auto docs = ParseYaml(ReadFixture("mixed.yaml"), "mixed.yaml");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].doc, 1);
  ASSERT_TRUE(docs[0].object);
  EXPECT_EQ(MetaOf(*docs[0].object).name, "local");

  EXPECT_EQ(docs[1].doc, 2);
  EXPECT_FALSE(docs[1].object);
  EXPECT_THAT(ProblemStrings({docs[1]}),
              ElementsAre("mixed.yaml: doc 2: RedisInstance default/broken: spec.memoryMiB: must be an "
                          "integer (got \"abc\")",
                          "mixed.yaml: doc 2: RedisInstance default/broken: spec.maxclients: unknown field "
                          "(did you mean maxClients?)"));

  EXPECT_EQ(docs[2].doc, 4);
  EXPECT_FALSE(docs[2].object);
  ASSERT_EQ(docs[2].problems.size(), 1u);
  EXPECT_EQ(docs[2].problems[0].ToString(),
            "mixed.yaml: doc 4: YAML syntax error at line 18, column 5: end of map flow not found");

  EXPECT_EQ(docs[3].doc, 5);
  ASSERT_TRUE(docs[3].object);
  EXPECT_EQ(MetaOf(*docs[3].object).name, "cache");
}

TEST(ParseYamlTest, EmptyInputsYieldNoDocuments) {
  for (const char* text : {"", "\n\n", "# just a comment\n", "---\n", "---\n---\n...\n", "~\n"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(ParseYaml(text, "f").empty());
  }
}

TEST(ParseYamlTest, DocumentNumbersCountSeparators) {
  const std::string hp = std::string(kHeader) + "kind: HostPool\nmetadata: {name: p1}\n";
  const std::string bad = std::string(kHeader) + "kind: Nope\n";
  {
    SCOPED_TRACE("leading separator does not open an extra document");
    auto docs = ParseYaml("---\n" + hp + "---\n" + bad, "f.yaml");
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_EQ(docs[1].doc, 2);
    EXPECT_THAT(ProblemStrings(docs),
                ElementsAre("f.yaml: doc 2: kind: must be one of HostPool|RedisInstance|ScalingPolicy (got Nope)"));
  }
  {
    SCOPED_TRACE("CRLF line endings");
    std::string crlf;
    for (char c : hp + "---\n" + bad) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    auto docs = ParseYaml(crlf, "f.yaml");
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_TRUE(docs[0].object);
    EXPECT_EQ(docs[1].doc, 2);
  }
  {
    SCOPED_TRACE("directives and document end markers");
    auto docs = ParseYaml("%YAML 1.2\n---\n" + hp + "...\n---\n" + bad, "f.yaml");
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_TRUE(docs[0].object);
    EXPECT_EQ(docs[1].doc, 2);
  }
}

TEST(DecodeJsonTest, LabelsProblemsWithFileAndDoc) {
  nlohmann::json j = {{"apiVersion", "redisfleet.io/v1alpha1"},
                      {"kind", "RedisInstance"},
                      {"metadata", {{"name", "c"}}},
                      {"spec", {{"hostPool", "p"}, {"memoryMiB", "64"}}}};
  ParsedDocument d = DecodeJson(j, "api", 7);
  EXPECT_EQ(d.doc, 7);
  EXPECT_FALSE(d.object);
  EXPECT_THAT(ProblemStrings({d}),
              ElementsAre("api: doc 7: RedisInstance default/c: spec.memoryMiB: must be an integer (got \"64\")"));
}

TEST(DecodeJsonTest, AcceptsKubernetesServerMetadataAndNulls) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "apiVersion": "redisfleet.io/v1alpha1", "kind": "RedisInstance",
    "metadata": {"name": "c", "namespace": "ns", "uid": "u-1", "generation": 3,
                 "resourceVersion": "812", "creationTimestamp": "2026-01-02T03:04:05Z",
                 "deletionTimestamp": null, "managedFields": [{"manager": "kubectl"}],
                 "selfLink": "/x", "generateName": "c-", "ownerReferences": []},
    "spec": {"hostPool": "p", "heroku": null, "memoryMiB": 128.0}})");
  auto o = FromJson(j);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const auto& ri = std::get<RedisInstance>(*o);
  EXPECT_EQ(ri.metadata.uid, "u-1");
  EXPECT_EQ(ri.metadata.generation, 3);
  EXPECT_EQ(ri.metadata.resource_version, "812");
  EXPECT_EQ(FormatTime(*ri.metadata.creation_timestamp), "2026-01-02T03:04:05Z");
  EXPECT_FALSE(ri.metadata.deletion_timestamp);
  EXPECT_FALSE(ri.spec.heroku);
  EXPECT_EQ(ri.spec.memory_mib, 128);
}

TEST(FromJsonTest, JoinsAllProblemsIntoInvalidArgument) {
  nlohmann::json j = {{"apiVersion", "v1"}, {"kind", "HostPool"}, {"metadata", {{"name", "p"}}},
                      {"spec", {{"maxHosts", 0}}}};
  auto o = FromJson(j);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message(),
            "HostPool default/p: apiVersion: must be redisfleet.io/v1alpha1 (got v1); "
            "HostPool default/p: spec.maxHosts: must be >= 1 (got 0)");
}

TEST(StatusJsonTest, DecodesIntoTheObjectAndRejectsMalformedStatus) {
  RedisInstance ri;
  ri.metadata.name = "c";
  ri.spec.host_pool = "p";
  Object o = ri;
  auto j = nlohmann::json::parse(R"({"phase": "Ready", "endpoint": {"host": "127.0.0.1", "port": 7001},
                                      "expiresAt": "2026-01-02T03:04:05.5Z"})");
  ASSERT_TRUE(StatusFromJson(j, o).ok());
  const auto& got = std::get<RedisInstance>(o).status;
  EXPECT_EQ(got.phase, Phase::kReady);
  EXPECT_EQ(got.endpoint, (Endpoint{"127.0.0.1", 7001}));
  EXPECT_EQ(StatusToJson(o), j);

  Status bad = StatusFromJson(nlohmann::json::parse(R"({"phase": "Sleeping", "port": 1})"), o);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "RedisInstance default/c: status.phase: must be one of "
            "Pending|Provisioning|Ready|Resizing|Expired|Failed|Deleting (got Sleeping); "
            "RedisInstance default/c: status.port: unknown field (did you mean host?)");
  EXPECT_EQ(std::get<RedisInstance>(o).status.phase, Phase::kReady) << "left unchanged on error";

  ASSERT_TRUE(StatusFromJson(nullptr, o).ok());
  EXPECT_TRUE(std::get<RedisInstance>(o).status == RedisInstanceStatus{});
}

TEST(SpecToJsonTest, ChangesExactlyWhenTheSpecChanges) {
  RedisInstance a;
  a.metadata.name = "c";
  a.spec.host_pool = "p";
  RedisInstance b = a;
  b.status.phase = Phase::kReady;
  b.metadata.resource_version = "9";
  EXPECT_EQ(SpecToJson(a), SpecToJson(b));
  b.spec.memory_mib = 128;
  EXPECT_NE(SpecToJson(a), SpecToJson(b));
}

TEST(ToYamlTest, WritesReadableBlockYaml) {
  RedisInstance ri;
  ri.metadata.name = "cache";
  ri.metadata.labels = {{"app.kubernetes.io/name", "true"}};
  ri.spec.host_pool = "local";
  ri.status.phase = Phase::kReady;
  ri.status.conditions = {{"Ready", "True", "Running", "", TimePoint(std::chrono::seconds(1'800'000'000)), 2}};
  EXPECT_EQ(ToYaml(ri),
            "apiVersion: redisfleet.io/v1alpha1\n"
            "kind: RedisInstance\n"
            "metadata:\n"
            "  labels:\n"
            "    app.kubernetes.io/name: \"true\"\n"
            "  name: cache\n"
            "  namespace: default\n"
            "spec:\n"
            "  hostPool: local\n"
            "  maxClients: 100\n"
            "  memoryMiB: 64\n"
            "  passwordSecretRef:\n"
            "    key: password\n"
            "  persistence: aof\n"
            "  ttlSeconds: 0\n"
            "status:\n"
            "  conditions:\n"
            "  - lastTransitionTime: \"2027-01-15T08:00:00Z\"\n"
            "    observedGeneration: 2\n"
            "    reason: Running\n"
            "    status: \"True\"\n"
            "    type: Ready\n"
            "  phase: Ready\n");
}

}  // namespace
}  // namespace redisfleet::api
