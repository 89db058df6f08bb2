#include "controllers/redisinstance/heroku.h"

#include <utility>

#include <fmt/format.h>

#include "redis/url.h"

namespace redisfleet::controllers {
namespace {

using api::Phase;

// HerokuApi over a real client; reports RateLimit-Remaining after every call.
class ClientApi final : public HerokuApi {
 public:
  ClientApi(heroku::HerokuClientOptions options, Clock& clock, std::function<void(int64_t)> on_rate_limit)
      : client_(std::move(options), clock), on_rate_limit_(std::move(on_rate_limit)) {}

  StatusOr<heroku::Addon> GetAddon(const std::string& app, const std::string& addon) override {
    return Report(client_.GetAddon(app, addon));
  }
  StatusOr<heroku::Addon> ChangePlan(const std::string& app, const std::string& addon,
                                     const std::string& plan) override {
    return Report(client_.ChangePlan(app, addon, plan));
  }
  StatusOr<std::string> GetConfigVar(const std::string& app, const std::string& name) override {
    return Report(client_.GetConfigVar(app, name));
  }
  StatusOr<std::vector<heroku::HerokuPlan>> ListPlans(const std::string& service) override {
    return Report(client_.ListPlans(service));
  }

 private:
  template <typename T>
  T Report(T result) {
    const int64_t remaining = client_.rate_limit_remaining();
    if (on_rate_limit_ && remaining >= 0) on_rate_limit_(remaining);
    return result;
  }

  heroku::HerokuClient client_;
  std::function<void(int64_t)> on_rate_limit_;
};

}  // namespace

bool IsTransientHerokuError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kConflict:
      return true;
    default:
      return false;
  }
}

StatusOr<std::shared_ptr<HerokuApi>> HerokuApiFor(HerokuApiFactory& factory, store::SecretStore& secrets,
                                                  const std::string& namespace_, const api::HerokuRef& ref) {
  RF_ASSIGN_OR_RETURN(std::string key, secrets.Read(namespace_, ref.api_key_secret_ref));
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (key.empty()) {
    return InvalidArgumentError(fmt::format("spec.heroku.apiKeySecretRef: secret {} key {} is empty",
                                            ref.api_key_secret_ref.name, ref.api_key_secret_ref.key));
  }
  return factory.For(ref.api_url, key);
}

HerokuClientFactory::HerokuClientFactory(std::shared_ptr<Clock> clock, heroku::HerokuClientOptions base,
                                         std::function<void(int64_t)> on_rate_limit)
    : clock_(std::move(clock)), base_(std::move(base)), on_rate_limit_(std::move(on_rate_limit)) {}

StatusOr<std::shared_ptr<HerokuApi>> HerokuClientFactory::For(const std::string& api_url, const std::string& api_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = clients_[{api_url, api_key}];
  if (!slot) {
    heroku::HerokuClientOptions o = base_;
    o.api_url = api_url;
    o.api_key = api_key;
    slot = std::make_shared<ClientApi>(std::move(o), *clock_, on_rate_limit_);
  }
  return slot;
}

HerokuActuator::HerokuActuator(std::shared_ptr<HerokuApiFactory> factory, std::shared_ptr<store::SecretStore> secrets,
                               std::shared_ptr<const Clock> clock, std::shared_ptr<Logger> logger,
                               HerokuActuatorOptions options)
    : factory_(std::move(factory)), secrets_(std::move(secrets)), clock_(std::move(clock)),
      log_(logger ? std::move(logger) : Logger::Null()), options_(options) {}

void HerokuActuator::Set(api::RedisInstanceStatus& st, const std::string& type, bool ok, std::string reason,
                         std::string message, int64_t generation) const {
  api::SetCondition(st.conditions,
                    api::Condition{type, ok ? "True" : "False", std::move(reason), std::move(message), {}, generation},
                    clock_->Now());
}

StatusOr<runtime::Result> HerokuActuator::Reconcile(const api::RedisInstance& ri, const std::string& wanted_plan,
                                                    api::RedisInstanceStatus& st) {
  const api::HerokuRef& ref = *ri.spec.heroku;
  const api::Key key = ri.metadata.key();
  const int64_t gen = ri.metadata.generation;
  const std::string where = fmt::format("add-on {} of app {}", ref.addon, ref.app);

  auto api = HerokuApiFor(*factory_, *secrets_, key.namespace_, ref);
  if (!api) {
    if (IsTransientHerokuError(api.error())) return api.error();
    if (st.phase != Phase::kReady) st.phase = Phase::kPending;
    Set(st, "Ready", false, "ApiKeyUnavailable", api.error().message(), gen);
    return runtime::Result{options_.pending_retry};
  }

  auto addon = (*api)->GetAddon(ref.app, ref.addon);
  if (!addon) {
    if (IsTransientHerokuError(addon.error())) return addon.error();
    st.phase = Phase::kFailed;
    Set(st, "Ready", false, "AddonUnavailable", fmt::format("{}: {}", where, addon.error().message()), gen);
    return runtime::Result{options_.pending_retry};
  }

  // The plan in effect and its capacity.
  const std::string current = heroku::ShortPlanName(addon->plan);
  const std::string want = wanted_plan.empty() ? current : wanted_plan;
  const std::string previous_plan = st.plan;
  st.plan = current;
  if (auto cap = heroku::KnownPlanCapacity(addon->plan)) {
    st.memory_mib = cap->memory_mib;
    st.max_clients = cap->max_clients;
    Set(st, "Placed", true, "HerokuAddon", fmt::format("{}, plan {}", where, current), gen);
  } else {
    st.memory_mib = 0;
    st.max_clients = 0;
    Set(st, "Placed", true, "CapacityUnknown",
        fmt::format("{}, plan {}: its memory and connection limits are not known (memoryMiB and "
                    "maxClients left 0)",
                    where, addon->plan),
        gen);
  }
  const bool serving = !st.url.empty() && st.endpoint.port > 0;

  if (addon->state == heroku::kStateDeprovisioned) {
    st.phase = Phase::kFailed;
    Set(st, "Ready", false, "Deprovisioned", where + " is deprovisioned", gen);
    if (want != current) {
      Set(st, "Scaled", false, "PlanChangeFailed",
          fmt::format("plan change to {} failed: {} is deprovisioned", want, where), gen);
    }
    return runtime::Result{options_.pending_retry};
  }
  if (addon->state == heroku::kStateProvisioning) {
    st.phase = Phase::kResizing;
    if (!serving) Set(st, "Ready", false, "Provisioning", where + " is provisioning", gen);
    return runtime::Result{options_.resizing_poll};
  }

  if (want != current) {
    auto changed = (*api)->ChangePlan(ref.app, ref.addon, want);
    if (changed) {
      log_->Info("heroku plan change asked", {{"key", key.ToString()}, {"from", current}, {"to", want}});
      st.phase = Phase::kResizing;
      api::SetCondition(st.conditions,
                        api::Condition{"Scaled", "Unknown", "Resizing",
                                       fmt::format("plan change {} -> {} asked", current, want), {}, gen},
                        clock_->Now());
      return runtime::Result{options_.resizing_poll};
    }
    if (IsTransientHerokuError(changed.error())) return changed.error();
    log_->Warn("heroku plan change failed",
               {{"key", key.ToString()}, {"to", want}, {"error", changed.error().ToString()}});
    // Through Unknown, so a refusal after an earlier one is a fresh transition (the policy
    // tells refusals of its request from older ones by lastTransitionTime).
    api::SetCondition(st.conditions, api::Condition{"Scaled", "Unknown", "Resizing", "", {}, gen}, clock_->Now());
    Set(st, "Scaled", false, "PlanChangeFailed",
        fmt::format("plan change to {} failed: {}", want, changed.error().message()), gen);
    // The add-on still serves on its current plan: go on and keep following it.
  }

  // Provisioned: follow the connection URL (rotation).
  auto url = (*api)->GetConfigVar(ref.app, ref.config_var);
  if (!url) {
    if (IsTransientHerokuError(url.error())) return url.error();
    st.phase = serving ? Phase::kReady : Phase::kPending;
    Set(st, "Ready", false, "ConfigVarUnavailable",
        fmt::format("config var {} of app {}: {}", ref.config_var, ref.app, url.error().message()), gen);
    return runtime::Result{options_.pending_retry};
  }
  auto parsed = redis::ParseRedisUrl(*url);
  if (!parsed) {
    st.phase = serving ? Phase::kReady : Phase::kPending;
    // ParseRedisUrl's messages never carry the password; still, say only what is wrong.
    Set(st, "Ready", false, "ConfigVarInvalid",
        fmt::format("config var {} of app {} is not a redis:// or rediss:// URL", ref.config_var, ref.app), gen);
    return runtime::Result{options_.pending_retry};
  }
  const std::string scheme = parsed->tls ? "rediss" : "redis";
  const std::string public_url = fmt::format("{}://{}:{}", scheme, parsed->options.host, parsed->options.port);
  st.endpoint = api::Endpoint{parsed->options.host, parsed->options.port};
  st.url = public_url;
  std::map<std::string, std::string> conn{{"password", parsed->options.password},
                                          {"host", parsed->options.host},
                                          {"port", std::to_string(parsed->options.port)},
                                          {"url", public_url}};
  if (!parsed->options.username.empty()) conn["username"] = parsed->options.username;
  auto existing = secrets_->ReadConnection(key);
  if (!existing && existing.error().code() != StatusCode::kNotFound) return existing.error();
  const bool rotated = existing.ok() && *existing != conn;
  if (!existing || *existing != conn || st.connection_secret.empty()) {
    RF_ASSIGN_OR_RETURN(st.connection_secret, secrets_->WriteConnection(key, conn));
    if (rotated) log_->Info("heroku connection details changed; secret updated", {{"key", key.ToString()}, {"url", public_url}});
  }

  if (want == current) {
    const api::Condition* scaled = api::FindCondition(st.conditions, "Scaled");
    if (!previous_plan.empty() && previous_plan != current) {
      Set(st, "Scaled", true, "Resized", fmt::format("plan {} in effect (was {})", current, previous_plan), gen);
    } else if (scaled == nullptr || (scaled->status != "True" && scaled->reason != "PlanChangeFailed")) {
      // A refused change stays visible until a later change succeeds.
      Set(st, "Scaled", true, "AtSpec", fmt::format("plan {} in effect", current), gen);
    }
  }
  st.phase = Phase::kReady;
  Set(st, "Ready", true, "Running", "answering on " + st.url, gen);
  return runtime::Result{options_.health_interval};
}

}  // namespace redisfleet::controllers
