// Keeps crds/*.yaml and src/api (types, codec, defaults, validation) from drifting apart.
// Every failure names the kind and the field path (spec.capacity.maxInstancesPerHost,
// spec.plans[].name, ...) so the fix is obvious: change the CRD or the codec, never the test.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/codec.h"
#include "api/types.h"
#include "api/validation.h"

namespace redisfleet::api {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Paths. A segment is an object key or a list index; Str() is the codec's form
// ("spec.plans[0].name"), Norm() the schema form ("spec.plans[].name").

struct Seg {
  std::string key;
  bool index = false;
};
using Path = std::vector<Seg>;

std::string Str(const Path& p) {
  std::string out;
  for (const auto& s : p) {
    if (s.index) {
      out += "[0]";
    } else {
      if (!out.empty()) out += '.';
      out += s.key;
    }
  }
  return out;
}

std::string Norm(const Path& p) {
  std::string out;
  for (const auto& s : p) {
    if (s.index) {
      out += "[]";
    } else {
      if (!out.empty()) out += '.';
      out += s.key;
    }
  }
  return out;
}

Path Child(Path p, std::string key) {
  p.push_back(Seg{std::move(key), false});
  return p;
}
Path Item(Path p) {
  p.push_back(Seg{"", true});
  return p;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The value at `p`, or nullptr (index segments mean element 0).
const json* Get(const json& doc, const Path& p) {
  const json* cur = &doc;
  for (const auto& s : p) {
    if (s.index) {
      if (!cur->is_array() || cur->empty()) return nullptr;
      cur = &(*cur)[0];
    } else {
      if (!cur->is_object() || !cur->contains(s.key)) return nullptr;
      cur = &(*cur)[s.key];
    }
  }
  return cur;
}

// Creates the objects and one-element lists leading to `p` and sets it.
void Set(json& doc, const Path& p, json value) {
  json* cur = &doc;
  for (const auto& s : p) {
    if (s.index) {
      if (!cur->is_array()) *cur = json::array();
      if (cur->empty()) cur->push_back(json());
      cur = &(*cur)[0];
    } else {
      if (!cur->is_object()) *cur = json::object();
      cur = &(*cur)[s.key];
    }
  }
  *cur = std::move(value);
}

void Remove(json& doc, const Path& p) {
  Path parent(p.begin(), p.end() - 1);
  json* cur = &doc;
  for (const auto& s : parent) {
    if (s.index) {
      if (!cur->is_array() || cur->empty()) return;
      cur = &(*cur)[0];
    } else {
      if (!cur->is_object() || !cur->contains(s.key)) return;
      cur = &(*cur)[s.key];
    }
  }
  if (cur->is_object()) cur->erase(p.back().key);
}

// Every node of a JSON value (objects, lists and leaves), depth first.
void WalkValue(const json& v, const Path& p, const std::function<void(const Path&, const json&)>& fn) {
  fn(p, v);
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) WalkValue(*it, Child(p, it.key()), fn);
  } else if (v.is_array()) {
    for (const auto& item : v) WalkValue(item, Item(p), fn);
  }
}

// ---------------------------------------------------------------------------------------------
// CRD files.

// YAML to JSON with YAML 1.2 core-schema typing of plain scalars; quoted scalars are strings.
json ToJsonValue(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(ToJsonValue(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = ToJsonValue(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      static const std::regex kInt("^[-+]?[0-9]+$");
      static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      if (s == "true") return true;
      if (s == "false") return false;
      if (std::regex_match(s, kInt)) return std::stoll(s);
      if (std::regex_match(s, kFloat)) return std::stod(s);
      return s;
    }
  }
  return nullptr;
}

std::string SourceDir() {
  const char* dir = std::getenv("REDISFLEET_SOURCE_DIR");
  return dir != nullptr ? dir : "";
}

std::string CrdFile(Kind kind) {
  return SourceDir() + "/crds/" + std::string(KindPlural(kind)) + ".redisfleet.io.yaml";
}

// The CRD of `kind` as JSON; fails the test (returning null) when it can't be read or parsed.
json LoadCrd(Kind kind) {
  const std::string file = CrdFile(kind);
  std::ifstream in(file);
  if (!in.good()) {
    ADD_FAILURE() << "cannot read " << file << " (is REDISFLEET_SOURCE_DIR set?)";
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(ss.str());
    if (docs.size() != 1) {
      ADD_FAILURE() << file << ": want exactly one YAML document, got " << docs.size();
      return nullptr;
    }
    return ToJsonValue(docs[0]);
  } catch (const std::exception& e) {
    ADD_FAILURE() << file << ": does not parse: " << e.what();
    return nullptr;
  }
}

const json& SchemaOf(const json& crd) {
  static const json kNull;
  const json* s = Get(crd, {{"spec"}, {"versions"}, {"", true}, {"schema"}, {"openAPIV3Schema"}});
  return s != nullptr ? *s : kNull;
}

// The schema node describing `p`, or nullptr.
const json* Resolve(const json& schema, const Path& p) {
  const json* cur = &schema;
  for (const auto& s : p) {
    if (s.index) {
      if (!cur->contains("items")) return nullptr;
      cur = &(*cur)["items"];
    } else if (cur->contains("properties") && (*cur)["properties"].contains(s.key)) {
      cur = &(*cur)["properties"][s.key];
    } else if (cur->contains("additionalProperties") && (*cur)["additionalProperties"].is_object()) {
      cur = &(*cur)["additionalProperties"];
    } else {
      return nullptr;
    }
  }
  return cur;
}

// Every schema node with its path ("k" stands for any key of a map).
void WalkSchema(const json& node, const Path& p, const std::function<void(const Path&, const json&)>& fn) {
  fn(p, node);
  if (node.contains("properties"))
    for (auto it = node["properties"].begin(); it != node["properties"].end(); ++it)
      WalkSchema(*it, Child(p, it.key()), fn);
  if (node.contains("additionalProperties") && node["additionalProperties"].is_object())
    WalkSchema(node["additionalProperties"], Child(p, "k"), fn);
  if (node.contains("items")) WalkSchema(node["items"], Item(p), fn);
}

// What Kubernetes does on create: fills absent properties that have a default, top down.
void K8sDefault(const json& schema, json& v) {
  if (v.is_object()) {
    if (schema.contains("properties")) {
      for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it) {
        if (!v.contains(it.key()) && it->contains("default")) v[it.key()] = (*it)["default"];
        if (v.contains(it.key())) K8sDefault(*it, v[it.key()]);
      }
    }
    if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
      for (auto& [k, child] : v.items()) K8sDefault(schema["additionalProperties"], child);
  } else if (v.is_array() && schema.contains("items")) {
    for (auto& item : v) K8sDefault(schema["items"], item);
  }
}

bool TypeMatches(const std::string& type, const json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  return false;
}

// A small OpenAPI v3 validator covering the keywords the CRDs use; unknown fields are errors
// (the API server would prune them). metadata is the server's business beyond `name`.
void SchemaCheck(const json& schema, const json& v, const Path& p, std::vector<std::string>& errors) {
  const std::string where = Norm(p).empty() ? "(root)" : Norm(p);
  const std::string type = schema.value("type", "");
  if (!TypeMatches(type, v)) {
    errors.push_back(where + ": want type " + type + ", got " + v.dump());
    return;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == v;
    if (!found) errors.push_back(where + ": " + v.dump() + " is not in the enum " + schema["enum"].dump());
  }
  if (v.is_number()) {
    if (schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>())
      errors.push_back(where + ": below minimum " + schema["minimum"].dump());
    if (schema.contains("maximum") && v.get<double>() > schema["maximum"].get<double>())
      errors.push_back(where + ": above maximum " + schema["maximum"].dump());
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<std::size_t>())
      errors.push_back(where + ": shorter than minLength");
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<std::size_t>())
      errors.push_back(where + ": longer than maxLength");
    if (schema.contains("pattern") && !std::regex_search(s, std::regex(schema["pattern"].get<std::string>())))
      errors.push_back(where + ": " + v.dump() + " does not match " + schema["pattern"].dump());
    static const std::regex kDateTime(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$)");
    if (schema.value("format", "") == "date-time" && !std::regex_match(s, kDateTime))
      errors.push_back(where + ": " + v.dump() + " is not a date-time");
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
      errors.push_back(where + ": fewer than minItems");
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<std::size_t>())
      errors.push_back(where + ": more than maxItems");
    for (const auto& item : v) SchemaCheck(schema["items"], item, Item(p), errors);
  }
  if (v.is_object()) {
    for (const auto& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>()))
        errors.push_back(where + ": missing required " + r.get<std::string>());
    const bool is_metadata = Norm(p) == "metadata";
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (schema.contains("properties") && schema["properties"].contains(it.key())) {
        SchemaCheck(schema["properties"][it.key()], *it, Child(p, it.key()), errors);
      } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
        SchemaCheck(schema["additionalProperties"], *it, Child(p, it.key()), errors);
      } else if (!is_metadata) {
        errors.push_back(Norm(Child(p, it.key())) + ": not in the schema");
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Objects: fully populated (every optional set, every status field non-zero) and minimal.

TimePoint T(int64_t seconds) { return TimePoint{} + std::chrono::seconds(1'790'000'000 + seconds); }

ObjectMeta Meta(const std::string& name) {
  ObjectMeta m;
  m.name = name;
  m.namespace_ = "team-a";
  m.uid = "0b7c8f2e-uid";
  m.generation = 3;
  m.resource_version = "42";
  m.labels = {{"tier", "cache"}};
  m.annotations = {{"note", "x"}};
  m.finalizers = {std::string(kFinalizer)};
  m.creation_timestamp = T(0);
  return m;
}

std::vector<Condition> Conditions() { return {Condition{"Ready", "True", "Placed", "all good", T(5), 3}}; }

std::vector<Object> FullHostPools() {
  HostPool hp;
  hp.metadata = Meta("pool");
  HostPoolSpec& s = hp.spec;
  s.provider = HostProviderType::kDigitalOcean;
  s.runtime = RuntimeType::kDocker;
  s.capacity = {20, 2048};
  s.placement = PlacementStrategy::kSpread;
  s.min_hosts = 1;
  s.max_hosts = 5;
  s.standby_hosts = 2;
  s.scale_in_delay_seconds = 60;
  s.quota = {3, 3600};
  s.docker = DockerSpec{"tcp://127.0.0.1:2376",
                        TlsFiles{"/ca.pem", "/cert.pem", "/key.pem"},
                        SecretKeyRef{"docker-auth", "credentials"},
                        NetworkMode::kHost,
                        "127.0.0.1",
                        "redis:7.2"};
  s.static_hosts = StaticSpec{{StaticHost{"h1", "tcp://127.0.0.2:2376", "127.0.0.2"}}};
  s.digitalocean = DigitalOceanSpec{SecretKeyRef{"do-token", "token"},
                                    "http://127.0.0.1:1",
                                    "ams3",
                                    "s-2vcpu-4gb",
                                    "docker-22-04",
                                    {"ab:cd"},
                                    {"extra"},
                                    "vpc-1",
                                    2377,
                                    300,
                                    "host-tls",
                                    "https://example.com/redis-fleet",
                                    "https://example.com/redis.tar"};
  s.discovery = DiscoverySpec{"redis://127.0.0.1:6379/0", "srv:", 20};
  hp.status.hosts = {HostStatus{"h1", "1234", "127.0.0.2", HostState::kReady, 3, 192, T(1)}};
  hp.status.ready_hosts = 1;
  hp.status.standby_hosts = 1;
  hp.status.monthly_cost = 12.5;
  hp.status.conditions = Conditions();
  hp.status.observed_generation = 3;
  return {hp};
}

std::vector<Object> FullRedisInstances() {
  RedisInstance ri;
  ri.metadata = Meta("cache");
  RedisInstanceSpec& s = ri.spec;
  s.host_pool = "pool";
  s.plan = "small";
  s.memory_mib = 128;
  s.max_clients = 50;
  s.persistence = Persistence::kRdb;
  s.ttl_seconds = 3600;
  s.requester = "127.0.0.1";
  s.password_secret_ref = {"cache-password", "pw"};
  RedisInstanceStatus& st = ri.status;
  st.phase = Phase::kReady;
  st.host = "h1";
  st.endpoint = {"127.0.0.2", 6380};
  st.url = "redis://127.0.0.2:6380";
  st.connection_secret = "cache-redis";
  st.plan = "small";
  st.memory_mib = 128;
  st.max_clients = 50;
  st.used_memory_bytes = 1'000'000;
  st.connected_clients = 4;
  st.expires_at = T(3600);
  st.conditions = Conditions();
  st.observed_generation = 3;

  RedisInstance heroku = ri;
  heroku.metadata.name = "heroku-cache";
  heroku.spec.host_pool.clear();
  heroku.spec.heroku = HerokuRef{"my-app", "redis-curly-1", "CACHE_URL", SecretKeyRef{"heroku", "apiKey"},
                                 "http://127.0.0.1:2"};
  heroku.spec.heroku->tls_insecure_skip_verify = true;
  return {ri, heroku};
}

std::vector<Object> FullScalingPolicies() {
  ScalingPolicy sp;
  sp.metadata = Meta("cache");
  ScalingPolicySpec& s = sp.spec;
  s.target_ref.name = "cache";
  s.mode = ScalingMode::kDryRun;
  s.interval_seconds = 5;
  s.targets = {70, 60};
  s.scale_up = {30};
  s.scale_down = {300, 10, 70};
  s.cooldown_seconds = 120;
  s.plans = {Plan{"small", 64, 100, 5.5}, Plan{"medium", 256, 500, 15}};
  s.min_plan = "small";
  s.max_plan = "medium";
  s.notifications = Notifications{{NotificationEvent::kThresholdBreach, NotificationEvent::kScaleSucceeded,
                                   NotificationEvent::kScaleFailed},
                                  EmailSpec{"smtp://127.0.0.1:25",
                                            false,
                                            "ops",
                                            SecretKeyRef{"smtp", "password"},
                                            "fleet@example.com",
                                            {"ops@example.com"}},
                                  WebhookSpec{"http://127.0.0.1:3/hook"}};
  sp.status.instances = {PolicyInstanceStatus{"cache", "small", "medium", 85.5, 10.25, T(7)}};
  sp.status.decisions = {
      Decision{T(7), "cache", "small", "medium", "ScaleUp", "memory above target", 85.5, 10.25}};
  sp.status.conditions = Conditions();
  sp.status.observed_generation = 3;

  ScalingPolicy by_labels = sp;
  by_labels.metadata.name = "by-labels";
  by_labels.spec.target_ref = TargetRef{"", {{"tier", "cache"}}};
  by_labels.spec.plans.clear();
  by_labels.spec.plan_catalog = PlanCatalog{"heroku-redis"};
  by_labels.spec.min_plan = "premium-0";
  by_labels.spec.max_plan = "premium-5";
  return {sp, by_labels};
}

// A document of `kind` named default/t; a null spec is left out.
json Doc(Kind kind, json spec) {
  json doc = {{"apiVersion", std::string(kApiVersion)},
              {"kind", std::string(EnumName(kind))},
              {"metadata", {{"name", "t"}, {"namespace", "default"}}}};
  if (!spec.is_null()) doc["spec"] = std::move(spec);
  return doc;
}

// A CEL rule of the CRD (by its message) and a document only that rule refuses at the API server.
struct CelRule {
  std::string path;  // of the schema node carrying the rule
  std::string message;
  json breaking;
};

struct KindCase {
  Kind kind;
  std::string short_name;
  std::vector<std::pair<std::string, std::string>> columns;  // name, jsonPath
  std::vector<Object> full;
  // Valid documents that leave defaulted fields out; between them every optional block occurs.
  std::vector<json> sparse;
  std::vector<CelRule> rules;
};

const json kStaticHost = {{"name", "h1"}, {"dockerEndpoint", "tcp://127.0.0.1:1"}};

// A valid ScalingPolicy with plans small < medium, with `changes` merged into its spec.
json SpDoc(const json& changes) {
  json spec = {{"targetRef", {{"name", "t"}}},
               {"plans",
                {{{"name", "small"}, {"memoryMiB", 64}, {"maxClients", 100}, {"monthlyCost", 5}},
                 {{"name", "medium"}, {"memoryMiB", 256}, {"maxClients", 500}, {"monthlyCost", 15}}}}};
  spec.merge_patch(changes);
  return Doc(Kind::kScalingPolicy, spec);
}

std::vector<KindCase> Cases() {
  return {
      {Kind::kHostPool,
       "hp",
       {{"Provider", ".spec.provider"},
        {"Ready", ".status.readyHosts"},
        {"Standby", ".status.standbyHosts"},
        {"Cost", ".status.monthlyCost"},
        {"Age", ".metadata.creationTimestamp"}},
       FullHostPools(),
       {Doc(Kind::kHostPool, nullptr),
        Doc(Kind::kHostPool,
            {{"provider", "digitalocean"},
             {"runtime", "docker"},
             {"docker", {{"tls", json::object()}, {"basicAuthSecretRef", {{"name", "a"}}}}},
             {"static", {{"hosts", {{{"name", "h1"}, {"dockerEndpoint", "tcp://127.0.0.1:1"}}}}}},
             {"digitalocean", {{"tokenSecretRef", {{"name", "do"}}}}},
             {"discovery", {{"redisURL", "redis://127.0.0.1:6379"}}}})},
       {{"spec", "minHosts must not be above maxHosts",
         Doc(Kind::kHostPool, {{"minHosts", 5}, {"maxHosts", 2}})},
        {"spec", "runtime must be docker unless provider is local",
         Doc(Kind::kHostPool, {{"provider", "static"}, {"static", {{"hosts", {kStaticHost}}}}})},
        {"spec", "static.hosts must list at least one host when provider is static",
         Doc(Kind::kHostPool,
             {{"provider", "static"}, {"runtime", "docker"}, {"static", {{"hosts", json::array()}}}})},
        {"spec", "digitalocean.tokenSecretRef.name is required when provider is digitalocean",
         Doc(Kind::kHostPool, {{"provider", "digitalocean"},
                               {"runtime", "docker"},
                               {"digitalocean", {{"tokenSecretRef", {{"key", "token"}}}}}})}}},
      {Kind::kRedisInstance,
       "ri",
       {{"Phase", ".status.phase"},
        {"Plan", ".status.plan"},
        {"Host", ".status.host"},
        {"Endpoint", ".status.url"},
        {"Age", ".metadata.creationTimestamp"}},
       FullRedisInstances(),
       {Doc(Kind::kRedisInstance, {{"hostPool", "local"}, {"passwordSecretRef", {{"name", "pw"}}}}),
        Doc(Kind::kRedisInstance,
            {{"heroku", {{"app", "a"}, {"addon", "b"}, {"apiKeySecretRef", {{"name", "heroku"}}}}}})},
       {{"spec", "must set exactly one of hostPool or heroku", Doc(Kind::kRedisInstance, json::object())},
        {"spec", "must set exactly one of hostPool or heroku",
         Doc(Kind::kRedisInstance,
             {{"hostPool", "local"},
              {"heroku", {{"app", "a"}, {"addon", "b"}, {"apiKeySecretRef", {{"name", "heroku"}}}}}})}}},
      {Kind::kScalingPolicy,
       "sp",
       {{"Target", ".spec.targetRef.name"},
        {"Mode", ".spec.mode"},
        {"Last decision", ".status.decisions[-1:].action"},
        {"Decided", ".status.decisions[-1:].time"},
        {"Age", ".metadata.creationTimestamp"}},
       FullScalingPolicies(),
       {Doc(Kind::kScalingPolicy, {{"targetRef", {{"name", "t"}}},
                                   {"plans", {{{"name", "s"}, {"memoryMiB", 1}, {"maxClients", 1}}}}}),
        Doc(Kind::kScalingPolicy,
            {{"targetRef", {{"selector", {{"matchLabels", {{"a", "b"}}}}}}},
             {"planCatalog", {{"herokuAddonService", "heroku-redis"}}},
             {"notifications",
              {{"email", {{"smtpURL", "smtp://127.0.0.1:25"}, {"to", {"a@example.com"}}}},
               {"webhook", {{"url", "http://127.0.0.1/"}}}}}})},
       {{"spec.targetRef", "must set exactly one of name or selector.matchLabels",
         SpDoc({{"targetRef", {{"name", nullptr}}}})},
        {"spec", "must set exactly one of plans or planCatalog", SpDoc({{"plans", nullptr}})},
        {"spec", "minPlan must name a plan of spec.plans", SpDoc({{"minPlan", "nope"}})},
        {"spec", "maxPlan must name a plan of spec.plans", SpDoc({{"maxPlan", "nope"}})},
        {"spec", "minPlan must not be above maxPlan (plans are ordered by memoryMiB, then monthlyCost)",
         SpDoc({{"minPlan", "medium"}, {"maxPlan", "small"}})}}},
  };
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers.

std::vector<Problem> Decode(const json& doc) { return DecodeJson(doc, "drift").problems; }

std::string Dump(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n    " + p.ToString();
  return out;
}

bool IsTypeProblem(const Problem& p) {
  for (std::string_view prefix :
       {"unknown field", "must be a string", "must be an integer", "must be a number",
        "must be a finite number", "must be a boolean", "must be an object", "must be a list",
        "must be an RFC 3339", "must be one of"})
    if (StartsWith(p.message, prefix)) return true;
  return false;
}

// A value the schema node accepts.
json Sample(const json& node) {
  if (node.contains("enum")) return node["enum"][0];
  if (node.contains("default")) return node["default"];
  const std::string type = node.value("type", "");
  if (type == "integer") return node.value("minimum", json(1)).get<int64_t>() + 1;
  if (type == "number") return 1.5;
  if (type == "boolean") return true;
  if (type == "array") return json::array({Sample(node["items"])});
  if (type == "object") {
    if (node.contains("additionalProperties")) return {{"k", Sample(node["additionalProperties"])}};
    return json::object();
  }
  if (node.value("format", "") == "date-time") return "2026-01-02T03:04:05Z";
  static const std::map<std::string, std::string> kByPattern = {{"^rediss?://", "redis://127.0.0.1:6379"},
                                                                {"^smtps?://", "smtp://127.0.0.1:25"},
                                                                {"^https?://", "http://127.0.0.1/"}};
  if (node.contains("pattern")) {
    auto it = kByPattern.find(node["pattern"].get<std::string>());
    if (it != kByPattern.end()) return it->second;
  }
  return "x";
}

// The first fully populated document of the case holding `p`'s parent, else its first sparse one.
json DocFor(const KindCase& c, const Path& p) {
  const Path parent(p.begin(), p.end() - 1);
  for (const auto& o : c.full) {
    json doc = ToJson(o);
    if (Get(doc, parent) != nullptr) return doc;
  }
  return c.sparse.front();
}

std::vector<Problem> At(const std::vector<Problem>& problems, const std::string& field) {
  std::vector<Problem> out;
  for (const auto& p : problems)
    if (p.field == field) out.push_back(p);
  return out;
}

class CrdDrift : public ::testing::TestWithParam<KindCase> {
 protected:
  void SetUp() override {
    crd_ = LoadCrd(GetParam().kind);
    ASSERT_FALSE(crd_.is_null());
    schema_ = SchemaOf(crd_);
    ASSERT_TRUE(schema_.is_object()) << "no spec.versions[0].schema.openAPIV3Schema";
  }
  // The spec and status nodes: where the codec's rules live.
  void ForEachField(const std::function<void(const Path&, const json&)>& fn) {
    for (std::string top : {"spec", "status"})
      if (const json* n = Resolve(schema_, {{top}})) WalkSchema(*n, {{top}}, fn);
  }
  json crd_;
  json schema_;
};

// ---------------------------------------------------------------------------------------------

TEST_P(CrdDrift, FileHasTheExpectedStructure) {
  const KindCase& c = GetParam();
  const std::string plural(KindPlural(c.kind));
  const std::string kind(EnumName(c.kind));
  EXPECT_EQ(crd_.value("apiVersion", ""), "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd_.value("kind", ""), "CustomResourceDefinition");
  EXPECT_EQ(crd_["metadata"].value("name", ""), plural + "." + std::string(kGroup));
  const json& spec = crd_["spec"];
  EXPECT_EQ(spec.value("group", ""), kGroup);
  EXPECT_EQ(spec.value("scope", ""), "Namespaced");
  const json& names = spec["names"];
  EXPECT_EQ(names.value("kind", ""), kind);
  EXPECT_EQ(names.value("listKind", ""), kind + "List");
  EXPECT_EQ(names.value("plural", ""), plural);
  EXPECT_EQ(names.value("singular", ""),
            plural == "scalingpolicies" ? "scalingpolicy" : plural.substr(0, plural.size() - 1));
  EXPECT_EQ(names.value("shortNames", json()), json::array({c.short_name}));
  EXPECT_EQ(names.value("categories", json()), json::array({"redisfleet"}));
  // The names the CLI accepts resolve to this kind.
  for (const auto& n : {names.value("plural", ""), names.value("singular", ""), c.short_name, kind})
    EXPECT_EQ(ParseKindName(n), c.kind) << n;

  ASSERT_TRUE(spec["versions"].is_array());
  ASSERT_EQ(spec["versions"].size(), 1u);
  const json& v = spec["versions"][0];
  EXPECT_EQ(v.value("name", ""), kVersion);
  EXPECT_EQ(v.value("served", false), true);
  EXPECT_EQ(v.value("storage", false), true);
  EXPECT_EQ(v.value("subresources", json()), json({{"status", json::object()}}));

  EXPECT_EQ(schema_.value("type", ""), "object");
  for (const char* top : {"apiVersion", "kind", "metadata", "spec", "status"})
    EXPECT_NE(Resolve(schema_, {{top}}), nullptr) << "openAPIV3Schema lacks " << top;

  // Structural schema: every node has a type; nothing is free-form.
  WalkSchema(schema_, {}, [&](const Path& p, const json& n) {
    const std::string where = Norm(p).empty() ? "(root)" : Norm(p);
    EXPECT_TRUE(n.contains("type")) << where << ": every schema node needs a type (structural schema)";
    EXPECT_FALSE(n.contains("x-kubernetes-preserve-unknown-fields"))
        << where << ": nothing here is free-form";
    EXPECT_FALSE(n.contains("properties") && n.contains("additionalProperties")) << where;
    if (n.contains("x-kubernetes-validations"))
      for (const auto& rule : n["x-kubernetes-validations"]) {
        EXPECT_FALSE(rule.value("rule", "").empty()) << where << ": empty CEL rule";
        EXPECT_FALSE(rule.value("message", "").empty()) << where << ": CEL rule without a message";
      }
    if (n.contains("x-kubernetes-list-map-keys"))
      for (const auto& k : n["x-kubernetes-list-map-keys"]) {
        const json req = n["items"].value("required", json::array());
        EXPECT_NE(std::find(req.begin(), req.end(), k), req.end())
            << where << ": list map key " << k << " must be required";
      }
    if (n.contains("default")) {
      std::vector<std::string> errors;
      SchemaCheck(n, n["default"], p, errors);
      for (const auto& e : errors) ADD_FAILURE() << "default of " << where << ": " << e;
    }
  });
}

TEST_P(CrdDrift, PrinterColumnsPointIntoTheSchema) {
  const KindCase& c = GetParam();
  const json& cols = crd_["spec"]["versions"][0].value("additionalPrinterColumns", json::array());
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& col : cols) {
    got.emplace_back(col.value("name", ""), col.value("jsonPath", ""));
    const std::string json_path = col.value("jsonPath", "");
    SCOPED_TRACE(json_path);
    ASSERT_TRUE(StartsWith(json_path, "."));
    if (json_path == ".metadata.creationTimestamp") {
      EXPECT_EQ(col.value("type", ""), "date");
      continue;
    }
    Path p;
    std::string rest = json_path.substr(1);
    static const std::regex kSeg(R"(^([A-Za-z0-9]+)(\[[^\]]*\])?\.?)");
    std::smatch m;
    while (!rest.empty() && std::regex_search(rest, m, kSeg)) {
      p.push_back({m[1].str(), false});
      if (m[2].matched) p.push_back({"", true});
      rest = m.suffix().str();
    }
    ASSERT_TRUE(rest.empty()) << "cannot read the JSONPath";
    const json* node = Resolve(schema_, p);
    ASSERT_NE(node, nullptr) << "printer column " << col.value("name", "") << ": " << Norm(p)
                             << " is not in the schema";
    const std::string type = col.value("type", "");
    const std::string node_type = node->value("type", "");
    const bool ok = type == node_type || (type == "date" && node->value("format", "") == "date-time") ||
                    (type == "number" && node_type == "integer");
    EXPECT_TRUE(ok) << "column type " << type << " but " << Norm(p) << " is " << node_type;
  }
  EXPECT_EQ(got, c.columns);
}

// Every path ToJson emits for a fully populated object is in the schema with its type, and the
// object passes the schema (the API server would neither prune nor refuse what the operator writes).
TEST_P(CrdDrift, EncodedObjectsMatchTheSchema) {
  for (const Object& o : GetParam().full) {
    ASSERT_TRUE(Validate(o).empty()) << Dump(Validate(o));
    const json doc = ToJson(o);
    SCOPED_TRACE(MetaOf(o).name);
    WalkValue(doc, {}, [&](const Path& p, const json& v) {
      if (p.empty() || p.front().key == "metadata") return;
      const json* node = Resolve(schema_, p);
      if (node == nullptr) {
        ADD_FAILURE() << Norm(p) << ": emitted by api::ToJson but not in the CRD schema";
        return;
      }
      EXPECT_TRUE(TypeMatches(node->value("type", ""), v))
          << Norm(p) << ": schema type " << node->value("type", "") << " but ToJson emits " << v.dump();
    });
    std::vector<std::string> errors;
    SchemaCheck(schema_, doc, {}, errors);
    for (const auto& e : errors) ADD_FAILURE() << e;
    // And the whole object round-trips through the codec.
    const ParsedDocument back = DecodeJson(doc);
    EXPECT_TRUE(back.problems.empty()) << Dump(back.problems);
  }
}

// Every property of the schema is a field the codec reads, with the same type.
TEST_P(CrdDrift, EverySchemaPropertyIsAcceptedByTheCodec) {
  const KindCase& c = GetParam();
  ForEachField([&](const Path& p, const json& node) {
    json doc = c.sparse.front();
    Set(doc, p, Sample(node));
    for (const auto& problem : Decode(doc))
      if (IsTypeProblem(problem))
        ADD_FAILURE() << Norm(p) << ": in the CRD schema but the codec refuses " << Sample(node).dump()
                      << ": " << problem.ToString();
  });
  for (const json& doc : c.sparse) {
    std::vector<std::string> errors;
    SchemaCheck(schema_, doc, {}, errors);
    for (const auto& e : errors) ADD_FAILURE() << "sparse " << doc.value("spec", json()).dump() << ": " << e;
    EXPECT_TRUE(Decode(doc).empty()) << Dump(Decode(doc));
  }
}

template <typename E>
json EnumJson() {
  json out = json::array();
  for (const auto& [v, name] : EnumTable<E>::kValues) out.push_back(std::string(name));
  return out;
}

// Schema enums are exactly the codec's accepted values, in EnumTable order; strings without an
// enum accept anything as far as the codec's enums go.
TEST_P(CrdDrift, EnumsEqualTheCodecs) {
  const KindCase& c = GetParam();
  const std::map<std::string, json> tables = {
      {"spec.provider", EnumJson<HostProviderType>()},
      {"spec.runtime", EnumJson<RuntimeType>()},
      {"spec.placement", EnumJson<PlacementStrategy>()},
      {"spec.docker.networkMode", EnumJson<NetworkMode>()},
      {"status.hosts[].state", EnumJson<HostState>()},
      {"spec.persistence", EnumJson<Persistence>()},
      {"status.phase", EnumJson<Phase>()},
      {"spec.mode", EnumJson<ScalingMode>()},
      {"spec.notifications.on[]", EnumJson<NotificationEvent>()},
  };
  ForEachField([&](const Path& p, const json& node) {
    if (node.value("type", "") != "string") return;
    json doc = DocFor(c, p);
    Set(doc, p, "NotAValue");
    std::string accepted;
    for (const auto& problem : At(Decode(doc), Str(p))) {
      static const std::regex kOneOf(R"(^must be one of (\S+) \(got NotAValue\)$)");
      std::smatch m;
      if (std::regex_match(problem.message, m, kOneOf)) accepted = m[1].str();
    }
    if (!node.contains("enum")) {
      EXPECT_EQ(accepted, "") << Norm(p) << ": the codec accepts only " << accepted
                              << " but the schema has no enum";
      return;
    }
    json codec = json::array();
    std::stringstream ss(accepted);
    for (std::string item; std::getline(ss, item, '|');) codec.push_back(item);
    EXPECT_EQ(node["enum"], codec) << Norm(p) << ": schema enum vs the codec's accepted values";
    auto it = tables.find(Norm(p));
    if (it == tables.end()) {
      ADD_FAILURE() << Norm(p) << ": enum with no EnumTable in this test's map";
    } else {
      EXPECT_EQ(node["enum"], it->second) << Norm(p) << ": schema enum vs EnumTable";
    }
  });
}

// minimum/maximum are the codec's bounds: one past a bound is refused at that field, the bound is
// accepted; an integer without a minimum takes a large negative value.
TEST_P(CrdDrift, BoundsEqualTheCodecs) {
  const KindCase& c = GetParam();
  ForEachField([&](const Path& p, const json& node) {
    const std::string type = node.value("type", "");
    if (type != "integer" && type != "number") return;
    const std::string field = Str(p);
    auto problems_with = [&](json value) {
      json doc = DocFor(c, p);
      Set(doc, p, std::move(value));
      return At(Decode(doc), field);
    };
    for (const char* bound : {"minimum", "maximum"}) {
      if (!node.contains(bound)) continue;
      const int64_t b = node[bound].get<int64_t>();
      const int64_t outside = std::string(bound) == "minimum" ? b - 1 : b + 1;
      EXPECT_FALSE(problems_with(outside).empty())
          << Norm(p) << ": the schema's " << bound << " is " << b << " but the codec accepts " << outside;
      EXPECT_TRUE(problems_with(b).empty()) << Norm(p) << ": the schema's " << bound << " is " << b
                                            << " but the codec refuses it:" << Dump(problems_with(b));
    }
    if (!node.contains("minimum")) {
      EXPECT_TRUE(problems_with(-1'000'000).empty())
          << Norm(p) << ": the codec has a lower bound the schema lacks:" << Dump(problems_with(-1'000'000));
    }
  });
}

// What the schema requires (or restricts by pattern/minLength/minItems) the codec refuses too, so
// the schema is never stricter than src/api; in status, required fields are always emitted.
TEST_P(CrdDrift, RequiredAndPatternsAreTheCodecs) {
  const KindCase& c = GetParam();
  WalkSchema(schema_, {}, [&](const Path& parent, const json& node) {
    if (parent.empty() && node.contains("required")) {
      for (const auto& r : node["required"]) {
        json doc = c.sparse.front();
        doc.erase(r.get<std::string>());
        EXPECT_FALSE(Decode(doc).empty())
            << r << ": required by the schema but the codec accepts its absence";
      }
      return;
    }
    if (parent.empty() || !node.contains("required")) return;
    for (const auto& r : node["required"]) {
      const Path p = Child(parent, r.get<std::string>());
      if (parent.front().key == "status") {
        for (const auto& o : c.full) {
          const json doc = ToJson(o);
          if (Get(doc, parent) != nullptr) {
            EXPECT_NE(Get(doc, p), nullptr) << Norm(p) << ": required by the schema but ToJson may omit it";
          }
        }
        continue;
      }
      json doc = DocFor(c, p);
      ASSERT_NE(Get(doc, parent), nullptr) << Norm(parent) << ": no test object has it";
      Remove(doc, p);
      bool refused = false;
      for (const auto& problem : Decode(doc))
        refused = refused || problem.field == Str(p) || StartsWith(problem.field, Str(p) + ".") ||
                  problem.field == Str(parent);
      EXPECT_TRUE(refused) << Norm(p) << ": required by the schema but the codec accepts its absence";
    }
  });
  ForEachField([&](const Path& p, const json& node) {
    auto refused = [&](json value) {
      json doc = DocFor(c, p);
      Set(doc, p, std::move(value));
      return !At(Decode(doc), Str(p)).empty();
    };
    if (node.contains("pattern")) {
      EXPECT_TRUE(refused("%%NotAValue%%")) << Norm(p) << ": the schema has pattern " << node["pattern"]
                                            << " but the codec accepts %%NotAValue%%";
      EXPECT_FALSE(refused(Sample(node))) << Norm(p) << ": the codec refuses " << Sample(node);
    }
    if (node.value("minLength", 0) > 0) {
      EXPECT_TRUE(refused("")) << Norm(p) << ": minLength but the codec accepts \"\"";
    }
    if (node.value("minItems", 0) > 0) {
      EXPECT_TRUE(refused(json::array())) << Norm(p) << ": minItems but the codec accepts []";
    }
  });
}

// Schema defaults are the codec's: a document defaulted by the API server decodes to the same
// object as the bare document, every value the codec fills in is also a schema default (so
// kubectl shows what the operator assumes), and every schema default is exercised.
// Not expressible as a default: ApplyDefaults' docker block for runtime docker.
TEST_P(CrdDrift, DefaultsEqualTheCodecs) {
  const KindCase& c = GetParam();
  std::set<std::string> schema_defaults;
  ForEachField([&](const Path& p, const json& node) {
    if (node.contains("default")) schema_defaults.insert(Norm(p));
  });
  std::set<std::string> applied;
  for (const json& input : c.sparse) {
    SCOPED_TRACE(input.value("spec", json()).dump());
    json defaulted = input;
    K8sDefault(schema_, defaulted);
    WalkValue(defaulted, {}, [&](const Path& p, const json&) {
      if (!p.empty() && Get(input, p) == nullptr && schema_defaults.count(Norm(p))) applied.insert(Norm(p));
    });
    const ParsedDocument bare = DecodeJson(input);
    const ParsedDocument k8s = DecodeJson(defaulted);
    ASSERT_TRUE(bare.object && k8s.object) << Dump(bare.problems) << Dump(k8s.problems);
    EXPECT_EQ(ToJson(*bare.object), ToJson(*k8s.object)) << "schema defaults change the decoded object";
    const json encoded = ToJson(*bare.object);
    WalkValue(encoded["spec"], {{"spec"}}, [&](const Path& p, const json& v) {
      if (v.is_object() || v.is_array() || Get(input, p) != nullptr) return;
      const json* d = Get(defaulted, p);
      if (d == nullptr) {
        ADD_FAILURE() << Norm(p) << ": the codec fills in " << v.dump() << " but the schema has no default";
      } else {
        EXPECT_EQ(*d, v) << Norm(p) << ": schema default vs the codec's";
      }
    });
  }
  for (const auto& d : schema_defaults)
    EXPECT_TRUE(applied.count(d)) << d
                                  << ": schema default not exercised by any sparse document of this test";
}

// The CEL rules are the ones listed here; each mirrors a codec rule (the codec refuses the
// breaking document) that the rest of the schema cannot express (the document passes it).
// The expressions themselves are evaluated only by a real API server.
TEST_P(CrdDrift, CelRulesMirrorCodecRules) {
  const KindCase& c = GetParam();
  std::set<std::pair<std::string, std::string>> listed;
  for (const CelRule& r : c.rules) {
    SCOPED_TRACE(r.message);
    listed.emplace(r.path, r.message);
    Path p;
    std::stringstream ss(r.path);
    for (std::string key; std::getline(ss, key, '.');) p.push_back({key, false});
    const json* node = Resolve(schema_, p);
    ASSERT_NE(node, nullptr) << r.path;
    bool found = false;
    for (const auto& rule : node->value("x-kubernetes-validations", json::array()))
      found = found || rule.value("message", "") == r.message;
    EXPECT_TRUE(found) << r.path << ": no x-kubernetes-validations rule with this message";
    EXPECT_FALSE(Decode(r.breaking).empty()) << "the codec accepts " << r.breaking["spec"].dump();
    json defaulted = r.breaking;
    K8sDefault(schema_, defaulted);
    std::vector<std::string> errors;
    SchemaCheck(schema_, defaulted, {}, errors);
    for (const auto& e : errors)
      ADD_FAILURE() << "not only the CEL rule refuses " << r.breaking["spec"].dump() << ": " << e;
  }
  WalkSchema(schema_, {}, [&](const Path& p, const json& n) {
    for (const auto& rule : n.value("x-kubernetes-validations", json::array()))
      EXPECT_TRUE(listed.count({Norm(p), rule.value("message", "")}))
          << Norm(p) << ": CEL rule \"" << rule.value("message", "") << "\" is not covered by this test";
  });
}

void PrintTo(const KindCase& c, std::ostream* os) { *os << EnumName(c.kind); }

INSTANTIATE_TEST_SUITE_P(Kinds, CrdDrift, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<KindCase>& info) {
                           return std::string(EnumName(info.param.kind));
                         });

}  // namespace
}  // namespace redisfleet::api
