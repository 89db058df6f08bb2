#pragma once
// Shared set-up for controller tests: a MemoryStore, MemorySecretStore, FakeClock and a pool
// factory that serves every pool from in-memory hosts and one MemoryRuntime.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/logging.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "providers/memory/memory_runtime.h"
#include "store/file_secrets.h"
#include "store/memory_store.h"

namespace redisfleet::controllers {

class ControllerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<FakeClock>();
    store_ = std::make_shared<store::MemoryStore>(clock_);
    secrets_ = std::make_shared<store::MemorySecretStore>();
    runtime_ = std::make_shared<providers::MemoryRuntime>();
    ledger_ = std::make_shared<UsageLedger>();
    Rebuild();
  }

  // A fresh set of reconcilers over the same store and world: what a restart gives.
  void Rebuild() {
    ledger_ = std::make_shared<UsageLedger>();
    pools_ = std::make_shared<PoolRegistry>([this](const api::HostPool& pool) -> StatusOr<PoolDrivers> {
      ++factory_calls_;
      if (pool.metadata.labels.count("elastic") != 0) {
        if (!elastic_) elastic_ = std::make_shared<providers::ElasticMemoryHostProvider>(clock_);
        return PoolDrivers{elastic_, runtime_};
      }
      std::vector<providers::Host> hosts;
      for (int i = 1; i <= HostsFor(pool); ++i) {
        providers::Host h;
        h.name = "h" + std::to_string(i);
        h.provider_id = h.name;
        h.address = "127.0.0." + std::to_string(i);
        hosts.push_back(h);
      }
      auto& provider = host_providers_[pool.metadata.name];
      if (!provider) provider = std::make_shared<providers::MemoryHostProvider>(hosts);
      return PoolDrivers{provider, runtime_};
    });
    ri_ = std::make_unique<RedisInstanceReconciler>(store_, secrets_, pools_, ledger_, nullptr, nullptr,
                                                    clock_, std::make_shared<SeededRandom>(7),
                                                    Logger::Null());
    HostPoolOptions hp_opts;
    hp_opts.orphan_grace = std::chrono::seconds(60);
    hp_opts.orphan_scan_interval = std::chrono::seconds(0);
    hp_opts.orphan_host_scan_interval = std::chrono::seconds(0);
    hp_opts.on_hosts_changed = [this](const api::Key& pool) { hosts_changed_.push_back(pool.name); };
    hp_ = std::make_unique<HostPoolReconciler>(store_, pools_, ledger_, clock_, Logger::Null(), hp_opts);
  }

  // Host count of a test pool: the "hosts" label, default 1.
  static int HostsFor(const api::HostPool& pool) {
    auto it = pool.metadata.labels.find("hosts");
    return it == pool.metadata.labels.end() ? 1 : std::stoi(it->second);
  }

  api::HostPool Pool(const std::string& name, int hosts = 1, int64_t max_instances = 40,
                     int64_t memory = 1024) {
    api::HostPool p;
    p.metadata.name = name;
    p.metadata.labels["hosts"] = std::to_string(hosts);
    p.spec.capacity = {max_instances, memory};
    return p;
  }

  api::RedisInstance Instance(const std::string& name, const std::string& pool = "pool",
                              int64_t memory = 64) {
    api::RedisInstance ri;
    ri.metadata.name = name;
    ri.spec.host_pool = pool;
    ri.spec.memory_mib = memory;
    return ri;
  }

  api::RedisInstance GetRI(const std::string& name) {
    auto got = store_->Get(api::Kind::kRedisInstance, api::Key{"default", name});
    EXPECT_TRUE(got.has_value()) << name;
    return std::get<api::RedisInstance>(*got);
  }

  api::HostPool GetHP(const std::string& name) {
    auto got = store_->Get(api::Kind::kHostPool, api::Key{"default", name});
    EXPECT_TRUE(got.has_value()) << name;
    return std::get<api::HostPool>(*got);
  }

  StatusOr<runtime::Result> ReconcileRI(const std::string& name) {
    return ri_->Reconcile(api::Key{"default", name});
  }
  StatusOr<runtime::Result> ReconcileHP(const std::string& name) {
    return hp_->Reconcile(api::Key{"default", name});
  }

  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<store::MemoryStore> store_;
  std::shared_ptr<store::MemorySecretStore> secrets_;
  std::shared_ptr<providers::MemoryRuntime> runtime_;
  std::shared_ptr<UsageLedger> ledger_;
  std::shared_ptr<PoolRegistry> pools_;
  std::unique_ptr<RedisInstanceReconciler> ri_;
  std::unique_ptr<HostPoolReconciler> hp_;
  int factory_calls_ = 0;
  // The hosts of each pool (by pool name), kept across Rebuild() like real machines.
  std::map<std::string, std::shared_ptr<providers::MemoryHostProvider>> host_providers_;
  std::vector<std::string> hosts_changed_;  // pools whose on_hosts_changed fired
  // The machines of pools labelled "elastic" (droplet-like), kept across Rebuild().
  std::shared_ptr<providers::ElasticMemoryHostProvider> elastic_;
};

}  // namespace redisfleet::controllers
