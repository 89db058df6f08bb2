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
  // Elastic pools (the provider creates machines): a machine carrying our ownership tag whose
  // pool no longer exists is deleted once seen this long; the search runs this often.
  std::chrono::milliseconds orphan_host_grace{600000};
  std::chrono::milliseconds orphan_host_scan_interval{600000};
  // Look again this soon while hosts are being created, cordoned or deleted.
  std::chrono::milliseconds scaling_requeue{2000};
  // Called after every reconcile that wrote or confirmed a pool's status (metrics).
  std::function<void(const api::HostPool& pool)> on_status;
  // Called when a pool is gone for good (metrics).
  std::function<void(const api::Key& pool)> on_forgotten;
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
  // Elastic pools: decides (autoscale.h) and acts: records intents and Deleting states in
  // status before the provider calls, then creates, cordons, deletes. `write` persists status.
  // Sets *busy while hosts are on their way in or out.
  Status ScaleHosts(const api::HostPool& pool, const PoolDrivers& drivers,
                    const std::vector<providers::Host>& listed, api::HostPoolStatus& st,
                    const std::function<Status(const api::HostPoolStatus&)>& write, bool* busy);
  // True when nothing of ours runs on `host` (the last check before deleting it).
  StatusOr<bool> HostIsEmpty(const PoolDrivers& drivers, const providers::Host& host,
                             const std::string& pool_id);
  // Deletes the machines of a deleted elastic pool; true once none is left.
  StatusOr<bool> DeleteAllHosts(api::HostPool& pool, const PoolDrivers& drivers,
                                const std::function<Status(const api::HostPoolStatus&)>& write);
  // Deletes machines tagged as ours whose pool no longer exists, after a grace period.
  Status CollectOrphanHosts(const api::HostPool& pool, const PoolDrivers& drivers);
  void ForgetPool(const api::Key& key);
  std::string NextHostName(const api::HostPool& pool, const api::HostPoolStatus& st,
                           const std::vector<providers::Host>& listed);

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
  std::map<api::Key, TimePoint> last_host_scan_;
  // pool -> host -> empty (and Ready) since; a restart resets it, which only delays scale-in.
  std::map<api::Key, std::map<std::string, TimePoint>> empty_since_;
  // pool -> highest host number handed out, so a deleted host's name is not reused by this run.
  std::map<api::Key, int64_t> host_seq_;
  // provider id -> first seen as a machine of no pool.
  std::map<std::string, TimePoint> orphan_hosts_seen_;
};

}  // namespace redisfleet::controllers
