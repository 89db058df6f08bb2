#pragma once
// RedisInstanceReconciler: places a pooled RedisInstance on a host of its pool, runs it there
// through the pool's ContainerRuntime, keeps memory/maxclients converged in place, expires it
// after ttlSeconds, and on deletion stops it and removes its data (finalizer
// redisfleet.io/cleanup). A RedisInstance with spec.heroku is converged on its add-on by the
// HerokuActuator (plan changes, URL rotation); deleting it never deletes the add-on, only the
// connection secret and the finalizer. Writes status only.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/heroku.h"
#include "runtime/reconciler.h"
#include "store/event_recorder.h"
#include "store/object_store.h"
#include "store/secrets.h"

namespace redisfleet::controllers {

// Reads a Redis's current use; implemented with redis/ in production. Thread-safe.
class RedisProber {
 public:
  struct Usage {
    int64_t used_memory_bytes = 0;
    int64_t connected_clients = 0;
  };
  virtual ~RedisProber() = default;
  virtual StatusOr<Usage> Probe(const api::Endpoint& endpoint, const std::string& password) = 0;
};

// Counts instances by phase for the metrics, updated as reconciles write status. Thread-safe;
// `publish` runs under the counter's lock (in order), so it must be quick and must not call back.
class PhaseCounter {
 public:
  explicit PhaseCounter(std::function<void(const std::map<std::string, int64_t>&)> publish)
      : publish_(std::move(publish)) {}
  void Set(const api::Key& key, std::optional<api::Phase> phase);
  std::map<std::string, int64_t> Counts() const;

 private:
  mutable std::mutex mu_;
  std::map<api::Key, api::Phase> phases_;
  // Kept incrementally: Set is called on every status write, so it must not scan all instances.
  // A phase whose count drops to zero stays in the map with 0 (the gauge then reads 0).
  std::map<std::string, int64_t> counts_;
  std::function<void(const std::map<std::string, int64_t>&)> publish_;
};

struct RedisInstanceOptions {
  std::string operator_id = "redis-fleet";
  // How often a Ready instance is re-checked (server alive, usage) without any event.
  std::chrono::milliseconds health_interval{30000};
  // How soon a Pending instance (no pool, no room, missing secret) is tried again.
  std::chrono::milliseconds pending_retry{10000};
  // Length of generated passwords (alphanumeric from a CSPRNG).
  std::size_t password_length = 40;
};

class RedisInstanceReconciler final : public runtime::Reconciler {
 public:
  RedisInstanceReconciler(std::shared_ptr<store::ObjectStore> store,
                          std::shared_ptr<store::SecretStore> secrets,
                          std::shared_ptr<PoolRegistry> pools, std::shared_ptr<UsageLedger> ledger,
                          std::shared_ptr<RedisProber> prober,  // may be null
                          std::shared_ptr<PhaseCounter> phases,  // may be null
                          std::shared_ptr<const Clock> clock, std::shared_ptr<RandomSource> random,
                          std::shared_ptr<Logger> logger, RedisInstanceOptions options = {});

  StatusOr<runtime::Result> Reconcile(const api::Key& key) override;

  // Records every placed instance in the ledger. Call once before reconciling starts.
  Status Prime();
  // Where condition changes are told as events (Kubernetes Events, or log lines). Set before
  // reconciling starts; none by default.
  void SetEventRecorder(std::shared_ptr<store::EventRecorder> events) { events_ = std::move(events); }
  // The plan an instance should run when something other than its spec decides it (an Auto
  // ScalingPolicy: controllers::EffectivePlan); nullopt = spec.memoryMiB / spec.maxClients.
  // Set before reconciling starts; none by default.
  using PlanSource = std::function<std::optional<api::Plan>(const api::RedisInstance&)>;
  void SetPlanSource(PlanSource source) { plan_source_ = std::move(source); }
  // Serves RedisInstances with spec.heroku; without one they stay Pending (reason Unsupported).
  // Set before reconciling starts.
  void SetHerokuActuator(std::shared_ptr<HerokuActuator> heroku) { heroku_ = std::move(heroku); }

 private:
  struct Target;  // the resolved pool, drivers and host of one instance

  StatusOr<runtime::Result> Finalize(api::RedisInstance ri);
  StatusOr<runtime::Result> ReconcileHeroku(api::RedisInstance ri, api::RedisInstanceStatus st);
  // Stops and removes the instance's server wherever it runs. OK when there is none.
  Status StopServer(const api::RedisInstance& ri);
  // The instance's password: from spec.passwordSecretRef, else its connection secret (copied to
  // `*connection` when read), else a new one (`*generated`).
  StatusOr<std::string> Password(const api::RedisInstance& ri, bool* generated,
                                 std::optional<std::map<std::string, std::string>>* connection);
  // Adds our finalizer when it is missing; keeps `ri` current.
  Status EnsureFinalizer(api::RedisInstance& ri);
  // Writes status when it differs from what the store has; keeps `ri` current.
  Status WriteStatus(api::RedisInstance& ri, api::RedisInstanceStatus status);
  void SetReady(api::RedisInstanceStatus& st, bool ready, std::string reason, std::string message,
                int64_t generation);
  void SetPlaced(api::RedisInstanceStatus& st, bool placed, std::string reason, std::string message,
                 int64_t generation);
  std::map<std::string, std::string> Labels(const api::RedisInstance& ri, const std::string& pool_id) const;
  // The host where a Redis of `uid` already runs although no status recorded it (a crash
  // between creating it and writing status). The pool's hosts are listed once per process (the
  // first time it places there); later creations are this process's own and recorded. Only
  // hosts that are ready now count.
  StatusOr<std::optional<std::string>> PreexistingHost(const std::string& pool_id,
                                                       const PoolDrivers& drivers,
                                                       const std::vector<providers::Host>& hosts,
                                                       const std::string& uid);
  // Pending with reason QuotaExceeded when `ri` is beyond its requester's first N instances of
  // the pool (by creation time, then name). nullopt when within quota or without a requester.
  StatusOr<std::optional<std::string>> OverQuota(const api::RedisInstance& ri,
                                                 const api::HostPool& pool);

  std::shared_ptr<store::ObjectStore> store_;
  std::shared_ptr<store::SecretStore> secrets_;
  std::shared_ptr<PoolRegistry> pools_;
  std::shared_ptr<UsageLedger> ledger_;
  std::shared_ptr<RedisProber> prober_;
  std::shared_ptr<PhaseCounter> phases_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<RandomSource> random_;
  std::shared_ptr<Logger> log_;
  RedisInstanceOptions options_;
  std::shared_ptr<store::EventRecorder> events_;
  PlanSource plan_source_;
  std::shared_ptr<HerokuActuator> heroku_;

  std::mutex inventory_mu_;
  std::map<std::string, std::map<std::string, std::string>> inventory_;  // pool id -> uid -> host
};

}  // namespace redisfleet::controllers
