#pragma once
// What the reconcilers share about pools: the drivers (host provider + container runtime)
// of each pool, the embedded default pool, and the ledger of what is placed where.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/status.h"
#include "placement/placement.h"
#include "providers/container_runtime.h"
#include "providers/host_provider.h"
#include "store/object_store.h"

namespace redisfleet::controllers {

struct PoolDrivers {
  std::shared_ptr<providers::HostProvider> hosts;
  std::shared_ptr<providers::ContainerRuntime> runtime;
};

// Builds the drivers of a pool from its spec; only controller/main.cpp knows the concrete
// types. InvalidArgument/Unimplemented for a pool it cannot serve.
using DriverFactory = std::function<StatusOr<PoolDrivers>(const api::HostPool&)>;

// Caches drivers per pool, rebuilt when the pool's spec changes. Thread-safe.
class PoolRegistry {
 public:
  explicit PoolRegistry(DriverFactory factory) : factory_(std::move(factory)) {}
  StatusOr<PoolDrivers> Drivers(const api::HostPool& pool);
  void Forget(const api::Key& pool);

 private:
  struct Entry {
    api::HostPoolSpec spec;
    PoolDrivers drivers;
  };
  DriverFactory factory_;
  std::mutex mu_;
  std::map<api::Key, Entry> entries_;
};

// The embedded pool api::kEmbeddedPoolName in `namespace_` (see api/types.h).
api::HostPool EmbeddedLocalPool(const std::string& namespace_);

// The pool `name` in `namespace_` from the store, or the embedded default for "local".
// NotFound otherwise.
StatusOr<api::HostPool> ResolvePool(store::ObjectStore& store, const std::string& namespace_,
                                    const std::string& name);

providers::PoolRef PoolRefOf(const api::HostPool& pool);

// Which instance uses how much of which host. A cache of what the instances' statuses say,
// rebuilt from them at start (Prime); placement decisions reserve here atomically, so two
// workers never overfill a host. Thread-safe.
class UsageLedger {
 public:
  // Records `instance` on `host` of `pool_id` with `memory_mib` (moving it if it was elsewhere).
  void Set(const std::string& pool_id, const std::string& host, const api::Key& instance,
           int64_t memory_mib);
  void Release(const api::Key& instance);
  // Where `instance` is recorded: {pool_id, host}, if anywhere.
  std::optional<std::pair<std::string, std::string>> Where(const api::Key& instance) const;

  // Picks a host among `hosts` (name + state) with placement::Choose over the current loads
  // and records `instance` there, in one step. nullopt when nothing fits.
  std::optional<std::string> Place(const std::string& pool_id,
                                   const std::vector<std::pair<std::string, api::HostState>>& hosts,
                                   const placement::Limits& limits, api::PlacementStrategy strategy,
                                   const api::Key& instance, int64_t memory_mib);

  struct HostUsage {
    int64_t instances = 0;
    int64_t memory_mib = 0;
  };
  HostUsage Usage(const std::string& pool_id, const std::string& host) const;

 private:
  struct Record {
    std::string pool_id;
    std::string host;
    int64_t memory_mib = 0;
  };
  void ReleaseLocked(const api::Key& instance);

  mutable std::mutex mu_;
  std::map<api::Key, Record> by_instance_;
  std::map<std::string, std::map<std::string, HostUsage>> by_host_;  // pool -> host -> usage
};

}  // namespace redisfleet::controllers
