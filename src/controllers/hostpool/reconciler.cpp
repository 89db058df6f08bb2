#include "controllers/hostpool/reconciler.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace redisfleet::controllers {
namespace {

bool HasFinalizer(const api::ObjectMeta& m) {
  return std::find(m.finalizers.begin(), m.finalizers.end(), api::kFinalizer) != m.finalizers.end();
}

}  // namespace

HostPoolReconciler::HostPoolReconciler(std::shared_ptr<store::ObjectStore> store,
                                       std::shared_ptr<PoolRegistry> pools,
                                       std::shared_ptr<UsageLedger> ledger,
                                       std::shared_ptr<const Clock> clock,
                                       std::shared_ptr<Logger> logger, HostPoolOptions options)
    : store_(std::move(store)), pools_(std::move(pools)), ledger_(std::move(ledger)),
      clock_(std::move(clock)), log_(std::move(logger)), options_(std::move(options)) {}

StatusOr<int64_t> HostPoolReconciler::CountUsers(const api::HostPool& pool) {
  RF_ASSIGN_OR_RETURN(auto all, store_->List(api::Kind::kRedisInstance));
  int64_t n = 0;
  for (const auto& o : all) {
    const auto& ri = std::get<api::RedisInstance>(o);
    if (ri.metadata.namespace_ == pool.metadata.namespace_ && ri.spec.host_pool == pool.metadata.name)
      ++n;
  }
  return n;
}

StatusOr<runtime::Result> HostPoolReconciler::Reconcile(const api::Key& key) {
  auto got = store_->Get(api::Kind::kHostPool, key);
  if (!got) {
    if (got.error().code() != StatusCode::kNotFound) return got.error();
    pools_->Forget(key);
    return runtime::Result{};
  }
  api::HostPool pool = std::get<api::HostPool>(std::move(*got));
  const int64_t gen = pool.metadata.generation;
  const TimePoint now = clock_->Now();
  api::HostPoolStatus st = pool.status;
  st.observed_generation = gen;

  auto write = [&](api::HostPoolStatus s) -> Status {
    if (s == pool.status) return Status::Ok();
    api::HostPool updated = pool;
    updated.status = std::move(s);
    return store_->UpdateStatus(updated);
  };

  if (pool.metadata.deleting()) {
    RF_ASSIGN_OR_RETURN(int64_t users, CountUsers(pool));
    if (users > 0) {
      api::SetCondition(st.conditions,
                        api::Condition{"Ready", "False", "InUse",
                                       fmt::format("{} RedisInstance(s) still use this pool", users),
                                       {}, gen},
                        now);
      RF_RETURN_IF_ERROR(write(std::move(st)));
      return runtime::Result{options_.resync};
    }
    std::vector<std::string> fins;
    for (const auto& f : pool.metadata.finalizers)
      if (f != api::kFinalizer) fins.push_back(f);
    RF_RETURN_IF_ERROR(store_->SetFinalizers(pool, fins));
    pools_->Forget(key);
    log_->Info("pool deleted", {{"key", key.ToString()}});
    return runtime::Result{};
  }

  if (!HasFinalizer(pool.metadata)) {
    auto fins = pool.metadata.finalizers;
    fins.emplace_back(api::kFinalizer);
    RF_RETURN_IF_ERROR(store_->SetFinalizers(pool, fins));
    RF_ASSIGN_OR_RETURN(auto fresh, store_->Get(api::Kind::kHostPool, key));
    pool = std::get<api::HostPool>(std::move(fresh));
  }

  auto drivers = pools_->Drivers(pool);
  if (!drivers) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "InvalidConfiguration",
                                     drivers.error().message(), {}, gen},
                      now);
    RF_RETURN_IF_ERROR(write(std::move(st)));
    return runtime::Result{};  // nothing to do until the spec changes
  }
  const providers::PoolRef ref = PoolRefOf(pool);
  auto hosts = drivers->hosts->List(ref);
  if (!hosts) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "ProviderUnavailable",
                                     hosts.error().message(), {}, gen},
                      now);
    RF_RETURN_IF_ERROR(write(std::move(st)));
    return hosts.error();
  }

  std::vector<api::HostStatus> out;
  int64_t ready = 0, standby = 0;
  bool hosts_changed = false;
  for (const auto& h : *hosts) {
    api::HostStatus hs;
    hs.name = h.name;
    hs.provider_id = h.provider_id;
    hs.address = h.address;
    hs.state = h.ready ? api::HostState::kReady : api::HostState::kProvisioning;
    hs.since = now;
    bool known = false;
    for (const auto& prev : pool.status.hosts) {
      if (prev.name != h.name) continue;
      known = true;
      if (prev.state == api::HostState::kCordoned && h.ready) hs.state = prev.state;
      // A host that was serving and stopped answering (heartbeat expired, daemon unreachable)
      // is Lost: its instances are placed again elsewhere.
      if (!h.ready && (prev.state == api::HostState::kReady ||
                       prev.state == api::HostState::kCordoned ||
                       prev.state == api::HostState::kLost)) {
        hs.state = api::HostState::kLost;
      }
      if (prev.state == hs.state) {
        hs.since = prev.since;
      } else {
        hosts_changed = true;
        auto level = hs.state == api::HostState::kLost ? LogLevel::kWarn : LogLevel::kInfo;
        log_->Log(level, "host state changed",
                  {{"pool", key.ToString()}, {"host", h.name},
                   {"from", api::EnumName(prev.state)}, {"to", api::EnumName(hs.state)}});
      }
    }
    if (!known) hosts_changed = true;
    auto usage = ledger_->Usage(ref.Id(), h.name);
    hs.instances = usage.instances;
    hs.memory_mib_used = usage.memory_mib;
    if (hs.state == api::HostState::kReady) {
      ++ready;
      if (hs.instances == 0) ++standby;
    }
    out.push_back(std::move(hs));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  st.hosts = std::move(out);
  st.ready_hosts = ready;
  st.standby_hosts = standby;
  api::SetCondition(st.conditions,
                    ready > 0 ? api::Condition{"Ready", "True", "HostsReady",
                                               fmt::format("{} of {} hosts ready", ready,
                                                           hosts->size()),
                                               {}, gen}
                              : api::Condition{"Ready", "False", "NoReadyHost",
                                               "no host of this pool is ready", {}, gen},
                    now);

  bool scan = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_scan_.find(key);
    if (it == last_scan_.end() || now - it->second >= options_.orphan_scan_interval) {
      last_scan_[key] = now;
      scan = true;
    }
  }
  if (scan) {
    auto gc = CollectOrphans(pool, *drivers, *hosts);
    if (!gc.ok()) log_->Warn("orphan scan failed", {{"key", key.ToString()}, {"error", gc.ToString()}});
  }

  RF_RETURN_IF_ERROR(write(std::move(st)));
  if (hosts_changed && options_.on_hosts_changed) options_.on_hosts_changed(key);
  // With heartbeats, look again within one TTL, so a silent host is Lost in about that time.
  auto next = options_.resync;
  if (pool.spec.discovery && pool.spec.discovery->ttl_seconds > 0) {
    next = std::min<std::chrono::milliseconds>(
        next, std::chrono::milliseconds(pool.spec.discovery->ttl_seconds * 1000 / 2 + 1));
  }
  return runtime::Result{next};
}

Status HostPoolReconciler::CollectOrphans(const api::HostPool& pool, const PoolDrivers& drivers,
                                          const std::vector<providers::Host>& hosts) {
  const std::string pool_id = PoolRefOf(pool).Id();
  const TimePoint now = clock_->Now();
  std::set<std::string> seen_now;
  for (const auto& host : hosts) {
    if (!host.ready) continue;
    RF_ASSIGN_OR_RETURN(auto running, drivers.runtime->List(host));
    for (const auto& r : running) {
      auto mb = r.labels.find(std::string(api::kLabelManagedBy));
      if (mb == r.labels.end() || mb->second != options_.operator_id) continue;
      if (r.pool_id != pool_id) continue;
      auto owner = store_->Get(api::Kind::kRedisInstance, r.instance);
      bool owned = false;
      if (owner) {
        // Ours only where the instance lives: a copy on a host it was moved away from (the
        // host was Lost and came back) is an orphan too.
        const auto& ri = std::get<api::RedisInstance>(*owner);
        owned = ri.metadata.uid == r.uid && (ri.status.host.empty() || ri.status.host == host.name);
      } else if (owner.error().code() != StatusCode::kNotFound) {
        return owner.error();
      }
      if (owned) continue;
      seen_now.insert(r.id);
      TimePoint first;
      {
        std::lock_guard<std::mutex> lock(mu_);
        first = orphan_seen_[pool_id].emplace(r.id, now).first->second;
      }
      if (now - first < options_.orphan_grace) continue;
      RF_RETURN_IF_ERROR(drivers.runtime->Remove(host, r));
      log_->Warn("removed orphaned redis (no RedisInstance owns it)",
                 {{"pool", pool_id}, {"host", host.name}, {"instance", r.instance.ToString()},
                  {"uid", r.uid}});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& seen = orphan_seen_[pool_id];
  for (auto it = seen.begin(); it != seen.end();) {
    it = seen_now.count(it->first) ? std::next(it) : seen.erase(it);
  }
  return Status::Ok();
}

}  // namespace redisfleet::controllers
