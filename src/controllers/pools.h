#pragma once
// What the reconcilers share about pools: the drivers (host provider + container runtime)
// of each pool, the embedded default pool, and the ledger of what is placed where.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
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

  // Scale-in: marks `host` so Place never chooses it, only when nothing is recorded on it, in
  // one step (no placement can slip in between the check and the mark). Returns whether the host
  // is cordoned. Uncordon undoes it; ForgetHost drops everything known of a deleted host.
  bool CordonIfEmpty(const std::string& pool_id, const std::string& host);
  void Uncordon(const std::string& pool_id, const std::string& host);
  bool Cordoned(const std::string& pool_id, const std::string& host) const;
  void ForgetHost(const std::string& pool_id, const std::string& host);

  // Called (outside the ledger's lock, on the caller's thread) with a pool id when something
  // its size depends on changed: a host got its first instance or lost its last, or an instance
  // found no room. Set it once, before the ledger is shared.
  void SetOnChange(std::function<void(const std::string& pool_id)> fn) { on_change_ = std::move(fn); }

  // Instances that found no room in their pool, with their memory: the pool grows for them.
  // Set/Place/Release clear an instance's entry.
  void MarkUnplaced(const std::string& pool_id, const api::Key& instance, int64_t memory_mib);
  std::vector<int64_t> Unplaced(const std::string& pool_id) const;

 private:
  struct Record {
    std::string pool_id;
    std::string host;
    int64_t memory_mib = 0;
  };
  // Returns the pool id whose host became empty, or "".
  std::string ReleaseLocked(const api::Key& instance);
  void Notify(const std::string& pool_id) const {
    if (on_change_ && !pool_id.empty()) on_change_(pool_id);
  }
  std::function<void(const std::string&)> on_change_;

  mutable std::mutex mu_;
  std::map<api::Key, Record> by_instance_;
  std::map<std::string, std::map<std::string, HostUsage>> by_host_;  // pool -> host -> usage
  std::map<std::string, std::set<std::string>> cordoned_;             // pool -> hosts
  std::map<api::Key, std::pair<std::string, int64_t>> unplaced_;      // instance -> {pool, MiB}
};

}  // namespace redisfleet::controllers
