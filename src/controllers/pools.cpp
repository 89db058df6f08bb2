#include "controllers/pools.h"

namespace redisfleet::controllers {

StatusOr<PoolDrivers> PoolRegistry::Drivers(const api::HostPool& pool) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = pool.metadata.key();
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.spec == pool.spec) return it->second.drivers;
  auto built = factory_(pool);
  if (!built) return built.error();
  entries_[key] = Entry{pool.spec, *built};
  return *built;
}

void PoolRegistry::Forget(const api::Key& pool) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(pool);
}

api::HostPool EmbeddedLocalPool(const std::string& namespace_) {
  api::HostPool pool;
  pool.metadata.name = std::string(api::kEmbeddedPoolName);
  pool.metadata.namespace_ = namespace_;
  pool.metadata.uid = "embedded-local";
  pool.spec.provider = api::HostProviderType::kLocal;
  pool.spec.runtime = api::RuntimeType::kProcess;
  pool.spec.min_hosts = 1;
  pool.spec.max_hosts = 1;
  pool.spec.standby_hosts = 0;
  return pool;
}

StatusOr<api::HostPool> ResolvePool(store::ObjectStore& store, const std::string& namespace_,
                                    const std::string& name) {
  auto got = store.Get(api::Kind::kHostPool, api::Key{namespace_, name});
  if (got) return std::get<api::HostPool>(std::move(*got));
  if (got.error().code() == StatusCode::kNotFound && name == api::kEmbeddedPoolName) {
    return EmbeddedLocalPool(namespace_);
  }
  return got.error();
}

providers::PoolRef PoolRefOf(const api::HostPool& pool) {
  return providers::PoolRef{pool.metadata.namespace_, pool.metadata.name};
}

void UsageLedger::Set(const std::string& pool_id, const std::string& host,
                      const api::Key& instance, int64_t memory_mib) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(instance);
  by_instance_[instance] = Record{pool_id, host, memory_mib};
  auto& u = by_host_[pool_id][host];
  u.instances += 1;
  u.memory_mib += memory_mib;
}

void UsageLedger::Release(const api::Key& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(instance);
}

void UsageLedger::ReleaseLocked(const api::Key& instance) {
  auto it = by_instance_.find(instance);
  if (it == by_instance_.end()) return;
  auto& u = by_host_[it->second.pool_id][it->second.host];
  u.instances -= 1;
  u.memory_mib -= it->second.memory_mib;
  by_instance_.erase(it);
}

std::optional<std::pair<std::string, std::string>> UsageLedger::Where(const api::Key& instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_instance_.find(instance);
  if (it == by_instance_.end()) return std::nullopt;
  return std::make_pair(it->second.pool_id, it->second.host);
}

std::optional<std::string> UsageLedger::Place(
    const std::string& pool_id, const std::vector<std::pair<std::string, api::HostState>>& hosts,
    const placement::Limits& limits, api::PlacementStrategy strategy, const api::Key& instance,
    int64_t memory_mib) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(instance);
  std::vector<placement::HostLoad> loads;
  loads.reserve(hosts.size());
  auto& pool = by_host_[pool_id];
  for (const auto& [name, state] : hosts) {
    const HostUsage& u = pool[name];
    loads.push_back(placement::HostLoad{name, state, u.instances, u.memory_mib});
  }
  auto chosen = placement::Choose(loads, limits, strategy, memory_mib);
  if (!chosen) return std::nullopt;
  by_instance_[instance] = Record{pool_id, *chosen, memory_mib};
  auto& u = pool[*chosen];
  u.instances += 1;
  u.memory_mib += memory_mib;
  return chosen;
}

UsageLedger::HostUsage UsageLedger::Usage(const std::string& pool_id, const std::string& host) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto p = by_host_.find(pool_id);
  if (p == by_host_.end()) return {};
  auto h = p->second.find(host);
  if (h == p->second.end()) return {};
  return h->second;
}

}  // namespace redisfleet::controllers
