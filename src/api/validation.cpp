#include "api/validation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "api/codec_internal.h"
#include "common/redact.h"

namespace redisfleet::api {
namespace {

std::string KeyOf(const ObjectMeta& m) {
  if (m.name.empty()) return "";
  return (m.namespace_.empty() ? std::string(kDefaultNamespace) : m.namespace_) + "/" + m.name;
}

std::string NamespaceOf(const ObjectMeta& m) {
  return m.namespace_.empty() ? std::string(kDefaultNamespace) : m.namespace_;
}

// A user value for "(got X)": unquoted, redacted, cut short.
std::string Shown(std::string_view v) {
  std::string s = RedactSecrets(v);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Adds problems labelled with one object's kind and key.
class Checker {
 public:
  Checker(const Object& o, std::vector<Problem>* out)
      : out_(out), kind_(EnumName(KindOf(o))), key_(KeyOf(MetaOf(o))) {}

  void Add(std::string field, std::string message) {
    out_->push_back(Problem{"", 0, kind_, key_, std::move(field), std::move(message)});
  }
  void Min(std::string field, int64_t v, int64_t min) {
    if (v < min) Add(std::move(field), fmt::format("must be >= {} (got {})", min, v));
  }
  void Range(std::string field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) Add(std::move(field), fmt::format("must be between {} and {} (got {})", lo, hi, v));
  }
  void Required(std::string field, const std::string& v) {
    if (v.empty()) Add(std::move(field), "required");
  }
  void Label(std::string field, const std::string& v) {
    if (v.empty()) {
      Add(std::move(field), "required");
    } else if (!internal::IsDns1123Label(v)) {
      Add(std::move(field),
          fmt::format("must be a DNS-1123 label: a-z, 0-9 and '-', alphanumeric at both ends, at most "
                      "63 characters (got {})",
                      Shown(v)));
    }
  }
  void Scheme(std::string field, const std::string& v, std::string_view a, std::string_view b) {
    if (v.empty()) {
      Add(std::move(field), "required");
    } else if (!StartsWith(v, a) && !StartsWith(v, b)) {
      Add(std::move(field), fmt::format("must start with {} or {} (got {})", a, b, Shown(v)));
    }
  }

 private:
  std::vector<Problem>* out_;
  std::string kind_;
  std::string key_;
};

void Check(Checker& c, const HostPool& hp) {
  const HostPoolSpec& s = hp.spec;
  c.Min("spec.capacity.maxInstancesPerHost", s.capacity.max_instances_per_host, 1);
  c.Min("spec.capacity.memoryMiBPerHost", s.capacity.memory_mib_per_host, 1);
  c.Min("spec.minHosts", s.min_hosts, 0);
  c.Min("spec.maxHosts", s.max_hosts, 1);
  if (s.min_hosts >= 0 && s.max_hosts >= 1 && s.min_hosts > s.max_hosts)
    c.Add("spec.minHosts", fmt::format("must not be above maxHosts (got {} > {})", s.min_hosts, s.max_hosts));
  c.Min("spec.standbyHosts", s.standby_hosts, 0);
  c.Min("spec.scaleInDelaySeconds", s.scale_in_delay_seconds, 0);
  c.Min("spec.quota.maxInstancesPerRequester", s.quota.max_instances_per_requester, 0);
  c.Min("spec.quota.defaultTTLSeconds", s.quota.default_ttl_seconds, 0);

  if (s.runtime == RuntimeType::kProcess && s.provider != HostProviderType::kLocal)
    c.Add("spec.runtime", fmt::format("must be docker when provider is {} (got process)", EnumName(s.provider)));

  if (s.provider == HostProviderType::kStatic) {
    if (!s.static_hosts) {
      c.Add("spec.static", "required when provider is static");
    } else if (s.static_hosts->hosts.empty()) {
      c.Add("spec.static.hosts", "must list at least one host when provider is static");
    }
  }
  if (s.static_hosts) {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < s.static_hosts->hosts.size(); ++i) {
      const StaticHost& h = s.static_hosts->hosts[i];
      const std::string path = fmt::format("spec.static.hosts[{}]", i);
      if (h.name.empty()) {
        c.Add(path + ".name", "required");
      } else if (auto [it, inserted] = seen.emplace(h.name, i); !inserted) {
        c.Add(path + ".name", fmt::format("duplicate host name, also at spec.static.hosts[{}] (got {})",
                                          it->second, Shown(h.name)));
      }
      c.Required(path + ".dockerEndpoint", h.docker_endpoint);
    }
  }
  if (s.provider == HostProviderType::kDigitalOcean) {
    if (!s.digitalocean) {
      c.Add("spec.digitalocean", "required when provider is digitalocean");
    } else {
      c.Required("spec.digitalocean.tokenSecretRef.name", s.digitalocean->token_secret_ref.name);
    }
  }
  if (s.digitalocean) {
    const DigitalOceanSpec& d = *s.digitalocean;
    c.Scheme("spec.digitalocean.apiURL", d.api_url, "https://", "http://");
    c.Required("spec.digitalocean.size", d.size);
    c.Required("spec.digitalocean.image", d.image);
    c.Range("spec.digitalocean.dockerPort", d.docker_port, 1, 65535);
    c.Min("spec.digitalocean.readyTimeoutSeconds", d.ready_timeout_seconds, 1);
    for (std::size_t i = 0; i < d.tags.size(); ++i) {
      const std::string& t = d.tags[i];
      const bool ok = !t.empty() && t.size() <= 255 &&
                      std::all_of(t.begin(), t.end(), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' ||
                               ch == '_' || ch == ':';
                      });
      if (!ok)
        c.Add(fmt::format("spec.digitalocean.tags[{}]", i),
              fmt::format("must be 1-255 letters, digits, '-', '_' or ':' (got {})", Shown(t)));
    }
    if (!d.agent_url.empty())
      c.Scheme("spec.digitalocean.agentURL", d.agent_url, "https://", "http://");
    if (!d.image_url.empty())
      c.Scheme("spec.digitalocean.imageURL", d.image_url, "https://", "http://");
  }
  if (s.discovery) {
    c.Scheme("spec.discovery.redisURL", s.discovery->redis_url, "redis://", "rediss://");
    c.Min("spec.discovery.ttlSeconds", s.discovery->ttl_seconds, 1);
  }
}

void Check(Checker& c, const RedisInstance& ri) {
  const RedisInstanceSpec& s = ri.spec;
  c.Min("spec.memoryMiB", s.memory_mib, 1);
  c.Min("spec.maxClients", s.max_clients, 1);
  c.Min("spec.ttlSeconds", s.ttl_seconds, 0);
  const bool pool = !s.host_pool.empty();
  const bool heroku = s.heroku.has_value();
  if (pool == heroku)
    c.Add("spec", fmt::format("must set exactly one of hostPool or heroku (got {})", pool ? "both" : "neither"));
  if (pool) c.Label("spec.hostPool", s.host_pool);
  if (heroku) {
    c.Required("spec.heroku.app", s.heroku->app);
    c.Required("spec.heroku.addon", s.heroku->addon);
    c.Required("spec.heroku.apiKeySecretRef.name", s.heroku->api_key_secret_ref.name);
  }
}

void Check(Checker& c, const ScalingPolicy& sp) {
  const ScalingPolicySpec& s = sp.spec;
  const bool by_name = !s.target_ref.name.empty();
  const bool by_labels = !s.target_ref.match_labels.empty();
  if (by_name == by_labels)
    c.Add("spec.targetRef", fmt::format("must set exactly one of name or selector.matchLabels (got {})",
                                        by_name ? "both" : "neither"));
  if (by_name) c.Label("spec.targetRef.name", s.target_ref.name);

  c.Min("spec.intervalSeconds", s.interval_seconds, 1);
  c.Range("spec.targets.memoryPercent", s.targets.memory_percent, 1, 100);
  c.Range("spec.targets.connectionsPercent", s.targets.connections_percent, 1, 100);
  c.Min("spec.scaleUp.sustainSeconds", s.scale_up.sustain_seconds, 0);
  c.Min("spec.scaleDown.sustainSeconds", s.scale_down.sustain_seconds, 0);
  // A zero buffer (no hysteresis) is meaningful, unlike the other percents.
  c.Range("spec.scaleDown.bufferPercent", s.scale_down.buffer_percent, 0, 100);
  c.Range("spec.scaleDown.lowerPlanMaxPercent", s.scale_down.lower_plan_max_percent, 1, 100);
  c.Min("spec.cooldownSeconds", s.cooldown_seconds, 0);

  const bool plans = !s.plans.empty();
  const bool catalog = s.plan_catalog.has_value();
  if (plans == catalog)
    c.Add("spec", fmt::format("must set exactly one of plans or planCatalog (got {})", plans ? "both" : "neither"));
  if (catalog) c.Required("spec.planCatalog.herokuAddonService", s.plan_catalog->heroku_addon_service);

  std::map<std::string, std::size_t> by_plan_name;
  for (std::size_t i = 0; i < s.plans.size(); ++i) {
    const Plan& p = s.plans[i];
    const std::string path = fmt::format("spec.plans[{}]", i);
    if (p.name.empty()) {
      c.Add(path + ".name", "required");
    } else if (auto [it, inserted] = by_plan_name.emplace(p.name, i); !inserted) {
      c.Add(path + ".name",
            fmt::format("duplicate plan name, also at spec.plans[{}] (got {})", it->second, Shown(p.name)));
    }
    c.Min(path + ".memoryMiB", p.memory_mib, 1);
    c.Min(path + ".maxClients", p.max_clients, 1);
    if (!(p.monthly_cost >= 0) || !std::isfinite(p.monthly_cost))
      c.Add(path + ".monthlyCost", fmt::format("must be >= 0 (got {})", p.monthly_cost));
  }
  if (plans) {
    const Plan* min_plan = nullptr;
    const Plan* max_plan = nullptr;
    for (auto [field, name, found] : {std::tuple{"spec.minPlan", &s.min_plan, &min_plan},
                                      std::tuple{"spec.maxPlan", &s.max_plan, &max_plan}}) {
      if (name->empty()) continue;
      auto it = by_plan_name.find(*name);
      if (it == by_plan_name.end()) {
        c.Add(field, fmt::format("must name a plan of spec.plans (got {})", Shown(*name)));
      } else {
        *found = &s.plans[it->second];
      }
    }
    if (min_plan != nullptr && max_plan != nullptr &&
        std::tie(min_plan->memory_mib, min_plan->monthly_cost) >
            std::tie(max_plan->memory_mib, max_plan->monthly_cost))
      c.Add("spec.minPlan", fmt::format("must not be above maxPlan (got {} > {})", Shown(min_plan->name),
                                        Shown(max_plan->name)));
  }

  if (s.notifications) {
    if (const auto& email = s.notifications->email) {
      c.Scheme("spec.notifications.email.smtpURL", email->smtp_url, "smtp://", "smtps://");
      if (email->to.empty()) c.Add("spec.notifications.email.to", "must list at least one address");
    }
    if (const auto& webhook = s.notifications->webhook)
      c.Scheme("spec.notifications.webhook.url", webhook->url, "http://", "https://");
  }
}

std::string Where(const SourcedObject& so) {
  if (!so.file.empty() && so.doc > 0) return fmt::format("{} doc {}", so.file, so.doc);
  if (!so.file.empty()) return so.file;
  if (so.doc > 0) return fmt::format("doc {}", so.doc);
  return "an earlier object";
}

}  // namespace

void ApplyDefaults(Object& o) {
  ObjectMeta& meta = MetaOf(o);
  if (meta.namespace_.empty()) meta.namespace_ = std::string(kDefaultNamespace);
  if (auto* hp = std::get_if<HostPool>(&o)) {
    if (hp->spec.runtime == RuntimeType::kDocker && !hp->spec.docker) hp->spec.docker = DockerSpec{};
  }
}

std::vector<Problem> Validate(const Object& o) {
  std::vector<Problem> out;
  Checker c(o, &out);
  const ObjectMeta& meta = MetaOf(o);
  c.Label("metadata.name", meta.name);
  c.Label("metadata.namespace", meta.namespace_);
  std::visit([&c](const auto& obj) { Check(c, obj); }, o);
  return out;
}

std::vector<Problem> ValidateSet(const std::vector<SourcedObject>& objects, bool check_references) {
  std::vector<Problem> out;
  auto add = [&out](const SourcedObject& so, std::string field, std::string message) {
    const ObjectMeta& m = MetaOf(so.object);
    out.push_back(Problem{so.file, so.doc, std::string(EnumName(KindOf(so.object))), KeyOf(m),
                          std::move(field), std::move(message)});
  };

  std::map<std::tuple<Kind, std::string, std::string>, std::size_t> first;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const SourcedObject& so = objects[i];
    const ObjectMeta& m = MetaOf(so.object);
    auto [it, inserted] = first.emplace(std::tuple{KindOf(so.object), NamespaceOf(m), m.name}, i);
    if (!inserted)
      add(so, "metadata.name",
          fmt::format("duplicate {} {}: already defined in {}", EnumName(KindOf(so.object)), KeyOf(m),
                      Where(objects[it->second])));
  }
  if (!check_references) return out;

  std::set<std::pair<std::string, std::string>> pools;
  std::set<std::pair<std::string, std::string>> instances;
  for (const auto& so : objects) {
    const ObjectMeta& m = MetaOf(so.object);
    if (KindOf(so.object) == Kind::kHostPool) pools.emplace(NamespaceOf(m), m.name);
    if (KindOf(so.object) == Kind::kRedisInstance) instances.emplace(NamespaceOf(m), m.name);
  }
  for (const auto& so : objects) {
    if (const auto* ri = std::get_if<RedisInstance>(&so.object)) {
      const std::string ns = NamespaceOf(ri->metadata);
      if (!ri->spec.host_pool.empty() && ri->spec.host_pool != kEmbeddedPoolName &&
          !pools.count({ns, ri->spec.host_pool}))
        add(so, "spec.hostPool",
            fmt::format("names no HostPool in namespace {} (got {})", ns, Shown(ri->spec.host_pool)));
    }
    if (const auto* sp = std::get_if<ScalingPolicy>(&so.object)) {
      const std::string ns = NamespaceOf(sp->metadata);
      const std::string& target = sp->spec.target_ref.name;
      if (!target.empty() && !instances.count({ns, target}))
        add(so, "spec.targetRef.name",
            fmt::format("names no RedisInstance in namespace {} (got {})", ns, Shown(target)));
      if (sp->spec.plans.empty()) continue;
      // Instances this policy scales must name one of its plans.
      for (const auto& other : objects) {
        const auto* ri = std::get_if<RedisInstance>(&other.object);
        if (ri == nullptr || ri->spec.plan.empty() || NamespaceOf(ri->metadata) != ns ||
            !Selects(sp->spec.target_ref, *ri))
          continue;
        bool known = false;
        for (const auto& p : sp->spec.plans) known = known || p.name == ri->spec.plan;
        if (!known)
          add(other, "spec.plan",
              fmt::format("names no plan of ScalingPolicy {} (got {})", KeyOf(sp->metadata),
                          Shown(ri->spec.plan)));
      }
    }
  }
  return out;
}

}  // namespace redisfleet::api
