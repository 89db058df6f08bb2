#pragma once
// HostPoolReconciler: observes a pool's hosts through its HostProvider, publishes them with
// their state and usage in status, removes orphaned Redis servers (labelled as ours, owned by
// no RedisInstance) after a grace period, and holds the pool (finalizer) while instances still
// use it. Writes status only.

#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "controllers/pools.h"
#include "runtime/reconciler.h"
#include "store/object_store.h"

namespace redisfleet::controllers {

struct HostPoolOptions {
  std::string operator_id = "redis-fleet";
  std::chrono::milliseconds resync{15000};
  // A Redis labelled as ours that no RedisInstance owns is removed once seen this long.
  std::chrono::milliseconds orphan_grace{60000};
  // How often the pool's hosts are searched for orphans.
  std::chrono::milliseconds orphan_scan_interval{30000};
  // Called (on the worker thread) when a host of the pool changed state, e.g. became Lost, so
  // the pool's instances are looked at now rather than at their next health check.
  std::function<void(const api::Key& pool)> on_hosts_changed;
};

class HostPoolReconciler final : public runtime::Reconciler {
 public:
  HostPoolReconciler(std::shared_ptr<store::ObjectStore> store, std::shared_ptr<PoolRegistry> pools,
                     std::shared_ptr<UsageLedger> ledger, std::shared_ptr<const Clock> clock,
                     std::shared_ptr<Logger> logger, HostPoolOptions options = {});

  StatusOr<runtime::Result> Reconcile(const api::Key& key) override;

 private:
  // Removes orphans on `hosts` whose grace period has passed.
  Status CollectOrphans(const api::HostPool& pool, const PoolDrivers& drivers,
                        const std::vector<providers::Host>& hosts);
  StatusOr<int64_t> CountUsers(const api::HostPool& pool);

  std::shared_ptr<store::ObjectStore> store_;
  std::shared_ptr<PoolRegistry> pools_;
  std::shared_ptr<UsageLedger> ledger_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Logger> log_;
  HostPoolOptions options_;

  std::mutex mu_;
  // pool id -> runtime id -> first seen as an orphan (a grace timer only; a restart resets it,
  // which only delays removal).
  std::map<std::string, std::map<std::string, TimePoint>> orphan_seen_;
  std::map<api::Key, TimePoint> last_scan_;
};

}  // namespace redisfleet::controllers
