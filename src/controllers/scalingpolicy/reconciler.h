#pragma once
// The ScalingPolicy reconciler decides plans; the RedisInstance reconciler acts on them.
//
// Every spec.intervalSeconds a policy looks at each RedisInstance it targets (spec.targetRef:
// a name, or matchLabels, in the policy's namespace): it makes sure the instance's metrics are
// collected (UsageSource), runs scaling::Decide on the window, and records the outcome in its
// own status: per instance the current and recommended plan and the latest use, and an audit
// trail of the last 50 decisions. In mode Auto a recommendation becomes the instance's
// effective plan (EffectivePlan below), which the RedisInstance reconciler applies in place;
// the policy then watches the instance reach it (ScaleSucceeded) or report that it could not
// (ScaleFailed: the Scaled condition False, or no progress within `change_timeout`), and the
// recommendation falls back to the plan in effect. In mode DryRun decisions are recorded with
// action "DryRun:<action>" and never become effective. While a change is in progress no new
// decision is made. Notifications go through notify::Notifier (one per breach episode, one per
// scale outcome). Heroku instances are decided like the others once their add-on was read
// (status.plan and a known capacity); their metrics are collected over TLS when the URL is
// rediss:// (verified unless spec.heroku.tlsInsecureSkipVerify). A spec.planCatalog policy
// reads its plans from Heroku (SetHerokuApi, cached catalog_ttl) and decides for Heroku
// instances only; when they cannot be read its Ready condition says CatalogUnavailable and it
// decides nothing.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "controllers/redisinstance/heroku.h"
#include "notify/notifier.h"
#include "runtime/reconciler.h"
#include "scaling/engine.h"
#include "store/event_recorder.h"
#include "store/object_store.h"
#include "store/secrets.h"

namespace redisfleet::controllers {

// Where the samples of an instance come from (redis::Collector in production). Thread-safe.
class UsageSource {
 public:
  struct Target {
    api::Endpoint endpoint;
    std::string password;  // never logged
    std::string username;  // an ACL user (from the add-on's URL); empty = the default user
    std::chrono::seconds interval{10};
    std::size_t window = 0;  // samples to keep
    bool tls = false;         // rediss://
    bool tls_verify = true;   // false: spec.heroku.tlsInsecureSkipVerify
    friend bool operator==(const Target&, const Target&) = default;
  };
  virtual ~UsageSource() = default;
  // Starts or updates collection for `instance`; cheap when nothing changed.
  virtual Status Track(const api::Key& instance, const Target& target) = 0;
  virtual void Untrack(const api::Key& instance) = 0;
  // Oldest first; failed scrapes are ok=false samples. Empty when not tracked (yet).
  virtual std::vector<scaling::Sample> Window(const api::Key& instance) = 0;
};

// The policies that target `ri` (same namespace; by name or by all of matchLabels), sorted by
// name, deleting ones left out.
std::vector<api::ScalingPolicy> PoliciesFor(const store::ObjectStore& store, const api::RedisInstance& ri);

// The plan `ri` should run: the recommendation of the first Auto policy targeting it, when it
// names a plan of that policy's catalogue; else spec.plan when that names a plan of a targeting
// policy's catalogue; else nullopt (spec.memoryMiB / spec.maxClients apply). For a Heroku
// instance and a policy with spec.planCatalog, a plan of the catalogue is any heroku-redis plan
// whose capacity is known (heroku::KnownPlanCapacity; no I/O here).
std::optional<api::Plan> EffectivePlan(const store::ObjectStore& store, const api::RedisInstance& ri);

struct ScalingPolicyOptions {
  // A recommended plan the instance has not reached by then is a failed change.
  std::chrono::milliseconds change_timeout{std::chrono::minutes(5)};
  std::size_t max_decisions = 50;
  // How long the plans of a spec.planCatalog service read from Heroku are reused.
  std::chrono::milliseconds catalog_ttl{std::chrono::hours(1)};
};

class ScalingPolicyReconciler final : public runtime::Reconciler {
 public:
  // `notifier` and `events` may be null. `on_plan_changed` is called with an instance whose
  // effective plan the policy changed (wire it to the RedisInstance controller's queue).
  ScalingPolicyReconciler(std::shared_ptr<store::ObjectStore> store, std::shared_ptr<store::SecretStore> secrets,
                          std::shared_ptr<UsageSource> usage, std::shared_ptr<notify::Notifier> notifier,
                          std::shared_ptr<store::EventRecorder> events, std::shared_ptr<const Clock> clock,
                          std::shared_ptr<Logger> logger, ScalingPolicyOptions options = {});

  StatusOr<runtime::Result> Reconcile(const api::Key& key) override;

  void SetOnPlanChanged(std::function<void(const api::Key&)> f) { on_plan_changed_ = std::move(f); }
  // Called with the action of every decision recorded ("ScaleUp", "ScaleDown", "ScaleFailed",
  // "DryRun:ScaleUp", ...), e.g. for redisfleet_scaling_decisions_total.
  void SetOnDecision(std::function<void(const std::string& action)> f) { on_decision_ = std::move(f); }
  // Reads spec.planCatalog plans from Heroku (with the API key of a targeted Heroku instance).
  // Without it a planCatalog policy reports the catalogue unavailable and decides nothing.
  void SetHerokuApi(std::shared_ptr<HerokuApiFactory> heroku) { heroku_ = std::move(heroku); }

 private:
  struct InstanceOutcome {
    api::PolicyInstanceStatus status;
    std::optional<api::Decision> decision;
    bool plan_changed = false;
  };
  InstanceOutcome Evaluate(const api::ScalingPolicy& policy, const api::RedisInstance& ri,
                           const api::PolicyInstanceStatus* previous, TimePoint now);
  notify::Notification Note(const api::ScalingPolicy& policy, const api::RedisInstance& ri,
                            api::NotificationEvent event) const;
  void Forget(const api::Key& policy);
  // The plans of spec.planCatalog's service, cached for options_.catalog_ttl. `via`: a targeted
  // Heroku instance whose API URL and key are used.
  StatusOr<std::vector<api::Plan>> Catalog(const api::ScalingPolicy& policy, const api::RedisInstance* via,
                                           TimePoint now);

  std::shared_ptr<store::ObjectStore> store_;
  std::shared_ptr<store::SecretStore> secrets_;
  std::shared_ptr<UsageSource> usage_;
  std::shared_ptr<notify::Notifier> notifier_;
  std::shared_ptr<store::EventRecorder> events_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Logger> log_;
  ScalingPolicyOptions options_;
  std::function<void(const api::Key&)> on_plan_changed_;
  std::function<void(const std::string&)> on_decision_;
  std::shared_ptr<HerokuApiFactory> heroku_;

  std::mutex mu_;
  std::map<api::Key, std::set<api::Key>> tracked_;  // policy -> instances it collects for
  struct CachedCatalog {
    std::vector<api::Plan> plans;
    TimePoint fetched;
  };
  std::map<std::string, CachedCatalog> catalogs_;  // "<apiURL> <service>" -> plans
};

}  // namespace redisfleet::controllers
