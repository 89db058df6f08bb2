#pragma once
// How store events reach the controllers (one place for the binary and the benchmarks): each
// kind resyncs from the store; an instance event wakes the instance, its pool and the policies
// that target it; a pool event wakes the pool and its instances; a policy event wakes the policy
// and the instances of its namespace (their effective plan may change with it).

#include <memory>

#include "api/types.h"
#include "controllers/pools.h"
#include "runtime/controller.h"
#include "store/object_store.h"

namespace redisfleet::controllers {

struct ControllerSet {
  std::shared_ptr<runtime::Controller> redis_instances;
  std::shared_ptr<runtime::Controller> host_pools;
  std::shared_ptr<runtime::Controller> scaling_policies;  // may be null
};

// Sets the resync sources and registers the store watches. Call before the store delivers
// events that matter (its initial events are replayed by the resyncs anyway).
void ConnectControllers(const std::shared_ptr<store::ObjectStore>& store, const ControllerSet& controllers);

// Wakes a pool when its usage changes in a way its size depends on (a host got its first
// instance or lost its last; an instance found no room): status-only writes of instances raise
// no store event, and the pool must not wait for its resync to replace a used standby host.
void WakePoolsOnUsage(UsageLedger& ledger, const std::shared_ptr<runtime::Controller>& pools);

// Wakes every instance placed on `pool` (HostPoolOptions::on_hosts_changed).
void EnqueueInstancesOfPool(store::ObjectStore& store, runtime::Controller& instances, const api::Key& pool);

}  // namespace redisfleet::controllers
