#include "api/codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "api/codec_internal.h"
#include "api/validation.h"
#include "common/redact.h"

namespace redisfleet::api {
namespace {

using json = nlohmann::json;
using internal::EncodeTime;
using internal::Got;
using internal::IndexPath;
using internal::JoinPath;

// Metadata fields the Kubernetes API server sets that the operator does not model.
constexpr std::string_view kServerMetadataFields[] = {
    "generateName", "selfLink", "ownerReferences", "managedFields", "deletionGracePeriodSeconds"};

// Collects decoding problems (kind/key/file/doc are filled in by the caller).
class Ctx {
 public:
  explicit Ctx(std::vector<Problem>* out) : out_(out) {}
  void Add(std::string field, std::string message) {
    out_->push_back(Problem{"", 0, "", "", std::move(field), std::move(message)});
  }
  std::size_t size() const { return out_->size(); }
  // True when a problem added at index `since` or later is about `field` itself.
  bool HasProblemAt(const std::string& field, std::size_t since) const {
    for (std::size_t i = since; i < out_->size(); ++i)
      if ((*out_)[i].field == field) return true;
    return false;
  }

 private:
  std::vector<Problem>* out_;
};

// The fields of one JSON object being decoded. Every name read through Take() is known;
// Finish() reports the rest as unknown, with a did-you-mean hint.
class Fields {
 public:
  Fields(Ctx& ctx, const json& j, std::string path) : ctx_(ctx), path_(std::move(path)) {
    if (j.is_object()) {
      obj_ = &j;
    } else {
      ctx_.Add(path_, "must be an object " + Got(j, path_));
    }
  }

  // The value of `name`, or nullptr when absent or null.
  const json* Take(std::string_view name) {
    known_.emplace_back(name);
    if (obj_ == nullptr) return nullptr;
    auto it = obj_->find(std::string(name));
    if (it == obj_->end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Ignore(std::string_view name) { known_.emplace_back(name); }
  std::string Path(std::string_view name) const { return JoinPath(path_, name); }

  template <typename T>
  void Field(std::string_view name, T& out) {
    if (const json* v = Take(name)) Read(ctx_, *v, Path(name), out);
  }

  void Finish() {
    if (obj_ == nullptr) return;
    for (auto it = obj_->begin(); it != obj_->end(); ++it) {
      if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
      ctx_.Add(JoinPath(path_, it.key()), "unknown field" + internal::DidYouMean(it.key(), known_));
    }
  }

 private:
  Ctx& ctx_;
  std::string path_;
  const json* obj_ = nullptr;
  std::vector<std::string> known_;
};

// ---------------------------------------------------------------------------------------------
// Scalars and containers.

void Read(Ctx& c, const json& j, const std::string& p, int64_t& out) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      c.Add(p, "out of range " + Got(j, p));
      return;
    }
    out = static_cast<int64_t>(j.get<uint64_t>());
    return;
  }
  if (j.is_number_integer()) {
    out = j.get<int64_t>();
    return;
  }
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e18) {
      out = static_cast<int64_t>(d);
      return;
    }
  }
  c.Add(p, "must be an integer " + Got(j, p));
}

void Read(Ctx& c, const json& j, const std::string& p, double& out) {
  if (j.is_number()) {
    const double d = j.get<double>();
    if (std::isfinite(d)) {
      out = d;
      return;
    }
    c.Add(p, "must be a finite number " + Got(j, p));
    return;
  }
  c.Add(p, "must be a number " + Got(j, p));
}

void Read(Ctx& c, const json& j, const std::string& p, bool& out) {
  if (j.is_boolean()) {
    out = j.get<bool>();
    return;
  }
  c.Add(p, "must be a boolean " + Got(j, p));
}

void Read(Ctx& c, const json& j, const std::string& p, std::string& out) {
  if (j.is_string()) {
    out = j.get<std::string>();
    return;
  }
  c.Add(p, "must be a string " + Got(j, p));
}

template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
void Read(Ctx& c, const json& j, const std::string& p, E& out) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (auto v = ParseEnum<E>(s)) {
      out = *v;
      return;
    }
    std::string got = RedactSecrets(s);
    if (got.size() > 80) got = got.substr(0, 77) + "...";
    c.Add(p, fmt::format("must be one of {} (got {})", EnumNames<E>(), got));
    return;
  }
  c.Add(p, fmt::format("must be one of {} {}", EnumNames<E>(), Got(j, p)));
}

void Read(Ctx& c, const json& j, const std::string& p, TimePoint& out) {
  if (j.is_string()) {
    if (auto t = internal::DecodeTime(j.get_ref<const std::string&>())) {
      out = *t;
      return;
    }
  }
  c.Add(p, "must be an RFC 3339 UTC time like 2026-01-02T03:04:05Z " + Got(j, p));
}

void Read(Ctx& c, const json& j, const std::string& p, std::map<std::string, std::string>& out) {
  if (!j.is_object()) {
    c.Add(p, "must be an object " + Got(j, p));
    return;
  }
  out.clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_string()) {
      out[it.key()] = it->get<std::string>();
    } else {
      const std::string path = JoinPath(p, it.key());
      c.Add(path, "must be a string " + Got(*it, path));
    }
  }
}

template <typename T>
void Read(Ctx& c, const json& j, const std::string& p, std::vector<T>& out) {
  if (!j.is_array()) {
    c.Add(p, "must be a list " + Got(j, p));
    return;
  }
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    T item{};
    Read(c, j[i], IndexPath(p, i), item);
    out.push_back(std::move(item));
  }
}

// Left unset when the value itself has the wrong type, so that rules about its presence do
// not add consequential problems.
template <typename T>
void Read(Ctx& c, const json& j, const std::string& p, std::optional<T>& out) {
  T value{};
  const std::size_t before = c.size();
  Read(c, j, p, value);
  if (!c.HasProblemAt(p, before)) out = std::move(value);
}

// ---------------------------------------------------------------------------------------------
// Structs shared by the kinds.

void Read(Ctx& c, const json& j, const std::string& p, ObjectMeta& m) {
  Fields f(c, j, p);
  f.Field("name", m.name);
  f.Field("namespace", m.namespace_);
  f.Field("uid", m.uid);
  f.Field("generation", m.generation);
  f.Field("resourceVersion", m.resource_version);
  f.Field("labels", m.labels);
  f.Field("annotations", m.annotations);
  f.Field("finalizers", m.finalizers);
  f.Field("creationTimestamp", m.creation_timestamp);
  f.Field("deletionTimestamp", m.deletion_timestamp);
  for (std::string_view name : kServerMetadataFields) f.Ignore(name);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, SecretKeyRef& r) {
  Fields f(c, j, p);
  f.Field("name", r.name);
  f.Field("key", r.key);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Condition& cond) {
  Fields f(c, j, p);
  f.Field("type", cond.type);
  f.Field("status", cond.status);
  f.Field("reason", cond.reason);
  f.Field("message", cond.message);
  f.Field("lastTransitionTime", cond.last_transition_time);
  f.Field("observedGeneration", cond.observed_generation);
  f.Finish();
}

// ---------------------------------------------------------------------------------------------
// HostPool.

void Read(Ctx& c, const json& j, const std::string& p, Capacity& s) {
  Fields f(c, j, p);
  f.Field("maxInstancesPerHost", s.max_instances_per_host);
  f.Field("memoryMiBPerHost", s.memory_mib_per_host);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Quota& s) {
  Fields f(c, j, p);
  f.Field("maxInstancesPerRequester", s.max_instances_per_requester);
  f.Field("defaultTTLSeconds", s.default_ttl_seconds);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, TlsFiles& s) {
  Fields f(c, j, p);
  f.Field("caFile", s.ca_file);
  f.Field("certFile", s.cert_file);
  f.Field("keyFile", s.key_file);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, DockerSpec& s) {
  Fields f(c, j, p);
  f.Field("endpoint", s.endpoint);
  f.Field("tls", s.tls);
  f.Field("basicAuthSecretRef", s.basic_auth_secret_ref);
  f.Field("networkMode", s.network_mode);
  f.Field("bindAddress", s.bind_address);
  f.Field("image", s.image);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, StaticHost& s) {
  Fields f(c, j, p);
  f.Field("name", s.name);
  f.Field("dockerEndpoint", s.docker_endpoint);
  f.Field("address", s.address);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, StaticSpec& s) {
  Fields f(c, j, p);
  f.Field("hosts", s.hosts);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, DigitalOceanSpec& s) {
  Fields f(c, j, p);
  f.Field("tokenSecretRef", s.token_secret_ref);
  f.Field("apiURL", s.api_url);
  f.Field("region", s.region);
  f.Field("size", s.size);
  f.Field("image", s.image);
  f.Field("sshKeys", s.ssh_keys);
  f.Field("tags", s.tags);
  f.Field("vpcUUID", s.vpc_uuid);
  f.Field("dockerPort", s.docker_port);
  f.Field("readyTimeoutSeconds", s.ready_timeout_seconds);
  f.Field("hostTLSSecretName", s.host_tls_secret_name);
  f.Field("agentURL", s.agent_url);
  f.Field("imageURL", s.image_url);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, DiscoverySpec& s) {
  Fields f(c, j, p);
  f.Field("redisURL", s.redis_url);
  f.Field("keyPrefix", s.key_prefix);
  f.Field("ttlSeconds", s.ttl_seconds);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, HostPoolSpec& s) {
  Fields f(c, j, p);
  f.Field("provider", s.provider);
  f.Field("runtime", s.runtime);
  f.Field("capacity", s.capacity);
  f.Field("placement", s.placement);
  f.Field("minHosts", s.min_hosts);
  f.Field("maxHosts", s.max_hosts);
  f.Field("standbyHosts", s.standby_hosts);
  f.Field("scaleInDelaySeconds", s.scale_in_delay_seconds);
  f.Field("quota", s.quota);
  f.Field("docker", s.docker);
  f.Field("static", s.static_hosts);
  f.Field("digitalocean", s.digitalocean);
  f.Field("discovery", s.discovery);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, HostStatus& s) {
  Fields f(c, j, p);
  f.Field("name", s.name);
  f.Field("providerID", s.provider_id);
  f.Field("address", s.address);
  f.Field("state", s.state);
  f.Field("instances", s.instances);
  f.Field("memoryMiBUsed", s.memory_mib_used);
  f.Field("since", s.since);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, HostPoolStatus& s) {
  Fields f(c, j, p);
  f.Field("hosts", s.hosts);
  f.Field("readyHosts", s.ready_hosts);
  f.Field("standbyHosts", s.standby_hosts);
  f.Field("monthlyCost", s.monthly_cost);
  f.Field("conditions", s.conditions);
  f.Field("observedGeneration", s.observed_generation);
  f.Finish();
}

// ---------------------------------------------------------------------------------------------
// RedisInstance.

void Read(Ctx& c, const json& j, const std::string& p, HerokuRef& s) {
  Fields f(c, j, p);
  f.Field("app", s.app);
  f.Field("addon", s.addon);
  f.Field("configVar", s.config_var);
  f.Field("apiKeySecretRef", s.api_key_secret_ref);
  f.Field("apiURL", s.api_url);
  f.Field("tlsInsecureSkipVerify", s.tls_insecure_skip_verify);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, RedisInstanceSpec& s) {
  Fields f(c, j, p);
  f.Field("hostPool", s.host_pool);
  f.Field("heroku", s.heroku);
  f.Field("plan", s.plan);
  f.Field("memoryMiB", s.memory_mib);
  f.Field("maxClients", s.max_clients);
  f.Field("persistence", s.persistence);
  f.Field("ttlSeconds", s.ttl_seconds);
  f.Field("requester", s.requester);
  f.Field("passwordSecretRef", s.password_secret_ref);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Endpoint& s) {
  Fields f(c, j, p);
  f.Field("host", s.host);
  f.Field("port", s.port);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, RedisInstanceStatus& s) {
  Fields f(c, j, p);
  f.Field("phase", s.phase);
  f.Field("host", s.host);
  f.Field("endpoint", s.endpoint);
  f.Field("url", s.url);
  f.Field("connectionSecret", s.connection_secret);
  f.Field("plan", s.plan);
  f.Field("memoryMiB", s.memory_mib);
  f.Field("maxClients", s.max_clients);
  f.Field("usedMemoryBytes", s.used_memory_bytes);
  f.Field("connectedClients", s.connected_clients);
  f.Field("expiresAt", s.expires_at);
  f.Field("conditions", s.conditions);
  f.Field("observedGeneration", s.observed_generation);
  f.Finish();
}

// ---------------------------------------------------------------------------------------------
// ScalingPolicy.

void Read(Ctx& c, const json& j, const std::string& p, TargetRef& s) {
  Fields f(c, j, p);
  f.Field("name", s.name);
  if (const json* selector = f.Take("selector")) {
    Fields sel(c, *selector, f.Path("selector"));
    sel.Field("matchLabels", s.match_labels);
    sel.Finish();
  }
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Targets& s) {
  Fields f(c, j, p);
  f.Field("memoryPercent", s.memory_percent);
  f.Field("connectionsPercent", s.connections_percent);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, ScaleUp& s) {
  Fields f(c, j, p);
  f.Field("sustainSeconds", s.sustain_seconds);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, ScaleDown& s) {
  Fields f(c, j, p);
  f.Field("sustainSeconds", s.sustain_seconds);
  f.Field("bufferPercent", s.buffer_percent);
  f.Field("lowerPlanMaxPercent", s.lower_plan_max_percent);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Plan& s) {
  Fields f(c, j, p);
  f.Field("name", s.name);
  f.Field("memoryMiB", s.memory_mib);
  f.Field("maxClients", s.max_clients);
  f.Field("monthlyCost", s.monthly_cost);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, PlanCatalog& s) {
  Fields f(c, j, p);
  f.Field("herokuAddonService", s.heroku_addon_service);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, EmailSpec& s) {
  Fields f(c, j, p);
  f.Field("smtpURL", s.smtp_url);
  f.Field("starttls", s.starttls);
  f.Field("username", s.username);
  f.Field("passwordSecretRef", s.password_secret_ref);
  f.Field("from", s.from);
  f.Field("to", s.to);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, WebhookSpec& s) {
  Fields f(c, j, p);
  f.Field("url", s.url);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Notifications& s) {
  Fields f(c, j, p);
  f.Field("on", s.on);
  f.Field("email", s.email);
  f.Field("webhook", s.webhook);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, ScalingPolicySpec& s) {
  Fields f(c, j, p);
  f.Field("targetRef", s.target_ref);
  f.Field("mode", s.mode);
  f.Field("intervalSeconds", s.interval_seconds);
  f.Field("targets", s.targets);
  f.Field("scaleUp", s.scale_up);
  f.Field("scaleDown", s.scale_down);
  f.Field("cooldownSeconds", s.cooldown_seconds);
  f.Field("plans", s.plans);
  f.Field("planCatalog", s.plan_catalog);
  f.Field("minPlan", s.min_plan);
  f.Field("maxPlan", s.max_plan);
  f.Field("notifications", s.notifications);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, PolicyInstanceStatus& s) {
  Fields f(c, j, p);
  f.Field("name", s.name);
  f.Field("currentPlan", s.current_plan);
  f.Field("recommendedPlan", s.recommended_plan);
  f.Field("memoryPercent", s.memory_percent);
  f.Field("connectionsPercent", s.connections_percent);
  f.Field("lastScaleTime", s.last_scale_time);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, Decision& s) {
  Fields f(c, j, p);
  f.Field("time", s.time);
  f.Field("instance", s.instance);
  f.Field("from", s.from);
  f.Field("to", s.to);
  f.Field("action", s.action);
  f.Field("reason", s.reason);
  f.Field("memoryPercent", s.memory_percent);
  f.Field("connectionsPercent", s.connections_percent);
  f.Finish();
}

void Read(Ctx& c, const json& j, const std::string& p, ScalingPolicyStatus& s) {
  Fields f(c, j, p);
  f.Field("instances", s.instances);
  f.Field("decisions", s.decisions);
  f.Field("conditions", s.conditions);
  f.Field("observedGeneration", s.observed_generation);
  f.Finish();
}

// ---------------------------------------------------------------------------------------------
// Encoding. Spec: every field except empty strings/collections whose default is empty.
// Status: only non-zero values. Both are lossless because absent fields decode to defaults.

void PutStr(json& j, const char* key, const std::string& v, const std::string& dflt = "") {
  if (!v.empty() || !dflt.empty()) j[key] = v;
}
void PutNonZero(json& j, const char* key, int64_t v) {
  if (v != 0) j[key] = v;
}
void PutNonZero(json& j, const char* key, double v) {
  if (v != 0) j[key] = v;
}
template <typename T>
void PutList(json& j, const char* key, const std::vector<T>& v);
void PutMap(json& j, const char* key, const std::map<std::string, std::string>& v) {
  if (!v.empty()) j[key] = v;
}

json Enc(const std::string& s) { return s; }
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
json Enc(E e) {
  return std::string(EnumName(e));
}

json Enc(const Condition& c);
json Enc(const HostStatus& h);
json Enc(const Plan& p);
json Enc(const PolicyInstanceStatus& s);
json Enc(const Decision& d);

template <typename T>
void PutList(json& j, const char* key, const std::vector<T>& v) {
  if (v.empty()) return;
  json list = json::array();
  for (const auto& item : v) list.push_back(Enc(item));
  j[key] = std::move(list);
}

json EncRef(const SecretKeyRef& r, const SecretKeyRef& dflt = {}) {
  json j = json::object();
  PutStr(j, "name", r.name, dflt.name);
  PutStr(j, "key", r.key, dflt.key);
  return j;
}
void PutRef(json& j, const char* key, const SecretKeyRef& r, const SecretKeyRef& dflt = {}) {
  json v = EncRef(r, dflt);
  if (!v.empty()) j[key] = std::move(v);
}

json EncMeta(const ObjectMeta& m) {
  json j = json::object();
  j["name"] = m.name;
  j["namespace"] = m.namespace_;
  PutStr(j, "uid", m.uid);
  PutNonZero(j, "generation", m.generation);
  PutStr(j, "resourceVersion", m.resource_version);
  PutMap(j, "labels", m.labels);
  PutMap(j, "annotations", m.annotations);
  PutList(j, "finalizers", m.finalizers);
  if (m.creation_timestamp) j["creationTimestamp"] = EncodeTime(*m.creation_timestamp);
  if (m.deletion_timestamp) j["deletionTimestamp"] = EncodeTime(*m.deletion_timestamp);
  return j;
}

json Enc(const Condition& c) {
  json j = json::object();
  j["type"] = c.type;
  j["status"] = c.status;
  PutStr(j, "reason", c.reason);
  PutStr(j, "message", c.message);
  j["lastTransitionTime"] = EncodeTime(c.last_transition_time);
  PutNonZero(j, "observedGeneration", c.observed_generation);
  return j;
}

json Enc(const StaticHost& h) {
  json j = json::object();
  j["name"] = h.name;
  PutStr(j, "dockerEndpoint", h.docker_endpoint);
  PutStr(j, "address", h.address);
  return j;
}

json Enc(const DockerSpec& d) {
  const DockerSpec dflt;
  json j = json::object();
  PutStr(j, "endpoint", d.endpoint, dflt.endpoint);
  json tls = json::object();
  PutStr(tls, "caFile", d.tls.ca_file);
  PutStr(tls, "certFile", d.tls.cert_file);
  PutStr(tls, "keyFile", d.tls.key_file);
  if (!tls.empty()) j["tls"] = std::move(tls);
  if (d.basic_auth_secret_ref) j["basicAuthSecretRef"] = EncRef(*d.basic_auth_secret_ref);
  j["networkMode"] = Enc(d.network_mode);
  PutStr(j, "bindAddress", d.bind_address, dflt.bind_address);
  PutStr(j, "image", d.image, dflt.image);
  return j;
}

json Enc(const DigitalOceanSpec& d) {
  const DigitalOceanSpec dflt;
  json j = json::object();
  j["tokenSecretRef"] = EncRef(d.token_secret_ref);
  PutStr(j, "apiURL", d.api_url, dflt.api_url);
  PutStr(j, "region", d.region, dflt.region);
  PutStr(j, "size", d.size, dflt.size);
  PutStr(j, "image", d.image, dflt.image);
  PutList(j, "sshKeys", d.ssh_keys);
  PutList(j, "tags", d.tags);
  PutStr(j, "vpcUUID", d.vpc_uuid);
  if (d.docker_port != dflt.docker_port) j["dockerPort"] = d.docker_port;
  if (d.ready_timeout_seconds != dflt.ready_timeout_seconds) j["readyTimeoutSeconds"] = d.ready_timeout_seconds;
  PutStr(j, "hostTLSSecretName", d.host_tls_secret_name);
  PutStr(j, "agentURL", d.agent_url);
  PutStr(j, "imageURL", d.image_url);
  return j;
}

json Enc(const HostPoolSpec& s) {
  json j = json::object();
  j["provider"] = Enc(s.provider);
  j["runtime"] = Enc(s.runtime);
  j["capacity"] = {{"maxInstancesPerHost", s.capacity.max_instances_per_host},
                   {"memoryMiBPerHost", s.capacity.memory_mib_per_host}};
  j["placement"] = Enc(s.placement);
  j["minHosts"] = s.min_hosts;
  j["maxHosts"] = s.max_hosts;
  j["standbyHosts"] = s.standby_hosts;
  j["scaleInDelaySeconds"] = s.scale_in_delay_seconds;
  j["quota"] = {{"maxInstancesPerRequester", s.quota.max_instances_per_requester},
                {"defaultTTLSeconds", s.quota.default_ttl_seconds}};
  if (s.docker) j["docker"] = Enc(*s.docker);
  if (s.static_hosts) {
    json st = json::object();
    st["hosts"] = json::array();
    for (const auto& h : s.static_hosts->hosts) st["hosts"].push_back(Enc(h));
    j["static"] = std::move(st);
  }
  if (s.digitalocean) j["digitalocean"] = Enc(*s.digitalocean);
  if (s.discovery) {
    const DiscoverySpec dflt;
    json d = json::object();
    PutStr(d, "redisURL", s.discovery->redis_url);
    PutStr(d, "keyPrefix", s.discovery->key_prefix, dflt.key_prefix);
    d["ttlSeconds"] = s.discovery->ttl_seconds;
    j["discovery"] = std::move(d);
  }
  return j;
}

json Enc(const HostStatus& h) {
  json j = json::object();
  j["name"] = h.name;
  PutStr(j, "providerID", h.provider_id);
  PutStr(j, "address", h.address);
  j["state"] = Enc(h.state);
  PutNonZero(j, "instances", h.instances);
  PutNonZero(j, "memoryMiBUsed", h.memory_mib_used);
  j["since"] = EncodeTime(h.since);
  return j;
}

json Enc(const HostPoolStatus& s) {
  json j = json::object();
  PutList(j, "hosts", s.hosts);
  PutNonZero(j, "readyHosts", s.ready_hosts);
  PutNonZero(j, "standbyHosts", s.standby_hosts);
  PutNonZero(j, "monthlyCost", s.monthly_cost);
  PutList(j, "conditions", s.conditions);
  PutNonZero(j, "observedGeneration", s.observed_generation);
  return j;
}

json Enc(const RedisInstanceSpec& s) {
  const RedisInstanceSpec dflt;
  json j = json::object();
  PutStr(j, "hostPool", s.host_pool);
  if (s.heroku) {
    const HerokuRef hd;
    json h = json::object();
    PutStr(h, "app", s.heroku->app);
    PutStr(h, "addon", s.heroku->addon);
    PutStr(h, "configVar", s.heroku->config_var, hd.config_var);
    PutRef(h, "apiKeySecretRef", s.heroku->api_key_secret_ref);
    PutStr(h, "apiURL", s.heroku->api_url, hd.api_url);
    if (s.heroku->tls_insecure_skip_verify) h["tlsInsecureSkipVerify"] = true;
    j["heroku"] = std::move(h);
  }
  PutStr(j, "plan", s.plan);
  j["memoryMiB"] = s.memory_mib;
  j["maxClients"] = s.max_clients;
  j["persistence"] = Enc(s.persistence);
  j["ttlSeconds"] = s.ttl_seconds;
  PutStr(j, "requester", s.requester);
  PutRef(j, "passwordSecretRef", s.password_secret_ref, dflt.password_secret_ref);
  return j;
}

json Enc(const RedisInstanceStatus& s) {
  json j = json::object();
  j["phase"] = Enc(s.phase);
  PutStr(j, "host", s.host);
  if (s.endpoint != Endpoint{}) {
    json e = json::object();
    PutStr(e, "host", s.endpoint.host);
    PutNonZero(e, "port", s.endpoint.port);
    j["endpoint"] = std::move(e);
  }
  PutStr(j, "url", s.url);
  PutStr(j, "connectionSecret", s.connection_secret);
  PutStr(j, "plan", s.plan);
  PutNonZero(j, "memoryMiB", s.memory_mib);
  PutNonZero(j, "maxClients", s.max_clients);
  PutNonZero(j, "usedMemoryBytes", s.used_memory_bytes);
  PutNonZero(j, "connectedClients", s.connected_clients);
  if (s.expires_at) j["expiresAt"] = EncodeTime(*s.expires_at);
  PutList(j, "conditions", s.conditions);
  PutNonZero(j, "observedGeneration", s.observed_generation);
  return j;
}

json Enc(const Plan& p) {
  return {{"name", p.name},
          {"memoryMiB", p.memory_mib},
          {"maxClients", p.max_clients},
          {"monthlyCost", p.monthly_cost}};
}

json Enc(const Notifications& n) {
  json j = json::object();
  PutList(j, "on", n.on);
  if (n.email) {
    json e = json::object();
    PutStr(e, "smtpURL", n.email->smtp_url);
    e["starttls"] = n.email->starttls;
    PutStr(e, "username", n.email->username);
    if (n.email->password_secret_ref) e["passwordSecretRef"] = EncRef(*n.email->password_secret_ref);
    PutStr(e, "from", n.email->from);
    PutList(e, "to", n.email->to);
    j["email"] = std::move(e);
  }
  if (n.webhook) {
    json w = json::object();
    PutStr(w, "url", n.webhook->url);
    j["webhook"] = std::move(w);
  }
  return j;
}

json Enc(const ScalingPolicySpec& s) {
  json j = json::object();
  json target = json::object();
  PutStr(target, "name", s.target_ref.name);
  if (!s.target_ref.match_labels.empty())
    target["selector"] = {{"matchLabels", s.target_ref.match_labels}};
  j["targetRef"] = std::move(target);
  j["mode"] = Enc(s.mode);
  j["intervalSeconds"] = s.interval_seconds;
  j["targets"] = {{"memoryPercent", s.targets.memory_percent},
                  {"connectionsPercent", s.targets.connections_percent}};
  j["scaleUp"] = {{"sustainSeconds", s.scale_up.sustain_seconds}};
  j["scaleDown"] = {{"sustainSeconds", s.scale_down.sustain_seconds},
                    {"bufferPercent", s.scale_down.buffer_percent},
                    {"lowerPlanMaxPercent", s.scale_down.lower_plan_max_percent}};
  j["cooldownSeconds"] = s.cooldown_seconds;
  PutList(j, "plans", s.plans);
  if (s.plan_catalog) {
    json pc = json::object();
    PutStr(pc, "herokuAddonService", s.plan_catalog->heroku_addon_service);
    j["planCatalog"] = std::move(pc);
  }
  PutStr(j, "minPlan", s.min_plan);
  PutStr(j, "maxPlan", s.max_plan);
  if (s.notifications) j["notifications"] = Enc(*s.notifications);
  return j;
}

json Enc(const PolicyInstanceStatus& s) {
  json j = json::object();
  j["name"] = s.name;
  PutStr(j, "currentPlan", s.current_plan);
  PutStr(j, "recommendedPlan", s.recommended_plan);
  PutNonZero(j, "memoryPercent", s.memory_percent);
  PutNonZero(j, "connectionsPercent", s.connections_percent);
  if (s.last_scale_time) j["lastScaleTime"] = EncodeTime(*s.last_scale_time);
  return j;
}

json Enc(const Decision& d) {
  json j = json::object();
  j["time"] = EncodeTime(d.time);
  PutStr(j, "instance", d.instance);
  PutStr(j, "from", d.from);
  PutStr(j, "to", d.to);
  PutStr(j, "action", d.action);
  PutStr(j, "reason", d.reason);
  PutNonZero(j, "memoryPercent", d.memory_percent);
  PutNonZero(j, "connectionsPercent", d.connections_percent);
  return j;
}

json Enc(const ScalingPolicyStatus& s) {
  json j = json::object();
  PutList(j, "instances", s.instances);
  PutList(j, "decisions", s.decisions);
  PutList(j, "conditions", s.conditions);
  PutNonZero(j, "observedGeneration", s.observed_generation);
  return j;
}

std::string JoinProblems(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.ToString();
  }
  return out;
}

// True when `field` is `prefix` or lies under it.
bool IsUnder(std::string_view field, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (field.substr(0, prefix.size()) != prefix) return false;
  return field.size() == prefix.size() || field[prefix.size()] == '.' || field[prefix.size()] == '[';
}

template <typename T>
Object DecodeKind(Ctx& c, const ObjectMeta& meta, const json* spec, const json* status) {
  T obj;
  obj.metadata = meta;
  if (spec != nullptr) Read(c, *spec, "spec", obj.spec);
  if (status != nullptr) Read(c, *status, "status", obj.status);
  return obj;
}

ParsedDocument Decode(const json& j, std::string_view file, int doc) {
  ParsedDocument out;
  out.doc = doc;
  std::vector<Problem> problems;
  Ctx c(&problems);
  std::optional<Kind> kind;
  std::string key;
  std::optional<Object> object;

  if (!j.is_object()) {
    c.Add("", "document must be an object " + Got(j, ""));
  } else {
    Fields top(c, j, "");
    const json* api_version = top.Take("apiVersion");
    if (api_version == nullptr) {
      c.Add("apiVersion", fmt::format("required (must be {})", kApiVersion));
    } else if (!api_version->is_string() || api_version->get_ref<const std::string&>() != kApiVersion) {
      std::string got = api_version->is_string() ? RedactSecrets(api_version->get<std::string>())
                                                 : internal::SafeDump(*api_version);
      c.Add("apiVersion", fmt::format("must be {} (got {})", kApiVersion, got));
    }
    const json* kind_json = top.Take("kind");
    if (kind_json == nullptr) {
      c.Add("kind", fmt::format("required (one of {})", EnumNames<Kind>()));
    } else {
      Kind k{};
      const std::size_t before = problems.size();
      Read(c, *kind_json, "kind", k);
      if (problems.size() == before) kind = k;
    }
    ObjectMeta meta;
    top.Field("metadata", meta);
    if (!meta.name.empty()) key = (meta.namespace_.empty() ? std::string(kDefaultNamespace) : meta.namespace_) + "/" + meta.name;
    const json* spec = top.Take("spec");
    const json* status = top.Take("status");
    if (kind) {
      switch (*kind) {
        case Kind::kHostPool: object = DecodeKind<HostPool>(c, meta, spec, status); break;
        case Kind::kRedisInstance: object = DecodeKind<RedisInstance>(c, meta, spec, status); break;
        case Kind::kScalingPolicy: object = DecodeKind<ScalingPolicy>(c, meta, spec, status); break;
      }
    }
    top.Finish();
  }

  if (object) {
    ApplyDefaults(*object);
    const std::size_t decode_problems = problems.size();
    for (auto& p : Validate(*object)) {
      // A value that failed to decode is not validated again.
      bool covered = false;
      for (std::size_t i = 0; i < decode_problems && !covered; ++i) covered = IsUnder(p.field, problems[i].field);
      if (!covered) problems.push_back(std::move(p));
    }
  }
  for (auto& p : problems) {
    p.file = std::string(file);
    p.doc = doc;
    if (p.kind.empty() && kind) p.kind = std::string(EnumName(*kind));
    if (p.key.empty()) p.key = key;
  }
  out.problems = std::move(problems);
  if (out.problems.empty()) out.object = std::move(object);
  return out;
}

}  // namespace

std::string Problem::ToString() const {
  std::string out;
  auto append = [&out](std::string_view part) {
    if (part.empty()) return;
    if (!out.empty()) out += ": ";
    out += part;
  };
  append(file);
  if (doc > 0) append(fmt::format("doc {}", doc));
  std::string who = kind;
  if (!key.empty()) who += (who.empty() ? "" : " ") + key;
  append(who);
  append(field);
  append(message);
  return out;
}

std::vector<ParsedDocument> ParseYaml(std::string_view text, std::string_view file) {
  std::vector<ParsedDocument> out;
  try {
    std::vector<internal::YamlDoc> docs = internal::YamlToJson(text, file);
    out.reserve(docs.size());  // an Object is large: no moves of the ones decoded so far
    for (auto& d : docs) {
      if (!d.problems.empty()) {
        out.push_back(ParsedDocument{d.doc, std::nullopt, std::move(d.problems)});
        continue;
      }
      if (d.empty) continue;
      out.push_back(Decode(d.value, file, d.doc));
    }
  } catch (const std::exception& e) {
    out.push_back(ParsedDocument{0, std::nullopt,
                                 {Problem{std::string(file), 0, "", "", "", fmt::format("cannot read: {}", e.what())}}});
  } catch (...) {
    out.push_back(ParsedDocument{0, std::nullopt, {Problem{std::string(file), 0, "", "", "", "cannot read"}}});
  }
  return out;
}

ParsedDocument DecodeJson(const nlohmann::json& j, std::string_view file, int doc) {
  try {
    return Decode(j, file, doc);
  } catch (const std::exception& e) {
    return ParsedDocument{doc, std::nullopt,
                          {Problem{std::string(file), doc, "", "", "", fmt::format("cannot decode: {}", e.what())}}};
  } catch (...) {
    return ParsedDocument{doc, std::nullopt, {Problem{std::string(file), doc, "", "", "", "cannot decode"}}};
  }
}

StatusOr<Object> FromJson(const nlohmann::json& j) {
  ParsedDocument d = DecodeJson(j);
  if (!d.problems.empty()) return InvalidArgumentError(JoinProblems(d.problems));
  if (!d.object) return InvalidArgumentError("cannot decode object");
  return std::move(*d.object);
}

nlohmann::json ToJson(const Object& o) {
  try {
    json j = json::object();
    j["apiVersion"] = std::string(kApiVersion);
    j["kind"] = std::string(EnumName(KindOf(o)));
    j["metadata"] = EncMeta(MetaOf(o));
    j["spec"] = SpecToJson(o);
    const bool default_status = std::visit(
        [](const auto& obj) { return obj.status == std::decay_t<decltype(obj.status)>{}; }, o);
    if (!default_status) j["status"] = StatusToJson(o);
    return j;
  } catch (...) {
    return json::object();
  }
}

std::string ToYaml(const Object& o) { return internal::JsonToYaml(ToJson(o)); }

nlohmann::json StatusToJson(const Object& o) {
  try {
    return std::visit([](const auto& obj) { return Enc(obj.status); }, o);
  } catch (...) {
    return json::object();
  }
}

Status StatusFromJson(const nlohmann::json& j, Object& o) {
  try {
    std::vector<Problem> problems;
    Ctx c(&problems);
    std::visit(
        [&](auto& obj) {
          std::decay_t<decltype(obj.status)> status{};
          if (!j.is_null()) Read(c, j, "status", status);
          if (problems.empty()) obj.status = std::move(status);
        },
        o);
    if (problems.empty()) return Status::Ok();
    const ObjectMeta& meta = MetaOf(o);
    for (auto& p : problems) {
      p.kind = std::string(EnumName(KindOf(o)));
      if (!meta.name.empty()) p.key = meta.key().ToString();
    }
    return InvalidArgumentError(JoinProblems(problems));
  } catch (const std::exception& e) {
    return InvalidArgumentError(fmt::format("cannot decode status: {}", e.what()));
  } catch (...) {
    return InvalidArgumentError("cannot decode status");
  }
}

nlohmann::json SpecToJson(const Object& o) {
  try {
    return std::visit([](const auto& obj) { return Enc(obj.spec); }, o);
  } catch (...) {
    return json::object();
  }
}

}  // namespace redisfleet::api
