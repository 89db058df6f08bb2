#include "controllers/scalingpolicy/reconciler.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "providers/heroku/heroku_client.h"

namespace redisfleet::controllers {
namespace {

bool Targets(const api::ScalingPolicy& p, const api::RedisInstance& ri) {
  return p.metadata.namespace_ == ri.metadata.namespace_ && api::Selects(p.spec.target_ref, ri);
}

const api::Plan* Find(const std::vector<api::Plan>& plans, const std::string& name) {
  if (name.empty()) return nullptr;
  for (const auto& p : plans)
    if (p.name == name) return &p;
  return nullptr;
}

// What runs now: the applied size, named when it is a plan of the catalogue.
api::Plan CurrentPlan(const api::ScalingPolicySpec& spec, const api::RedisInstance& ri) {
  const int64_t mem = ri.status.memory_mib > 0 ? ri.status.memory_mib : ri.spec.memory_mib;
  const int64_t clients = ri.status.max_clients > 0 ? ri.status.max_clients : ri.spec.max_clients;
  if (const api::Plan* p = Find(spec.plans, ri.status.plan); p && p->memory_mib == mem && p->max_clients == clients) {
    return *p;
  }
  // A Heroku add-on runs a named plan; its limits are Heroku's whatever the catalogue says.
  if (const api::Plan* p = Find(spec.plans, ri.status.plan); p && ri.spec.heroku) return *p;
  for (const auto& p : spec.plans)
    if (p.memory_mib == mem && p.max_clients == clients) return p;
  return api::Plan{"", mem, clients, 0.0};
}

std::string PlanLabel(const api::Plan& p) {
  return p.name.empty() ? fmt::format("custom ({} MiB, {} clients)", p.memory_mib, p.max_clients) : p.name;
}

std::size_t WindowFor(const api::ScalingPolicySpec& spec) {
  const int64_t longest = std::max(spec.scale_up.sustain_seconds, spec.scale_down.sustain_seconds);
  const int64_t interval = std::max<int64_t>(1, spec.interval_seconds);
  return static_cast<std::size_t>(std::min<int64_t>(4096, longest / interval + 3));
}

}  // namespace

std::vector<api::ScalingPolicy> PoliciesFor(const store::ObjectStore& store, const api::RedisInstance& ri) {
  std::vector<api::ScalingPolicy> out;
  auto all = const_cast<store::ObjectStore&>(store).List(api::Kind::kScalingPolicy);
  if (!all) return out;
  for (auto& o : *all) {
    auto* p = std::get_if<api::ScalingPolicy>(&o);
    if (p != nullptr && !p->metadata.deleting() && Targets(*p, ri)) out.push_back(std::move(*p));
  }
  std::sort(out.begin(), out.end(),
            [](const api::ScalingPolicy& a, const api::ScalingPolicy& b) { return a.metadata.name < b.metadata.name; });
  return out;
}

namespace {

// `name` as a plan of `policy`'s catalogue for `ri`: spec.plans, or for a Heroku instance and
// spec.planCatalog any heroku-redis plan of known capacity (cost unknown here: 0).
std::optional<api::Plan> CatalogPlan(const api::ScalingPolicy& policy, const api::RedisInstance& ri,
                                     const std::string& name) {
  if (const api::Plan* plan = Find(policy.spec.plans, name)) return *plan;
  if (name.empty() || !ri.spec.heroku || !policy.spec.plan_catalog || !policy.spec.plans.empty()) return std::nullopt;
  const std::string& service = policy.spec.plan_catalog->heroku_addon_service;
  const std::string qualified = name.find(':') == std::string::npos ? service + ":" + name : name;
  auto cap = heroku::KnownPlanCapacity(qualified);
  if (!cap) return std::nullopt;
  return api::Plan{heroku::ShortPlanName(name), cap->memory_mib, cap->max_clients, 0.0};
}

}  // namespace

std::optional<api::Plan> EffectivePlan(const store::ObjectStore& store, const api::RedisInstance& ri) {
  const std::vector<api::ScalingPolicy> policies = PoliciesFor(store, ri);
  for (const auto& p : policies) {
    if (p.spec.mode != api::ScalingMode::kAuto) continue;
    for (const auto& s : p.status.instances) {
      if (s.name != ri.metadata.name) continue;
      if (auto plan = CatalogPlan(p, ri, s.recommended_plan)) return plan;
    }
    break;  // the first Auto policy decides
  }
  for (const auto& p : policies) {
    if (auto plan = CatalogPlan(p, ri, ri.spec.plan)) return plan;
  }
  return std::nullopt;
}

StatusOr<std::vector<api::Plan>> ScalingPolicyReconciler::Catalog(const api::ScalingPolicy& policy,
                                                                   const api::RedisInstance* via, TimePoint now) {
  const std::string& service = policy.spec.plan_catalog->heroku_addon_service;
  if (via == nullptr) {
    return FailedPreconditionError(fmt::format(
        "spec.planCatalog: no targeted Heroku RedisInstance whose API key could read the plans of {}", service));
  }
  if (!heroku_) return FailedPreconditionError("spec.planCatalog: this operator runs without Heroku support");
  const std::string cache_key = via->spec.heroku->api_url + " " + service;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = catalogs_.find(cache_key);
    if (it != catalogs_.end() && now - it->second.fetched < options_.catalog_ttl) return it->second.plans;
  }
  RF_ASSIGN_OR_RETURN(auto api, HerokuApiFor(*heroku_, *secrets_, via->metadata.namespace_, *via->spec.heroku));
  RF_ASSIGN_OR_RETURN(auto listed, api->ListPlans(service));
  heroku::CatalogFromHeroku catalog = heroku::ToCatalog(listed);
  if (catalog.plans.empty()) {
    return FailedPreconditionError(fmt::format("Heroku lists no plan of {} with a known capacity", service));
  }
  if (!catalog.unknown.empty()) {
    log_->Info("heroku plans left out of the catalogue",
               {{"policy", policy.metadata.key().ToString()}, {"service", service},
                {"plans", fmt::format("{}", fmt::join(catalog.unknown, ", "))}});
  }
  std::lock_guard<std::mutex> lock(mu_);
  catalogs_[cache_key] = CachedCatalog{catalog.plans, now};
  return catalog.plans;
}

ScalingPolicyReconciler::ScalingPolicyReconciler(std::shared_ptr<store::ObjectStore> store,
                                                 std::shared_ptr<store::SecretStore> secrets,
                                                 std::shared_ptr<UsageSource> usage,
                                                 std::shared_ptr<notify::Notifier> notifier,
                                                 std::shared_ptr<store::EventRecorder> events,
                                                 std::shared_ptr<const Clock> clock, std::shared_ptr<Logger> logger,
                                                 ScalingPolicyOptions options)
    : store_(std::move(store)), secrets_(std::move(secrets)), usage_(std::move(usage)),
      notifier_(std::move(notifier)), events_(std::move(events)), clock_(std::move(clock)),
      log_(logger ? std::move(logger) : Logger::Null()), options_(options) {}

notify::Notification ScalingPolicyReconciler::Note(const api::ScalingPolicy& policy, const api::RedisInstance& ri,
                                                   api::NotificationEvent event) const {
  notify::Notification n;
  n.event = event;
  n.policy = policy.metadata.key().ToString();
  n.policy_uid = policy.metadata.uid;
  n.instance = ri.metadata.key().ToString();
  n.time = clock_->Now();
  return n;
}

void ScalingPolicyReconciler::Forget(const api::Key& policy) {
  std::set<api::Key> instances;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tracked_.find(policy);
    if (it != tracked_.end()) {
      instances = std::move(it->second);
      tracked_.erase(it);
    }
  }
  for (const auto& k : instances) {
    usage_->Untrack(k);
    if (on_plan_changed_) on_plan_changed_(k);  // its effective plan is its spec again
  }
  if (notifier_) notifier_->RemovePolicy(policy.ToString());
}

ScalingPolicyReconciler::InstanceOutcome ScalingPolicyReconciler::Evaluate(
    const api::ScalingPolicy& policy, const api::RedisInstance& ri, const api::PolicyInstanceStatus* previous, TimePoint now) {
  const api::ScalingPolicySpec& spec = policy.spec;
  const bool auto_mode = spec.mode == api::ScalingMode::kAuto;
  InstanceOutcome out;
  api::PolicyInstanceStatus& s = out.status;
  if (previous != nullptr) s = *previous;
  s.name = ri.metadata.name;
  const api::Plan current = CurrentPlan(spec, ri);
  const std::string current_label = PlanLabel(current);
  const std::string seen_before = s.current_plan;
  s.current_plan = current_label;
  if (s.recommended_plan.empty()) s.recommended_plan = current_label;

  auto record = [&](std::string action, const std::string& from, const std::string& to, std::string reason) {
    api::Decision d;
    d.time = now;
    d.instance = ri.metadata.name;
    d.from = from;
    d.to = to;
    d.action = std::move(action);
    d.reason = std::move(reason);
    d.memory_percent = s.memory_percent;
    d.connections_percent = s.connections_percent;
    out.decision = std::move(d);
  };
  auto report = [&](api::NotificationEvent event, const std::string& from, const std::string& to,
                    const std::string& reason, TimePoint decided) {
    if (!notifier_) return;
    notify::Notification n = Note(policy, ri, event);
    n.from_plan = from;
    n.to_plan = to;
    n.reason = reason;
    n.memory_percent = s.memory_percent;
    n.connections_percent = s.connections_percent;
    n.time = decided;
    notifier_->ReportScale(n);
  };

  // A change this policy asked for: reached, failed, or still under way.
  if (auto_mode && s.recommended_plan != current_label) {
    const api::Condition* scaled = api::FindCondition(ri.status.conditions, "Scaled");
    const TimePoint asked = s.last_scale_time.value_or(now);
    const bool refused = scaled != nullptr && scaled->status == "False" &&
                         scaled->last_transition_time >= asked;
    const bool timed_out = now - asked >= options_.change_timeout;
    if (refused || timed_out) {
      const std::string reason =
          refused ? scaled->message
                  : fmt::format("{} not reached within {} s", s.recommended_plan,
                                std::chrono::duration_cast<std::chrono::seconds>(options_.change_timeout).count());
      const std::string wanted = s.recommended_plan;
      record("ScaleFailed", current_label, wanted, reason);
      s.recommended_plan = current_label;
      out.plan_changed = true;
      log_->Warn("plan change failed", {{"policy", policy.metadata.key().ToString()},
                                        {"instance", ri.metadata.key().ToString()},
                                        {"to", wanted},
                                        {"reason", reason}});
      report(api::NotificationEvent::kScaleFailed, current_label, wanted, reason, asked);
      return out;
    }
  } else if (auto_mode && !seen_before.empty() && seen_before != current_label && previous != nullptr &&
             previous->recommended_plan == current_label) {
    // The instance reached the plan asked for since the last look.
    const std::string reason = fmt::format("{} MiB, {} clients in effect", current.memory_mib, current.max_clients);
    record("ScaleSucceeded", seen_before, current_label, reason);
    log_->Info("plan change succeeded", {{"policy", policy.metadata.key().ToString()},
                                         {"instance", ri.metadata.key().ToString()},
                                         {"plan", current_label}});
    report(api::NotificationEvent::kScaleSucceeded, seen_before, current_label, reason,
           s.last_scale_time.value_or(now));
    // Go on: this cycle may also decide (the cooldown usually says no).
  }

  if (ri.status.phase != api::Phase::kReady || ri.status.endpoint.port <= 0) return out;

  // Metrics: collected by the UsageSource with the instance's password.
  StatusOr<std::string> password = UnavailableError("no password");
  std::string username;
  if (!ri.spec.password_secret_ref.name.empty()) {
    password = secrets_->Read(ri.metadata.namespace_, ri.spec.password_secret_ref);
  } else if (auto conn = secrets_->ReadConnection(ri.metadata.key())) {
    if (auto it = conn->find("password"); it != conn->end()) password = it->second;
    if (auto it = conn->find("username"); it != conn->end()) username = it->second;
  }
  if (!password) return out;
  UsageSource::Target target{ri.status.endpoint, *password, username,
                             std::chrono::seconds(std::max<int64_t>(1, spec.interval_seconds)), WindowFor(spec)};
  target.tls = ri.status.url.rfind("rediss://", 0) == 0;
  target.tls_verify = !(ri.spec.heroku && ri.spec.heroku->tls_insecure_skip_verify);
  if (Status t = usage_->Track(ri.metadata.key(), target); !t.ok()) {
    log_->Warn("cannot collect metrics", {{"instance", ri.metadata.key().ToString()}, {"error", t.ToString()}});
    return out;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    tracked_[policy.metadata.key()].insert(ri.metadata.key());
  }
  const std::vector<scaling::Sample> window = usage_->Window(ri.metadata.key());
  scaling::History history;
  history.last_action = s.last_scale_time;
  const scaling::Decision decision = scaling::Decide(spec, current, window, history, now);
  if (decision.evidence.samples > decision.evidence.failed_samples) {
    s.memory_percent = decision.evidence.memory_percent;
    s.connections_percent = decision.evidence.connections_percent;
  }
  if (notifier_) {
    notify::Notification n = Note(policy, ri, api::NotificationEvent::kThresholdBreach);
    n.from_plan = current_label;
    n.reason = decision.reason;
    n.memory_percent = s.memory_percent;
    n.connections_percent = s.connections_percent;
    notifier_->ObserveBreach(n, decision.breaching);
  }
  if (auto_mode && s.recommended_plan != current_label) return out;  // a change is under way
  if (decision.action == scaling::Action::kNone || decision.target_plan == current.name) return out;

  const std::string action(scaling::ActionName(decision.action));
  s.last_scale_time = now;
  s.recommended_plan = decision.target_plan;
  if (auto_mode) {
    record(action, current_label, decision.target_plan, decision.reason);
    out.plan_changed = true;
  } else {
    record("DryRun:" + action, current_label, decision.target_plan, decision.reason);
  }
  log_->Info("scaling decision", {{"policy", policy.metadata.key().ToString()},
                                  {"instance", ri.metadata.key().ToString()},
                                  {"action", out.decision->action},
                                  {"from", current_label},
                                  {"to", decision.target_plan},
                                  {"reason", decision.reason}});
  return out;
}

StatusOr<runtime::Result> ScalingPolicyReconciler::Reconcile(const api::Key& key) {
  auto got = store_->Get(api::Kind::kScalingPolicy, key);
  if (!got) {
    if (got.error().code() != StatusCode::kNotFound) return got.error();
    Forget(key);
    return runtime::Result{};
  }
  api::ScalingPolicy policy = std::get<api::ScalingPolicy>(std::move(*got));
  if (policy.metadata.deleting()) {
    Forget(key);
    return runtime::Result{};
  }
  const TimePoint now = clock_->Now();
  const int64_t gen = policy.metadata.generation;
  const auto interval = std::chrono::seconds(std::max<int64_t>(1, policy.spec.interval_seconds));
  api::ScalingPolicyStatus st = policy.status;
  st.observed_generation = gen;

  // Notification channels as the spec says now (the SMTP password read each cycle: rotations
  // apply without a restart).
  if (notifier_) {
    std::string smtp_password;
    if (policy.spec.notifications && policy.spec.notifications->email &&
        policy.spec.notifications->email->password_secret_ref) {
      auto pw = secrets_->Read(key.namespace_, *policy.spec.notifications->email->password_secret_ref);
      if (pw) smtp_password = *pw;
    }
    notifier_->SetChannels(key.ToString(), notify::BuildChannels(policy.spec.notifications.value_or(api::Notifications{}),
                                                                smtp_password, events_));
  }

  std::vector<api::RedisInstance> targets;
  RF_ASSIGN_OR_RETURN(auto all, store_->List(api::Kind::kRedisInstance));
  for (auto& o : all) {
    auto* ri = std::get_if<api::RedisInstance>(&o);
    if (ri != nullptr && !ri->metadata.deleting() && Targets(policy, *ri)) targets.push_back(std::move(*ri));
  }
  std::sort(targets.begin(), targets.end(), [](const api::RedisInstance& a, const api::RedisInstance& b) {
    return a.metadata.name < b.metadata.name;
  });

  // The catalogue: spec.plans, or the plans Heroku lists for spec.planCatalog (which then apply
  // to Heroku instances only).
  api::ScalingPolicy effective = policy;
  std::optional<Status> catalog_error;
  if (policy.spec.plans.empty() && policy.spec.plan_catalog) {
    const api::RedisInstance* via = nullptr;
    for (const auto& ri : targets)
      if (ri.spec.heroku && via == nullptr) via = &ri;
    auto plans = Catalog(policy, via, now);
    if (plans) {
      effective.spec.plans = std::move(*plans);
    } else {
      catalog_error = plans.error();
      log_->Warn("plan catalogue unavailable", {{"policy", key.ToString()}, {"error", plans.error().ToString()}});
    }
  }

  std::vector<api::PolicyInstanceStatus> instances;
  std::vector<api::Decision> new_decisions;
  std::vector<api::Key> changed;
  std::set<api::Key> targeted;
  int in_progress = 0;
  for (const auto& ri : targets) {
    targeted.insert(ri.metadata.key());
    const api::PolicyInstanceStatus* previous = nullptr;
    for (const auto& s : st.instances)
      if (s.name == ri.metadata.name) previous = &s;
    // A Heroku catalogue does not apply to a pooled instance; an add-on not read yet, or whose
    // plan capacity is unknown (status.memoryMiB 0), cannot be measured against a plan (its spec
    // memoryMiB says nothing about it).
    const bool catalog_only = (policy.spec.plans.empty() && !ri.spec.heroku) ||
                              (ri.spec.heroku && (ri.status.plan.empty() || ri.status.memory_mib <= 0));
    if (effective.spec.plans.empty() || catalog_only) {
      // No catalogue to decide with (or a Heroku catalogue for a pooled instance): keep what
      // was recorded, decide nothing.
      api::PolicyInstanceStatus s = previous ? *previous : api::PolicyInstanceStatus{};
      s.name = ri.metadata.name;
      instances.push_back(std::move(s));
      continue;
    }
    InstanceOutcome out = Evaluate(effective, ri, previous, now);
    if (policy.spec.mode == api::ScalingMode::kAuto && out.status.recommended_plan != out.status.current_plan)
      ++in_progress;
    if (out.decision) new_decisions.push_back(std::move(*out.decision));
    if (out.plan_changed) changed.push_back(ri.metadata.key());
    instances.push_back(std::move(out.status));
  }

  // Instances no longer targeted: stop collecting.
  std::vector<api::Key> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& mine = tracked_[key];
    for (auto it = mine.begin(); it != mine.end();) {
      if (targeted.count(*it) == 0) {
        dropped.push_back(*it);
        it = mine.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& k : dropped) {
    usage_->Untrack(k);
    changed.push_back(k);
  }

  st.instances = std::move(instances);
  for (auto& d : new_decisions) st.decisions.push_back(d);
  if (st.decisions.size() > options_.max_decisions) {
    st.decisions.erase(st.decisions.begin(),
                       st.decisions.begin() + static_cast<std::ptrdiff_t>(st.decisions.size() - options_.max_decisions));
  }
  if (catalog_error) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "CatalogUnavailable", catalog_error->message(), {}, gen}, now);
  } else if (effective.spec.plans.empty()) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "NoPlans",
                                     "spec.plans is empty: planCatalog plans come from Heroku and apply to Heroku "
                                     "instances only",
                                     {}, gen},
                      now);
  } else if (targets.empty()) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "NoTargets", "no RedisInstance matches spec.targetRef", {}, gen},
                      now);
  } else {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "True", "Evaluating",
                                     fmt::format("{} instance(s), {} change(s) in progress", targets.size(), in_progress),
                                     {}, gen},
                      now);
  }
  if (!(st == policy.status)) {
    api::ScalingPolicy updated = policy;
    updated.status = std::move(st);
    RF_RETURN_IF_ERROR(store_->UpdateStatus(updated));
  }
  // Only after the recommendation is stored do the instances act on it.
  for (const auto& d : new_decisions) {
    if (on_decision_) on_decision_(d.action);
    if (events_) {
      const bool bad = d.action == "ScaleFailed";
      events_->Record(policy.metadata, api::Kind::kScalingPolicy, bad ? store::Severity::kWarning : store::Severity::kNormal,
                      d.action.substr(0, d.action.find(':')) == "DryRun" ? "DryRun" : d.action,
                      fmt::format("{}: {} -> {}: {}", d.instance, d.from, d.to, d.reason));
    }
  }
  if (on_plan_changed_) {
    for (const auto& k : changed) on_plan_changed_(k);
  }
  return runtime::Result{interval};
}

}  // namespace redisfleet::controllers
