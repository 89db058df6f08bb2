// One bad document per decoding or validation rule, asserting the exact text of every problem
// (all problems of a document are reported at once).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/codec.h"
#include "unit/api/test_util.h"

namespace redisfleet::api {
namespace {

using testing::ProblemStrings;

std::string Doc(const std::string& kind, const std::string& name, const std::string& spec) {
  return "apiVersion: redisfleet.io/v1alpha1\nkind: " + kind + "\nmetadata: {name: " + name + "}\n" +
         (spec.empty() ? "" : "spec:\n" + spec);
}
std::string Pool(const std::string& spec) { return Doc("HostPool", "pool", spec); }
std::string Instance(const std::string& spec) { return Doc("RedisInstance", "cache", spec); }
constexpr const char* kPlans =
    "  plans:\n"
    "  - {name: small, memoryMiB: 64, maxClients: 100, monthlyCost: 5}\n"
    "  - {name: large, memoryMiB: 256, maxClients: 500, monthlyCost: 15}\n";
std::string Policy(const std::string& extra, bool with_plans = true, bool with_target = true) {
  return Doc("ScalingPolicy", "policy",
             (with_target ? "  targetRef: {name: cache}\n" : "") + (with_plans ? std::string(kPlans) : "") + extra);
}

struct Case {
  const char* name;
  std::string yaml;
  std::vector<std::string> want;  // without the "bad.yaml: doc 1: " prefix
};

void RunCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SCOPED_TRACE(c.yaml);
    auto docs = ParseYaml(c.yaml, "bad.yaml");
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_FALSE(docs[0].object.has_value());
    std::vector<std::string> want;
    for (const auto& w : c.want) want.push_back("bad.yaml: doc 1: " + w);
    EXPECT_EQ(ProblemStrings(docs), want);
  }
}

const std::string kP = "HostPool default/pool: ";
const std::string kI = "RedisInstance default/cache: ";
const std::string kS = "ScalingPolicy default/policy: ";

TEST(BadDocumentsTest, Envelope) {
  RunCases({
      {"document is a list", "- a\n- b\n", {"document must be an object (got a list)"}},
      {"document is a scalar", "hello\n", {"document must be an object (got \"hello\")"}},
      {"apiVersion missing", "kind: HostPool\nmetadata: {name: pool}\n",
       {kP + "apiVersion: required (must be redisfleet.io/v1alpha1)"}},
      {"apiVersion wrong", "apiVersion: apps/v1\nkind: HostPool\nmetadata: {name: pool}\n",
       {kP + "apiVersion: must be redisfleet.io/v1alpha1 (got apps/v1)"}},
      {"kind missing", "apiVersion: redisfleet.io/v1alpha1\nmetadata: {name: pool}\n",
       {"default/pool: kind: required (one of HostPool|RedisInstance|ScalingPolicy)"}},
      {"kind wrong", "apiVersion: redisfleet.io/v1alpha1\nkind: Pod\nmetadata: {name: pool, namespace: x}\n",
       {"x/pool: kind: must be one of HostPool|RedisInstance|ScalingPolicy (got Pod)"}},
      {"unknown top-level field", Pool("") + "specs: {}\n", {kP + "specs: unknown field (did you mean spec?)"}},
      {"spec not an object", Pool("  - a\n"), {kP + "spec: must be an object (got a list)"}},
  });
}

TEST(BadDocumentsTest, Metadata) {
  const std::string label_rule =
      "must be a DNS-1123 label: a-z, 0-9 and '-', alphanumeric at both ends, at most 63 characters";
  RunCases({
      {"name missing", "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {namespace: x}\n",
       {"HostPool: metadata.name: required"}},
      {"metadata missing", "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\n",
       {"HostPool: metadata.name: required"}},
      {"name not a label", Doc("HostPool", "Bad_Name", ""),
       {"HostPool default/Bad_Name: metadata.name: " + label_rule + " (got Bad_Name)"}},
      {"name too long", Doc("HostPool", std::string(64, 'a'), ""),
       {"HostPool default/" + std::string(64, 'a') + ": metadata.name: " + label_rule + " (got " +
        std::string(64, 'a') + ")"}},
      {"name ends with a dash", Doc("HostPool", "pool-", ""),
       {"HostPool default/pool-: metadata.name: " + label_rule + " (got pool-)"}},
      {"namespace not a label",
       "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: pool, namespace: Prod}\n",
       {"HostPool Prod/pool: metadata.namespace: " + label_rule + " (got Prod)"}},
      {"label value not a string",
       "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: pool, labels: {tier: 1, "
       "app.kubernetes.io/part-of: [x]}}\n",
       {kP + "metadata.labels[\"app.kubernetes.io/part-of\"]: must be a string (got a list)",
        kP + "metadata.labels.tier: must be a string (got 1)"}},
      {"bad timestamp",
       "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: pool, creationTimestamp: "
       "yesterday}\n",
       {kP + "metadata.creationTimestamp: must be an RFC 3339 UTC time like 2026-01-02T03:04:05Z (got "
             "\"yesterday\")"}},
      {"finalizers not a list",
       "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: pool, finalizers: x}\n",
       {kP + "metadata.finalizers: must be a list (got \"x\")"}},
      {"metadata typo", "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: pool, lables: {}}\n",
       {kP + "metadata.lables: unknown field (did you mean labels?)"}},
  });
}

TEST(BadDocumentsTest, HostPool) {
  RunCases({
      {"unknown field with hint", Pool("  maxHost: 3\n"), {kP + "spec.maxHost: unknown field (did you mean maxHosts?)"}},
      {"unknown field without hint", Pool("  zzzqqq: 1\n"), {kP + "spec.zzzqqq: unknown field"}},
      {"provider enum", Pool("  provider: dgitalocean\n"),
       {kP + "spec.provider: must be one of local|static|digitalocean (got dgitalocean)"}},
      {"runtime enum", Pool("  runtime: podman\n"), {kP + "spec.runtime: must be one of process|docker (got podman)"}},
      {"placement enum", Pool("  placement: 3\n"), {kP + "spec.placement: must be one of binpack|spread (got 3)"}},
      {"integer from text", Pool("  minHosts: abc\n"), {kP + "spec.minHosts: must be an integer (got \"abc\")"}},
      {"quoted number is a string", Pool("  maxHosts: \"3\"\n"), {kP + "spec.maxHosts: must be an integer (got \"3\")"}},
      {"fraction is not an integer", Pool("  maxHosts: 2.5\n"), {kP + "spec.maxHosts: must be an integer (got 2.5)"}},
      {"object expected", Pool("  capacity: 5\n"), {kP + "spec.capacity: must be an object (got 5)"}},
      {"capacity ranges", Pool("  capacity: {maxInstancesPerHost: 0, memoryMiBPerHost: -1}\n"),
       {kP + "spec.capacity.maxInstancesPerHost: must be >= 1 (got 0)",
        kP + "spec.capacity.memoryMiBPerHost: must be >= 1 (got -1)"}},
      {"host counts", Pool("  minHosts: -1\n  maxHosts: 0\n  standbyHosts: -2\n  scaleInDelaySeconds: -5\n"),
       {kP + "spec.minHosts: must be >= 0 (got -1)", kP + "spec.maxHosts: must be >= 1 (got 0)",
        kP + "spec.standbyHosts: must be >= 0 (got -2)", kP + "spec.scaleInDelaySeconds: must be >= 0 (got -5)"}},
      {"minHosts above maxHosts", Pool("  minHosts: 5\n  maxHosts: 3\n"),
       {kP + "spec.minHosts: must not be above maxHosts (got 5 > 3)"}},
      {"quota ranges", Pool("  quota: {maxInstancesPerRequester: -1, defaultTTLSeconds: -1}\n"),
       {kP + "spec.quota.maxInstancesPerRequester: must be >= 0 (got -1)",
        kP + "spec.quota.defaultTTLSeconds: must be >= 0 (got -1)"}},
      {"process runtime needs the local provider",
       Pool("  provider: static\n  static: {hosts: [{name: h1, dockerEndpoint: \"tcp://10.0.0.1:2376\"}]}\n"),
       {kP + "spec.runtime: must be docker when provider is static (got process)"}},
      {"static block missing", Pool("  provider: static\n  runtime: docker\n"),
       {kP + "spec.static: required when provider is static"}},
      {"static hosts empty", Pool("  provider: static\n  runtime: docker\n  static: {hosts: []}\n"),
       {kP + "spec.static.hosts: must list at least one host when provider is static"}},
      {"static hosts not a list", Pool("  provider: static\n  runtime: docker\n  static: {hosts: h1}\n"),
       {kP + "spec.static.hosts: must be a list (got \"h1\")"}},
      {"static host names unique, endpoints required",
       Pool("  provider: static\n  runtime: docker\n  static:\n    hosts:\n"
            "    - {name: h1, dockerEndpoint: \"tcp://10.0.0.1:2376\"}\n    - {name: h1}\n    - {dockerEndpoint: x}\n"),
       {kP + "spec.static.hosts[1].name: duplicate host name, also at spec.static.hosts[0] (got h1)",
        kP + "spec.static.hosts[1].dockerEndpoint: required", kP + "spec.static.hosts[2].name: required"}},
      {"digitalocean block missing", Pool("  provider: digitalocean\n  runtime: docker\n"),
       {kP + "spec.digitalocean: required when provider is digitalocean"}},
      {"digitalocean token missing", Pool("  provider: digitalocean\n  runtime: docker\n  digitalocean: {region: ams3}\n"),
       {kP + "spec.digitalocean.tokenSecretRef.name: required"}},
      {"token ref is a literal token: not echoed",
       Pool("  provider: digitalocean\n  runtime: docker\n  digitalocean: {tokenSecretRef: dop_v1_abcdef}\n"),
       {kP + "spec.digitalocean.tokenSecretRef: must be an object (got a string)"}},
      {"networkMode enum", Pool("  runtime: docker\n  docker: {networkMode: overlay}\n"),
       {kP + "spec.docker.networkMode: must be one of bridge|host (got overlay)"}},
      {"discovery URL scheme, password redacted", Pool("  discovery: {redisURL: \"http://u:hunter2@h:1\", ttlSeconds: 0}\n"),
       {kP + "spec.discovery.redisURL: must start with redis:// or rediss:// (got http://u:[REDACTED]@h:1)",
        kP + "spec.discovery.ttlSeconds: must be >= 1 (got 0)"}},
      {"discovery URL missing", Pool("  discovery: {keyPrefix: \"x:\"}\n"), {kP + "spec.discovery.redisURL: required"}},
      {"many problems at once", Pool("  provider: nope\n  minHosts: x\n  maxHosts: 0\n  capacity: {memoryMiBPerHost: 0}\n  bogus: 1\n"),
       {kP + "spec.provider: must be one of local|static|digitalocean (got nope)",
        kP + "spec.minHosts: must be an integer (got \"x\")", kP + "spec.bogus: unknown field",
        kP + "spec.capacity.memoryMiBPerHost: must be >= 1 (got 0)", kP + "spec.maxHosts: must be >= 1 (got 0)"}},
  });
}

TEST(BadDocumentsTest, RedisInstance) {
  RunCases({
      {"did you mean memoryMiB", Instance("  hostPool: pool\n  memoryMB: 5\n"),
       {kI + "spec.memoryMB: unknown field (did you mean memoryMiB?)"}},
      {"ranges", Instance("  hostPool: pool\n  memoryMiB: 0\n  maxClients: 0\n  ttlSeconds: -1\n"),
       {kI + "spec.memoryMiB: must be >= 1 (got 0)", kI + "spec.maxClients: must be >= 1 (got 0)",
        kI + "spec.ttlSeconds: must be >= 0 (got -1)"}},
      {"hostPool and heroku", Instance("  hostPool: pool\n  heroku: {app: a, addon: b, apiKeySecretRef: {name: h, key: k}}\n"),
       {kI + "spec: must set exactly one of hostPool or heroku (got both)"}},
      {"neither hostPool nor heroku", Instance("  memoryMiB: 64\n"),
       {kI + "spec: must set exactly one of hostPool or heroku (got neither)"}},
      {"heroku fields required", Instance("  heroku: {configVar: REDIS_URL}\n"),
       {kI + "spec.heroku.app: required", kI + "spec.heroku.addon: required",
        kI + "spec.heroku.apiKeySecretRef.name: required"}},
      {"heroku api key typed inline: not echoed", Instance("  heroku: {app: a, addon: b, apiKeySecretRef: 12345}\n"),
       {kI + "spec.heroku.apiKeySecretRef: must be an object (got a number)"}},
      {"hostPool not a label", Instance("  hostPool: My_Pool\n"),
       {kI + "spec.hostPool: must be a DNS-1123 label: a-z, 0-9 and '-', alphanumeric at both ends, at most 63 "
             "characters (got My_Pool)"}},
      {"heroku tlsInsecureSkipVerify not a boolean",
       Instance("  heroku: {app: a, addon: b, apiKeySecretRef: {name: h}, tlsInsecureSkipVerify: \"yes\"}\n"),
       {kI + "spec.heroku.tlsInsecureSkipVerify: must be a boolean (got \"yes\")"}},
      {"heroku not an object: no consequential problems", Instance("  hostPool: pool\n  heroku: 5\n"),
       {kI + "spec.heroku: must be an object (got 5)"}},
      {"persistence enum", Instance("  hostPool: pool\n  persistence: always\n"),
       {kI + "spec.persistence: must be one of aof|rdb|none (got always)"}},
      {"password typed inline: not echoed", Instance("  hostPool: pool\n  passwordSecretRef: hunter2\n"),
       {kI + "spec.passwordSecretRef: must be an object (got a string)"}},
      {"secret ref typo", Instance("  hostPool: pool\n  passwordSecretRef: {name: s, kye: password}\n"),
       {kI + "spec.passwordSecretRef.kye: unknown field (did you mean key?)"}},
  });
}

TEST(BadDocumentsTest, ScalingPolicy) {
  RunCases({
      {"targetRef both", Policy("", true, false) + "  targetRef: {name: cache, selector: {matchLabels: {tier: cache}}}\n",
       {kS + "spec.targetRef: must set exactly one of name or selector.matchLabels (got both)"}},
      {"targetRef neither", Policy("", true, false) + "  targetRef: {}\n",
       {kS + "spec.targetRef: must set exactly one of name or selector.matchLabels (got neither)"}},
      {"selector typo", Policy("", true, false) + "  targetRef: {selector: {matchLabel: {tier: cache}}}\n",
       {kS + "spec.targetRef.selector.matchLabel: unknown field (did you mean matchLabels?)",
        kS + "spec.targetRef: must set exactly one of name or selector.matchLabels (got neither)"}},
      {"mode enum", Policy("  mode: auto\n"), {kS + "spec.mode: must be one of Auto|DryRun (got auto)"}},
      {"interval", Policy("  intervalSeconds: 0\n"), {kS + "spec.intervalSeconds: must be >= 1 (got 0)"}},
      {"percents", Policy("  targets: {memoryPercent: 0, connectionsPercent: 101}\n"
                          "  scaleDown: {bufferPercent: -1, lowerPlanMaxPercent: 0}\n"),
       {kS + "spec.targets.memoryPercent: must be between 1 and 100 (got 0)",
        kS + "spec.targets.connectionsPercent: must be between 1 and 100 (got 101)",
        kS + "spec.scaleDown.bufferPercent: must be between 0 and 100 (got -1)",
        kS + "spec.scaleDown.lowerPlanMaxPercent: must be between 1 and 100 (got 0)"}},
      {"durations", Policy("  scaleUp: {sustainSeconds: -1}\n  scaleDown: {sustainSeconds: -2}\n  cooldownSeconds: -3\n"),
       {kS + "spec.scaleUp.sustainSeconds: must be >= 0 (got -1)", kS + "spec.scaleDown.sustainSeconds: must be >= 0 (got -2)",
        kS + "spec.cooldownSeconds: must be >= 0 (got -3)"}},
      {"plan rules", Policy("  plans:\n  - {name: a, memoryMiB: 64, maxClients: 1, monthlyCost: 1}\n"
                            "  - {name: a, memoryMiB: 0, maxClients: 0, monthlyCost: -1.5}\n  - {memoryMiB: 1, maxClients: 1}\n",
                            false),
       {kS + "spec.plans[1].name: duplicate plan name, also at spec.plans[0] (got a)",
        kS + "spec.plans[1].memoryMiB: must be >= 1 (got 0)", kS + "spec.plans[1].maxClients: must be >= 1 (got 0)",
        kS + "spec.plans[1].monthlyCost: must be >= 0 (got -1.5)", kS + "spec.plans[2].name: required"}},
      {"plan field types", Policy("  plans: [{name: a, memoryMiB: 1, maxClients: 1, monthlyCost: cheap}]\n", false),
       {kS + "spec.plans[0].monthlyCost: must be a number (got \"cheap\")"}},
      {"neither plans nor catalogue", Policy("", false), {kS + "spec: must set exactly one of plans or planCatalog (got neither)"}},
      {"plans and catalogue", Policy("  planCatalog: {herokuAddonService: heroku-redis}\n"),
       {kS + "spec: must set exactly one of plans or planCatalog (got both)"}},
      {"catalogue service", Policy("  planCatalog: {}\n", false), {kS + "spec.planCatalog.herokuAddonService: required"}},
      {"min/max plan names", Policy("  minPlan: tiny\n  maxPlan: huge\n"),
       {kS + "spec.minPlan: must name a plan of spec.plans (got tiny)",
        kS + "spec.maxPlan: must name a plan of spec.plans (got huge)"}},
      {"minPlan above maxPlan", Policy("  minPlan: large\n  maxPlan: small\n"),
       {kS + "spec.minPlan: must not be above maxPlan (got large > small)"}},
      {"same memory: cost orders", Policy("  plans:\n  - {name: cheap, memoryMiB: 64, maxClients: 1, monthlyCost: 1}\n"
                                         "  - {name: dear, memoryMiB: 64, maxClients: 1, monthlyCost: 2}\n"
                                         "  minPlan: dear\n  maxPlan: cheap\n", false),
       {kS + "spec.minPlan: must not be above maxPlan (got dear > cheap)"}},
      {"notification event enum", Policy("  notifications: {on: [ThresholdBreach, Foo]}\n"),
       {kS + "spec.notifications.on[1]: must be one of ThresholdBreach|ScaleSucceeded|ScaleFailed (got Foo)"}},
      {"email needs smtpURL and a recipient", Policy("  notifications: {email: {from: fleet@example.com}}\n"),
       {kS + "spec.notifications.email.smtpURL: required",
        kS + "spec.notifications.email.to: must list at least one address"}},
      {"email scheme and types", Policy("  notifications: {email: {smtpURL: \"mail:25\", starttls: \"yes\", to: [a@b]}}\n"),
       {kS + "spec.notifications.email.starttls: must be a boolean (got \"yes\")",
        kS + "spec.notifications.email.smtpURL: must start with smtp:// or smtps:// (got mail:25)"}},
      {"email scheme", Policy("  notifications: {email: {smtpURL: \"mail.example.com:25\", to: [a@b]}}\n"),
       {kS + "spec.notifications.email.smtpURL: must start with smtp:// or smtps:// (got mail.example.com:25)"}},
      {"webhook url", Policy("  notifications: {webhook: {url: \"ftp://x\"}}\n"),
       {kS + "spec.notifications.webhook.url: must start with http:// or https:// (got ftp://x)"}},
      {"recipients must be strings", Policy("  notifications: {email: {smtpURL: \"smtp://m\", to: [ops, {a: 1}]}}\n"),
       {kS + "spec.notifications.email.to[1]: must be a string (got an object)"}},
  });
}

TEST(BadDocumentsTest, YamlStructure) {
  RunCases({
      {"syntax error names the line", "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: [x}\n",
       {"YAML syntax error at line 3, column 20: illegal flow end"}},
      {"duplicate key", Pool("  minHosts: 1\n  minHosts: 2\n"), {"spec.minHosts: duplicate key (line 6)"}},
      {"non-scalar key", Pool("  ? [a, b]\n  : 1\n"), {"spec: mapping keys must be scalars (line 5)"}},
      {"recursive alias", "a: &x [1, *x]\n", {"a[1]: alias refers to a node that contains it (line 1)"}},
  });
}

}  // namespace
}  // namespace redisfleet::api
