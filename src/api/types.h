#pragma once
// The three kinds of redisfleet.io/v1alpha1 (see shared/RESOURCES.md) as plain C++ values.
// Field defaults here are the API defaults; the codec fills them for absent fields.
// Sizes are MiB, durations seconds, as in the YAML.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"

namespace redisfleet::api {

inline constexpr std::string_view kGroup = "redisfleet.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "redisfleet.io/v1alpha1";
inline constexpr std::string_view kDefaultNamespace = "default";
// The pool every installation has without declaring it: this machine, Redis as local
// processes. A HostPool resource of this name replaces it.
inline constexpr std::string_view kEmbeddedPoolName = "local";
// The finalizer the operator puts on objects whose cleanup touches the outside world.
inline constexpr std::string_view kFinalizer = "redisfleet.io/cleanup";

// Label keys on everything created outside (containers, droplets, processes).
inline constexpr std::string_view kLabelManagedBy = "redisfleet.io/managed-by";
inline constexpr std::string_view kLabelPool = "redisfleet.io/pool";
inline constexpr std::string_view kLabelInstance = "redisfleet.io/instance";
inline constexpr std::string_view kLabelUid = "redisfleet.io/uid";

// ---------------------------------------------------------------------------------------------
// Enums and their wire names. EnumName/ParseEnum/EnumNames work for every enum below.

template <typename E>
struct EnumTable;  // specialised below: static constexpr std::array<std::pair<E, std::string_view>, N> kValues

template <typename E>
constexpr std::string_view EnumName(E value) {
  for (const auto& [v, name] : EnumTable<E>::kValues)
    if (v == value) return name;
  return "";
}
template <typename E>
constexpr std::optional<E> ParseEnum(std::string_view name) {
  for (const auto& [v, n] : EnumTable<E>::kValues)
    if (n == name) return v;
  return std::nullopt;
}
// "a|b|c", for error messages.
template <typename E>
std::string EnumNames() {
  std::string out;
  for (const auto& [v, n] : EnumTable<E>::kValues) {
    if (!out.empty()) out += '|';
    out += n;
  }
  return out;
}

#define REDISFLEET_ENUM_TABLE(E, N, ...)                                        \
  template <>                                                                   \
  struct EnumTable<E> {                                                         \
    static constexpr std::array<std::pair<E, std::string_view>, N> kValues = {{__VA_ARGS__}}; \
  }

enum class Kind { kHostPool, kRedisInstance, kScalingPolicy };
REDISFLEET_ENUM_TABLE(Kind, 3, {Kind::kHostPool, "HostPool"}, {Kind::kRedisInstance, "RedisInstance"},
                      {Kind::kScalingPolicy, "ScalingPolicy"});
inline constexpr std::array<Kind, 3> kAllKinds = {Kind::kHostPool, Kind::kRedisInstance,
                                                  Kind::kScalingPolicy};
// "hostpools", "redisinstances", "scalingpolicies".
std::string_view KindPlural(Kind kind);
// Accepts the kind, plural, singular or short name, case-insensitively (ri, hp, sp, ...).
std::optional<Kind> ParseKindName(std::string_view s);

enum class HostProviderType { kLocal, kStatic, kDigitalOcean };
REDISFLEET_ENUM_TABLE(HostProviderType, 3, {HostProviderType::kLocal, "local"},
                      {HostProviderType::kStatic, "static"},
                      {HostProviderType::kDigitalOcean, "digitalocean"});

enum class RuntimeType { kProcess, kDocker };
REDISFLEET_ENUM_TABLE(RuntimeType, 2, {RuntimeType::kProcess, "process"}, {RuntimeType::kDocker, "docker"});

enum class PlacementStrategy { kBinpack, kSpread };
REDISFLEET_ENUM_TABLE(PlacementStrategy, 2, {PlacementStrategy::kBinpack, "binpack"},
                      {PlacementStrategy::kSpread, "spread"});

enum class NetworkMode { kBridge, kHost };
REDISFLEET_ENUM_TABLE(NetworkMode, 2, {NetworkMode::kBridge, "bridge"}, {NetworkMode::kHost, "host"});

enum class HostState { kProvisioning, kReady, kCordoned, kLost, kDeleting };
REDISFLEET_ENUM_TABLE(HostState, 5, {HostState::kProvisioning, "Provisioning"},
                      {HostState::kReady, "Ready"}, {HostState::kCordoned, "Cordoned"},
                      {HostState::kLost, "Lost"}, {HostState::kDeleting, "Deleting"});

enum class Persistence { kAof, kRdb, kNone };
REDISFLEET_ENUM_TABLE(Persistence, 3, {Persistence::kAof, "aof"}, {Persistence::kRdb, "rdb"},
                      {Persistence::kNone, "none"});

enum class Phase { kPending, kProvisioning, kReady, kResizing, kExpired, kFailed, kDeleting };
REDISFLEET_ENUM_TABLE(Phase, 7, {Phase::kPending, "Pending"}, {Phase::kProvisioning, "Provisioning"},
                      {Phase::kReady, "Ready"}, {Phase::kResizing, "Resizing"},
                      {Phase::kExpired, "Expired"}, {Phase::kFailed, "Failed"},
                      {Phase::kDeleting, "Deleting"});

enum class ScalingMode { kAuto, kDryRun };
REDISFLEET_ENUM_TABLE(ScalingMode, 2, {ScalingMode::kAuto, "Auto"}, {ScalingMode::kDryRun, "DryRun"});

enum class NotificationEvent { kThresholdBreach, kScaleSucceeded, kScaleFailed };
REDISFLEET_ENUM_TABLE(NotificationEvent, 3, {NotificationEvent::kThresholdBreach, "ThresholdBreach"},
                      {NotificationEvent::kScaleSucceeded, "ScaleSucceeded"},
                      {NotificationEvent::kScaleFailed, "ScaleFailed"});

// ---------------------------------------------------------------------------------------------
// Metadata shared by every kind.

struct Key {
  std::string namespace_{kDefaultNamespace};
  std::string name;
  // "ns/name"
  std::string ToString() const { return namespace_ + "/" + name; }
  // "ns.name": the form used in labels and file names.
  std::string Dotted() const { return namespace_ + "." + name; }
  // Parses "ns/name" or "name" (namespace default).
  static Key Parse(std::string_view s);
  friend auto operator<=>(const Key&, const Key&) = default;
  friend bool operator==(const Key&, const Key&) = default;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_{kDefaultNamespace};
  std::string uid;               // assigned by the store on first sight
  int64_t generation = 0;        // bumped by the store when the spec changes
  std::string resource_version;  // optimistic concurrency token, opaque
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::optional<TimePoint> creation_timestamp;
  std::optional<TimePoint> deletion_timestamp;  // set: the object is going away

  Key key() const { return Key{namespace_, name}; }
  bool deleting() const { return deletion_timestamp.has_value(); }
};

struct Condition {
  std::string type;    // Ready, Placed, Scaled, ScalingActive, Valid, ...
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  TimePoint last_transition_time{};
  int64_t observed_generation = 0;
  friend bool operator==(const Condition&, const Condition&) = default;
};

// Sets (or adds) the condition of `c.type`. lastTransitionTime changes only when the status
// does. Returns true if anything changed.
bool SetCondition(std::vector<Condition>& conditions, Condition c, TimePoint now);
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

// A reference to a secret value. In Kubernetes a Secret's key; standalone, the file
// <dir>/secrets/<name>/<key>.
struct SecretKeyRef {
  std::string name;
  std::string key;
  bool empty() const { return name.empty(); }
  friend bool operator==(const SecretKeyRef&, const SecretKeyRef&) = default;
};

// ---------------------------------------------------------------------------------------------
// HostPool

struct Capacity {
  int64_t max_instances_per_host = 40;
  int64_t memory_mib_per_host = 1024;
  friend bool operator==(const Capacity&, const Capacity&) = default;
};

struct Quota {
  int64_t max_instances_per_requester = 6;
  int64_t default_ttl_seconds = 43200;
  friend bool operator==(const Quota&, const Quota&) = default;
};

struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  friend bool operator==(const TlsFiles&, const TlsFiles&) = default;
};

struct DockerSpec {
  std::string endpoint = "unix:///var/run/docker.sock";
  TlsFiles tls;
  std::optional<SecretKeyRef> basic_auth_secret_ref;  // "user:password"
  NetworkMode network_mode = NetworkMode::kBridge;
  std::string bind_address = "0.0.0.0";
  std::string image = "redis:7";
  friend bool operator==(const DockerSpec&, const DockerSpec&) = default;
};

struct StaticHost {
  std::string name;
  std::string docker_endpoint;
  std::string address;
  friend bool operator==(const StaticHost&, const StaticHost&) = default;
};

struct StaticSpec {
  std::vector<StaticHost> hosts;
  friend bool operator==(const StaticSpec&, const StaticSpec&) = default;
};

struct DigitalOceanSpec {
  SecretKeyRef token_secret_ref;
  std::string api_url = "https://api.digitalocean.com";
  std::string region = "nyc3";
  std::string size = "s-1vcpu-1gb";
  std::string image = "docker-20-04";
  std::vector<std::string> ssh_keys;
  std::vector<std::string> tags;
  std::string vpc_uuid;
  // Where each droplet's Docker API listens (TLS, or the basic-auth proxy): tcp://<ip>:<port>.
  int64_t docker_port = 2376;
  // A droplet not Ready (active, Docker answering, heartbeating with discovery) this long after
  // its creation was asked for is deleted and replaced.
  int64_t ready_timeout_seconds = 900;
  // Secret with ca.pem, cert.pem, key.pem: the droplets' own Docker TLS credentials, written to
  // them by cloud-init. Empty: the pool's Docker API is reached through the basic-auth proxy.
  std::string host_tls_secret_name;
  std::string agent_url;  // https URL of the redis-fleet binary the hosts run as `agent`
  std::string image_url;  // https URL of a `docker save` tarball of spec.docker.image; "" = pull
  friend bool operator==(const DigitalOceanSpec&, const DigitalOceanSpec&) = default;
};

struct DiscoverySpec {
  std::string redis_url;
  std::string key_prefix = "server:";
  int64_t ttl_seconds = 10;
  friend bool operator==(const DiscoverySpec&, const DiscoverySpec&) = default;
};

struct HostPoolSpec {
  HostProviderType provider = HostProviderType::kLocal;
  RuntimeType runtime = RuntimeType::kProcess;
  Capacity capacity;
  PlacementStrategy placement = PlacementStrategy::kBinpack;
  int64_t min_hosts = 0;
  int64_t max_hosts = 10;
  int64_t standby_hosts = 1;
  int64_t scale_in_delay_seconds = 600;
  Quota quota;
  std::optional<DockerSpec> docker;
  std::optional<StaticSpec> static_hosts;  // YAML key "static"
  std::optional<DigitalOceanSpec> digitalocean;
  std::optional<DiscoverySpec> discovery;
  friend bool operator==(const HostPoolSpec&, const HostPoolSpec&) = default;
};

struct HostStatus {
  std::string name;
  std::string provider_id;
  std::string address;
  HostState state = HostState::kProvisioning;
  int64_t instances = 0;
  int64_t memory_mib_used = 0;
  TimePoint since{};
  friend bool operator==(const HostStatus&, const HostStatus&) = default;
};

struct HostPoolStatus {
  std::vector<HostStatus> hosts;
  int64_t ready_hosts = 0;
  int64_t standby_hosts = 0;
  double monthly_cost = 0.0;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  friend bool operator==(const HostPoolStatus&, const HostPoolStatus&) = default;
};

struct HostPool {
  static constexpr Kind kKind = Kind::kHostPool;
  ObjectMeta metadata;
  HostPoolSpec spec;
  HostPoolStatus status;
};

// ---------------------------------------------------------------------------------------------
// RedisInstance

struct HerokuRef {
  std::string app;
  std::string addon;
  std::string config_var = "REDIS_URL";
  SecretKeyRef api_key_secret_ref;
  std::string api_url = "https://api.heroku.com";
  // Metrics over rediss:// without checking the server's certificate (Heroku Redis serves
  // self-signed certificates). Off by default.
  bool tls_insecure_skip_verify = false;
  friend bool operator==(const HerokuRef&, const HerokuRef&) = default;
};

struct RedisInstanceSpec {
  std::string host_pool;  // exactly one of host_pool / heroku
  std::optional<HerokuRef> heroku;
  std::string plan;       // a plan name of the ScalingPolicy catalogue; empty = use memory/maxClients
  int64_t memory_mib = 64;
  int64_t max_clients = 100;
  Persistence persistence = Persistence::kAof;
  int64_t ttl_seconds = 0;  // 0 = never expires
  std::string requester;
  SecretKeyRef password_secret_ref{"", "password"};  // empty name = generated
  friend bool operator==(const RedisInstanceSpec&, const RedisInstanceSpec&) = default;
};

struct Endpoint {
  std::string host;
  int64_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct RedisInstanceStatus {
  Phase phase = Phase::kPending;
  std::string host;
  Endpoint endpoint;
  std::string url;                // redis://host:port, never with the password
  std::string connection_secret;  // Kubernetes: Secret name; standalone: password file path
  std::string plan;
  int64_t memory_mib = 0;
  int64_t max_clients = 0;
  int64_t used_memory_bytes = 0;
  int64_t connected_clients = 0;
  std::optional<TimePoint> expires_at;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  friend bool operator==(const RedisInstanceStatus&, const RedisInstanceStatus&) = default;
};

struct RedisInstance {
  static constexpr Kind kKind = Kind::kRedisInstance;
  ObjectMeta metadata;
  RedisInstanceSpec spec;
  RedisInstanceStatus status;
};

// ---------------------------------------------------------------------------------------------
// ScalingPolicy

struct TargetRef {
  std::string name;                                  // one of name / match_labels
  std::map<std::string, std::string> match_labels;   // YAML: selector.matchLabels
  friend bool operator==(const TargetRef&, const TargetRef&) = default;
};

struct Targets {
  int64_t memory_percent = 80;
  int64_t connections_percent = 80;
  friend bool operator==(const Targets&, const Targets&) = default;
};

struct ScaleUp {
  int64_t sustain_seconds = 60;
  friend bool operator==(const ScaleUp&, const ScaleUp&) = default;
};

struct ScaleDown {
  int64_t sustain_seconds = 600;
  int64_t buffer_percent = 5;
  int64_t lower_plan_max_percent = 75;
  friend bool operator==(const ScaleDown&, const ScaleDown&) = default;
};

struct Plan {
  std::string name;
  int64_t memory_mib = 0;
  int64_t max_clients = 0;
  double monthly_cost = 0.0;
  friend bool operator==(const Plan&, const Plan&) = default;
};

struct PlanCatalog {
  std::string heroku_addon_service;
  friend bool operator==(const PlanCatalog&, const PlanCatalog&) = default;
};

struct EmailSpec {
  std::string smtp_url;
  bool starttls = true;
  std::string username;
  std::optional<SecretKeyRef> password_secret_ref;
  std::string from;
  std::vector<std::string> to;
  friend bool operator==(const EmailSpec&, const EmailSpec&) = default;
};

struct WebhookSpec {
  std::string url;
  friend bool operator==(const WebhookSpec&, const WebhookSpec&) = default;
};

struct Notifications {
  std::vector<NotificationEvent> on;
  std::optional<EmailSpec> email;
  std::optional<WebhookSpec> webhook;
  friend bool operator==(const Notifications&, const Notifications&) = default;
};

struct ScalingPolicySpec {
  TargetRef target_ref;
  ScalingMode mode = ScalingMode::kAuto;
  int64_t interval_seconds = 10;
  Targets targets;
  ScaleUp scale_up;
  ScaleDown scale_down;
  int64_t cooldown_seconds = 300;
  std::vector<Plan> plans;
  std::optional<PlanCatalog> plan_catalog;
  std::string min_plan;
  std::string max_plan;
  std::optional<Notifications> notifications;
  friend bool operator==(const ScalingPolicySpec&, const ScalingPolicySpec&) = default;
};

struct PolicyInstanceStatus {
  std::string name;
  std::string current_plan;
  std::string recommended_plan;
  double memory_percent = 0;
  double connections_percent = 0;
  std::optional<TimePoint> last_scale_time;
  friend bool operator==(const PolicyInstanceStatus&, const PolicyInstanceStatus&) = default;
};

struct Decision {
  TimePoint time{};
  std::string instance;
  std::string from;
  std::string to;
  std::string action;  // ScaleUp | ScaleDown | None | ...
  std::string reason;
  double memory_percent = 0;
  double connections_percent = 0;
  friend bool operator==(const Decision&, const Decision&) = default;
};

struct ScalingPolicyStatus {
  std::vector<PolicyInstanceStatus> instances;
  std::vector<Decision> decisions;  // the last 50
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  friend bool operator==(const ScalingPolicyStatus&, const ScalingPolicyStatus&) = default;
};

struct ScalingPolicy {
  static constexpr Kind kKind = Kind::kScalingPolicy;
  ObjectMeta metadata;
  ScalingPolicySpec spec;
  ScalingPolicyStatus status;
};

// ---------------------------------------------------------------------------------------------
// Any object.

using Object = std::variant<HostPool, RedisInstance, ScalingPolicy>;

Kind KindOf(const Object& o);

// Whether `t` picks `ri` (by name, or by all of matchLabels; an empty selector picks nothing).
// Namespaces are the caller's concern.
bool Selects(const TargetRef& t, const RedisInstance& ri);
ObjectMeta& MetaOf(Object& o);
const ObjectMeta& MetaOf(const Object& o);

}  // namespace redisfleet::api
