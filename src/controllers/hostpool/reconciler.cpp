#include "controllers/hostpool/reconciler.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "controllers/hostpool/autoscale.h"

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
    ForgetPool(key);
    return runtime::Result{};
  }
  api::HostPool pool = std::get<api::HostPool>(std::move(*got));
  const int64_t gen = pool.metadata.generation;
  const TimePoint now = clock_->Now();
  api::HostPoolStatus st = pool.status;
  st.observed_generation = gen;

  // Several writes in one reconcile: each re-reads, so the next carries the new version.
  std::function<Status(const api::HostPoolStatus&)> write = [&](const api::HostPoolStatus& s) -> Status {
    if (s == pool.status) return Status::Ok();
    api::HostPool updated = pool;
    updated.status = s;
    RF_RETURN_IF_ERROR(store_->UpdateStatus(updated));
    RF_ASSIGN_OR_RETURN(auto fresh, store_->Get(api::Kind::kHostPool, key));
    pool = std::get<api::HostPool>(std::move(fresh));
    return Status::Ok();
  };

  if (pool.metadata.deleting()) {
    RF_ASSIGN_OR_RETURN(int64_t users, CountUsers(pool));
    if (users > 0) {
      api::SetCondition(st.conditions,
                        api::Condition{"Ready", "False", "InUse",
                                       fmt::format("{} RedisInstance(s) still use this pool", users),
                                       {}, gen},
                        now);
      RF_RETURN_IF_ERROR(write(st));
      return runtime::Result{options_.resync};
    }
    if (auto drivers = pools_->Drivers(pool); drivers && drivers->hosts->Elastic()) {
      RF_ASSIGN_OR_RETURN(bool gone, DeleteAllHosts(pool, *drivers, write));
      if (!gone) return runtime::Result{options_.scaling_requeue};
    }
    std::vector<std::string> fins;
    for (const auto& f : pool.metadata.finalizers)
      if (f != api::kFinalizer) fins.push_back(f);
    RF_RETURN_IF_ERROR(store_->SetFinalizers(pool, fins));
    pools_->Forget(key);
    ForgetPool(key);
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
    RF_RETURN_IF_ERROR(write(st));
    return runtime::Result{};  // nothing to do until the spec changes
  }
  const providers::PoolRef ref = PoolRefOf(pool);
  auto hosts = drivers->hosts->List(ref);
  if (!hosts) {
    api::SetCondition(st.conditions,
                      api::Condition{"Ready", "False", "ProviderUnavailable",
                                     hosts.error().message(), {}, gen},
                      now);
    RF_RETURN_IF_ERROR(write(st));
    return hosts.error();
  }

  std::vector<api::HostStatus> out;
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
      if (prev.state == api::HostState::kDeleting) hs.state = prev.state;
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
    out.push_back(std::move(hs));
  }
  // Hosts whose creation is recorded but not (yet) seen at the provider stay as intents.
  for (const auto& prev : pool.status.hosts) {
    if (prev.state != api::HostState::kProvisioning || !prev.provider_id.empty()) continue;
    bool listed = false;
    for (const auto& h : *hosts) listed = listed || h.name == prev.name;
    if (!listed && drivers->hosts->Elastic()) out.push_back(prev);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  st.hosts = std::move(out);

  bool busy = false;
  Status scaled = Status::Ok();
  if (drivers->hosts->Elastic()) {
    scaled = ScaleHosts(pool, *drivers, *hosts, st, write, &busy);
    if (!scaled.ok())
      log_->Warn("scaling the pool's hosts failed", {{"key", key.ToString()}, {"error", scaled.ToString()}});
  }

  int64_t ready = 0, standby = 0;
  double cost = 0;
  for (const auto& hs : st.hosts) {
    if (hs.state == api::HostState::kReady) {
      ++ready;
      if (hs.instances == 0) ++standby;
    }
  }
  for (const auto& h : *hosts) cost += h.monthly_cost;
  st.ready_hosts = ready;
  st.standby_hosts = standby;
  st.monthly_cost = std::round(cost * 100) / 100;
  api::SetCondition(st.conditions,
                    ready > 0 ? api::Condition{"Ready", "True", "HostsReady",
                                               fmt::format("{} of {} hosts ready", ready,
                                                           st.hosts.size()),
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

  if (drivers->hosts->Elastic()) {
    bool scan_hosts = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = last_host_scan_.find(key);
      if (it == last_host_scan_.end() || now - it->second >= options_.orphan_host_scan_interval) {
        last_host_scan_[key] = now;
        scan_hosts = true;
      }
    }
    if (scan_hosts) {
      auto gc = CollectOrphanHosts(pool, *drivers);
      if (!gc.ok())
        log_->Warn("search for machines of deleted pools failed", {{"key", key.ToString()}, {"error", gc.ToString()}});
    }
  }

  RF_RETURN_IF_ERROR(write(st));
  if (options_.on_status) options_.on_status(pool);
  if (hosts_changed && options_.on_hosts_changed) options_.on_hosts_changed(key);
  if (!scaled.ok()) return scaled;
  // With heartbeats, look again within one TTL, so a silent host is Lost in about that time.
  auto next = options_.resync;
  if (pool.spec.discovery && pool.spec.discovery->ttl_seconds > 0) {
    next = std::min<std::chrono::milliseconds>(
        next, std::chrono::milliseconds(pool.spec.discovery->ttl_seconds * 1000 / 2 + 1));
  }
  if (busy) next = std::min(next, options_.scaling_requeue);
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

void HostPoolReconciler::ForgetPool(const api::Key& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    empty_since_.erase(key);
    last_scan_.erase(key);
    last_host_scan_.erase(key);
  }
  if (options_.on_forgotten) options_.on_forgotten(key);
}

std::string HostPoolReconciler::NextHostName(const api::HostPool& pool, const api::HostPoolStatus& st,
                                             const std::vector<providers::Host>& listed) {
  const std::string prefix = fmt::format("rf-{}-{}-", pool.metadata.namespace_, pool.metadata.name);
  auto number = [&](const std::string& name) -> int64_t {
    if (name.rfind(prefix, 0) != 0) return 0;
    const std::string rest = name.substr(prefix.size());
    if (rest.empty() || rest.size() > 9 ||
        !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return 0;
    return std::stoll(rest);
  };
  std::lock_guard<std::mutex> lock(mu_);
  int64_t& high = host_seq_[pool.metadata.key()];
  for (const auto& h : st.hosts) high = std::max(high, number(h.name));
  for (const auto& h : listed) high = std::max(high, number(h.name));
  return prefix + std::to_string(++high);
}

StatusOr<bool> HostPoolReconciler::HostIsEmpty(const PoolDrivers& drivers, const providers::Host& host,
                                               const std::string& pool_id) {
  if (!host.ready) return true;  // nothing can run there; its instances are placed elsewhere
  RF_ASSIGN_OR_RETURN(auto running, drivers.runtime->List(host));
  for (const auto& r : running) {
    auto mb = r.labels.find(std::string(api::kLabelManagedBy));
    if (mb != r.labels.end() && mb->second == options_.operator_id && r.pool_id == pool_id) return false;
  }
  return true;
}

Status HostPoolReconciler::ScaleHosts(const api::HostPool& pool, const PoolDrivers& drivers,
                                      const std::vector<providers::Host>& listed,
                                      api::HostPoolStatus& st,
                                      const std::function<Status(const api::HostPoolStatus&)>& write,
                                      bool* busy) {
  const api::Key key = pool.metadata.key();
  const providers::PoolRef ref = PoolRefOf(pool);
  const std::string pool_id = ref.Id();
  const TimePoint now = clock_->Now();
  const int64_t gen = pool.metadata.generation;
  const providers::Host* no_host = nullptr;
  auto listed_host = [&](const std::string& name) {
    for (const auto& h : listed)
      if (h.name == name) return &h;
    return no_host;
  };

  // What the decision needs about each host.
  hostpool::AutoscaleSpec spec;
  spec.min_hosts = pool.spec.min_hosts;
  spec.max_hosts = pool.spec.max_hosts;
  spec.standby_hosts = pool.spec.standby_hosts;
  spec.scale_in_delay = std::chrono::seconds(pool.spec.scale_in_delay_seconds);
  spec.ready_timeout = std::chrono::seconds(
      pool.spec.digitalocean ? pool.spec.digitalocean->ready_timeout_seconds : 900);
  spec.limits = {pool.spec.capacity.max_instances_per_host, pool.spec.capacity.memory_mib_per_host};
  std::vector<hostpool::HostView> views;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& empty = empty_since_[key];
    std::set<std::string> names;
    for (const auto& hs : st.hosts) {
      names.insert(hs.name);
      hostpool::HostView v;
      v.name = hs.name;
      v.state = hs.state;
      const providers::Host* h = listed_host(hs.name);
      v.exists = h != nullptr;
      v.instances = hs.instances;
      v.since = hs.since;
      v.requested = h != nullptr && h->created != TimePoint{} ? h->created : hs.since;
      if (hs.state == api::HostState::kReady && hs.instances == 0) {
        v.empty_since = empty.emplace(hs.name, now).first->second;
      } else {
        empty.erase(hs.name);
      }
      views.push_back(std::move(v));
    }
    for (auto it = empty.begin(); it != empty.end();) it = names.count(it->first) ? std::next(it) : empty.erase(it);
  }
  const hostpool::AutoscalePlan plan = hostpool::PlanHosts(spec, views, ledger_->Unplaced(pool_id), now);

  auto find = [&](const std::string& name) -> api::HostStatus* {
    for (auto& hs : st.hosts)
      if (hs.name == name) return &hs;
    return nullptr;
  };
  auto set_state = [&](api::HostStatus& hs, api::HostState to) {
    if (hs.state == to) return;
    log_->Info("host state changed", {{"pool", key.ToString()}, {"host", hs.name},
                                      {"from", api::EnumName(hs.state)}, {"to", api::EnumName(to)}});
    hs.state = to;
    hs.since = now;
  };

  bool record = false;  // intents or deletions to persist before acting
  for (const auto& name : plan.uncordon) {
    ledger_->Uncordon(pool_id, name);
    if (api::HostStatus* hs = find(name)) {
      const providers::Host* h = listed_host(name);
      set_state(*hs, h != nullptr && h->ready ? api::HostState::kReady : api::HostState::kProvisioning);
    }
  }
  for (const auto& name : plan.cordon) {
    api::HostStatus* hs = find(name);
    if (hs == nullptr || !ledger_->CordonIfEmpty(pool_id, name)) continue;
    set_state(*hs, api::HostState::kCordoned);
  }
  for (const auto& name : plan.cancel) {
    st.hosts.erase(std::remove_if(st.hosts.begin(), st.hosts.end(),
                                  [&](const api::HostStatus& hs) {
                                    return hs.name == name && hs.provider_id.empty() &&
                                           listed_host(name) == nullptr;
                                  }),
                   st.hosts.end());
    log_->Info("host no longer wanted before it was created", {{"pool", key.ToString()}, {"host", name}});
  }
  for (const auto& name : plan.remove) {
    api::HostStatus* hs = find(name);
    const providers::Host* h = listed_host(name);
    if (hs == nullptr || h == nullptr) continue;
    // Cordoned (no placement can land there) and, checked once more, empty in the ledger and on
    // the host itself.
    bool empty = ledger_->CordonIfEmpty(pool_id, name);
    if (empty) {
      auto really = HostIsEmpty(drivers, *h, pool_id);
      if (!really.ok()) return really.error().WithContext("checking host " + name + " is empty");
      empty = *really;
    }
    if (!empty) {
      ledger_->Uncordon(pool_id, name);
      set_state(*hs, h->ready ? api::HostState::kReady : api::HostState::kProvisioning);
      continue;
    }
    set_state(*hs, api::HostState::kDeleting);
    record = true;
  }
  for (const auto& name : plan.replace) {
    api::HostStatus* hs = find(name);
    if (hs == nullptr) continue;
    log_->Warn("host not ready in time; replacing it", {{"pool", key.ToString()}, {"host", name},
                                                        {"state", api::EnumName(hs->state)}});
    ledger_->CordonIfEmpty(pool_id, name);
    set_state(*hs, api::HostState::kDeleting);
    record = true;
  }
  for (int64_t i = 0; i < plan.create; ++i) {
    api::HostStatus hs;
    hs.name = NextHostName(pool, st, listed);
    hs.state = api::HostState::kProvisioning;
    hs.since = now;
    log_->Info("adding a host", {{"pool", key.ToString()}, {"host", hs.name}, {"why", plan.reason}});
    st.hosts.push_back(std::move(hs));
    record = true;
  }
  std::sort(st.hosts.begin(), st.hosts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (!plan.Empty()) {
    api::SetCondition(st.conditions, api::Condition{"ScalingActive", "True", "Scaling", plan.reason, {}, gen}, now);
  }
  // The intent is on record before any machine is asked for or given up: after a crash the
  // names are known (adopted by name, never created twice) and deletions are finished.
  if (record) RF_RETURN_IF_ERROR(write(st));

  Status first_error = Status::Ok();
  for (auto& hs : st.hosts) {
    if (hs.state != api::HostState::kProvisioning || !hs.provider_id.empty()) continue;
    if (first_error.code() == StatusCode::kResourceExhausted) break;  // rate limited: stop asking
    providers::HostSpec hspec;
    hspec.pool = ref;
    hspec.name = hs.name;
    hspec.labels = {{std::string(api::kLabelManagedBy), options_.operator_id},
                    {std::string(api::kLabelPool), pool_id}};
    auto created = drivers.hosts->Create(hspec);
    if (!created.ok()) {
      if (first_error.ok()) first_error = created.error().WithContext("creating host " + hs.name);
      continue;
    }
    hs.provider_id = created->provider_id;
    hs.address = created->address;
    log_->Info("host asked for", {{"pool", key.ToString()}, {"host", hs.name}, {"providerID", hs.provider_id}});
  }
  std::vector<std::string> gone;
  for (auto& hs : st.hosts) {
    if (hs.state != api::HostState::kDeleting) continue;
    if (first_error.code() == StatusCode::kResourceExhausted) break;
    const providers::Host* h = listed_host(hs.name);
    Status d = h != nullptr ? drivers.hosts->Delete(*h) : Status::Ok();
    if (!d.ok()) {
      if (first_error.ok()) first_error = d.WithContext("deleting host " + hs.name);
      continue;
    }
    log_->Info("host deleted", {{"pool", key.ToString()}, {"host", hs.name}, {"providerID", hs.provider_id}});
    gone.push_back(hs.name);
  }
  for (const auto& name : gone) {
    ledger_->ForgetHost(pool_id, name);
    st.hosts.erase(std::remove_if(st.hosts.begin(), st.hosts.end(),
                                  [&](const api::HostStatus& hs) { return hs.name == name; }),
                   st.hosts.end());
  }

  for (const auto& hs : st.hosts) {
    if (hs.state == api::HostState::kProvisioning || hs.state == api::HostState::kDeleting ||
        hs.state == api::HostState::kCordoned)
      *busy = true;
  }
  if (!first_error.ok()) {
    api::SetCondition(st.conditions,
                      api::Condition{"ScalingActive", "False",
                                     first_error.code() == StatusCode::kResourceExhausted ? "RateLimited"
                                                                                           : "ProviderError",
                                     first_error.message(), {}, gen},
                      now);
    return first_error;
  }
  if (plan.Empty() && !*busy) {
    api::SetCondition(st.conditions,
                      api::Condition{"ScalingActive", "True", "Stable",
                                     fmt::format("{} host(s); {} standby wanted", st.hosts.size(),
                                                 pool.spec.standby_hosts),
                                     {}, gen},
                      now);
  }
  return Status::Ok();
}

StatusOr<bool> HostPoolReconciler::DeleteAllHosts(
    api::HostPool& pool, const PoolDrivers& drivers,
    const std::function<Status(const api::HostPoolStatus&)>& write) {
  const providers::PoolRef ref = PoolRefOf(pool);
  RF_ASSIGN_OR_RETURN(auto hosts, drivers.hosts->List(ref));
  if (hosts.empty()) return true;
  api::HostPoolStatus st = pool.status;
  const TimePoint now = clock_->Now();
  for (auto& hs : st.hosts) {
    if (hs.state != api::HostState::kDeleting) {
      hs.state = api::HostState::kDeleting;
      hs.since = now;
    }
  }
  RF_RETURN_IF_ERROR(write(st));
  for (const auto& h : hosts) {
    RF_RETURN_IF_ERROR(drivers.hosts->Delete(h));
    ledger_->ForgetHost(ref.Id(), h.name);
    log_->Info("host of a deleted pool deleted", {{"pool", ref.Id()}, {"host", h.name}});
  }
  return false;  // look again: gone only once the provider no longer lists any
}

Status HostPoolReconciler::CollectOrphanHosts(const api::HostPool& pool, const PoolDrivers& drivers) {
  auto all = drivers.hosts->ListAll();
  if (!all.ok()) return all.error().code() == StatusCode::kUnimplemented ? Status::Ok() : all.error();
  const TimePoint now = clock_->Now();
  const std::string self = PoolRefOf(pool).Id();
  std::set<std::string> seen_now;
  for (const auto& h : *all) {
    auto it = h.labels.find(std::string(api::kLabelPool));
    const std::string owner = it == h.labels.end() ? "" : it->second;
    if (owner == self) continue;
    // "<namespace>.<name>": namespaces hold no '.'.
    const auto dot = owner.find('.');
    if (dot != std::string::npos) {
      auto got = store_->Get(api::Kind::kHostPool, api::Key{owner.substr(0, dot), owner.substr(dot + 1)});
      if (got) {
        const auto& other = std::get<api::HostPool>(*got);
        if (other.spec.provider == pool.spec.provider) continue;  // that pool looks after it
      } else if (got.error().code() != StatusCode::kNotFound) {
        return got.error();
      }
    }
    seen_now.insert(h.provider_id);
    TimePoint first;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = orphan_hosts_seen_.emplace(h.provider_id, now).first->second;
    }
    if (now - first < options_.orphan_host_grace) continue;
    RF_RETURN_IF_ERROR(drivers.hosts->Delete(h));
    log_->Warn("deleted a machine tagged as ours that no pool owns",
               {{"host", h.name}, {"providerID", h.provider_id}, {"pool", owner}});
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = orphan_hosts_seen_.begin(); it != orphan_hosts_seen_.end();)
    it = seen_now.count(it->first) ? std::next(it) : orphan_hosts_seen_.erase(it);
  return Status::Ok();
}

}  // namespace redisfleet::controllers
