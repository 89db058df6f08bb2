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
  std::string emptied, first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    emptied = ReleaseLocked(instance);
    by_instance_[instance] = Record{pool_id, host, memory_mib};
    auto& u = by_host_[pool_id][host];
    if (u.instances == 0) first = pool_id;
    u.instances += 1;
    u.memory_mib += memory_mib;
  }
  Notify(emptied);
  if (first != emptied) Notify(first);
}

void UsageLedger::Release(const api::Key& instance) {
  std::string emptied;
  {
    std::lock_guard<std::mutex> lock(mu_);
    emptied = ReleaseLocked(instance);
  }
  Notify(emptied);
}

std::string UsageLedger::ReleaseLocked(const api::Key& instance) {
  unplaced_.erase(instance);
  auto it = by_instance_.find(instance);
  if (it == by_instance_.end()) return "";
  auto& u = by_host_[it->second.pool_id][it->second.host];
  u.instances -= 1;
  u.memory_mib -= it->second.memory_mib;
  std::string pool = u.instances == 0 ? it->second.pool_id : "";
  by_instance_.erase(it);
  return pool;
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
  std::unique_lock<std::mutex> lock(mu_);
  const std::string emptied = ReleaseLocked(instance);
  std::vector<placement::HostLoad> loads;
  loads.reserve(hosts.size());
  auto& pool = by_host_[pool_id];
  const auto cordoned = cordoned_.find(pool_id);
  for (const auto& [name, state] : hosts) {
    const HostUsage& u = pool[name];
    const bool off = cordoned != cordoned_.end() && cordoned->second.count(name) != 0;
    loads.push_back(placement::HostLoad{name, off ? api::HostState::kCordoned : state, u.instances,
                                        u.memory_mib});
  }
  auto chosen = placement::Choose(loads, limits, strategy, memory_mib);
  if (!chosen) {
    lock.unlock();
    Notify(emptied);
    return std::nullopt;
  }
  by_instance_[instance] = Record{pool_id, *chosen, memory_mib};
  auto& u = pool[*chosen];
  const bool first = u.instances == 0;
  u.instances += 1;
  u.memory_mib += memory_mib;
  lock.unlock();
  Notify(emptied);
  if (first && emptied != pool_id) Notify(pool_id);
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

bool UsageLedger::CordonIfEmpty(const std::string& pool_id, const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& set = cordoned_[pool_id];
  if (set.count(host) != 0) return true;
  auto p = by_host_.find(pool_id);
  if (p != by_host_.end()) {
    auto h = p->second.find(host);
    if (h != p->second.end() && h->second.instances > 0) return false;
  }
  set.insert(host);
  return true;
}

void UsageLedger::Uncordon(const std::string& pool_id, const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cordoned_.find(pool_id);
  if (it != cordoned_.end()) it->second.erase(host);
}

bool UsageLedger::Cordoned(const std::string& pool_id, const std::string& host) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cordoned_.find(pool_id);
  return it != cordoned_.end() && it->second.count(host) != 0;
}

void UsageLedger::ForgetHost(const std::string& pool_id, const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = cordoned_.find(pool_id);
  if (c != cordoned_.end()) c->second.erase(host);
  auto p = by_host_.find(pool_id);
  if (p != by_host_.end()) {
    auto h = p->second.find(host);
    if (h != p->second.end() && h->second.instances == 0) p->second.erase(h);
  }
}

void UsageLedger::MarkUnplaced(const std::string& pool_id, const api::Key& instance,
                               int64_t memory_mib) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& e = unplaced_[instance];
    changed = e.first != pool_id || e.second != memory_mib;
    e = {pool_id, memory_mib};
  }
  if (changed) Notify(pool_id);
}

std::vector<int64_t> UsageLedger::Unplaced(const std::string& pool_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [key, entry] : unplaced_)
    if (entry.first == pool_id) out.push_back(entry.second);
  return out;
}

}  // namespace redisfleet::controllers
