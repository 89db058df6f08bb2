#include "controllers/redisinstance/reconciler.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace redisfleet::controllers {
namespace {

using api::Phase;
using std::chrono::milliseconds;

bool HasFinalizer(const api::ObjectMeta& m) {
  return std::find(m.finalizers.begin(), m.finalizers.end(), api::kFinalizer) != m.finalizers.end();
}

// The state placement sees for a host: what the pool's status says (Cordoned, Lost, ...)
// when it knows the host, else Ready when the provider reports it ready.
api::HostState StateOf(const api::HostPool& pool, const providers::Host& host) {
  for (const auto& hs : pool.status.hosts)
    if (hs.name == host.name) return hs.state;
  return host.ready ? api::HostState::kReady : api::HostState::kProvisioning;
}

std::string Url(const api::Endpoint& ep) { return fmt::format("redis://{}:{}", ep.host, ep.port); }

}  // namespace

void PhaseCounter::Set(const api::Key& key, std::optional<api::Phase> phase) {
  // Published under the lock: two workers publishing copies out of order would leave a stale
  // count that no later (unchanged) Set corrects.
  std::lock_guard<std::mutex> lock(mu_);
  {
    auto it = phases_.find(key);
    if (phase) {
      if (it != phases_.end() && it->second == *phase) return;
      if (it != phases_.end()) {
        --counts_[std::string(api::EnumName(it->second))];
        it->second = *phase;
      } else {
        phases_.emplace(key, *phase);
      }
      ++counts_[std::string(api::EnumName(*phase))];
    } else {
      if (it == phases_.end()) return;
      --counts_[std::string(api::EnumName(it->second))];
      phases_.erase(it);
    }
  }
  if (publish_) publish_(counts_);
}

std::map<std::string, int64_t> PhaseCounter::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

RedisInstanceReconciler::RedisInstanceReconciler(
    std::shared_ptr<store::ObjectStore> store, std::shared_ptr<store::SecretStore> secrets,
    std::shared_ptr<PoolRegistry> pools, std::shared_ptr<UsageLedger> ledger,
    std::shared_ptr<RedisProber> prober, std::shared_ptr<PhaseCounter> phases,
    std::shared_ptr<const Clock> clock, std::shared_ptr<RandomSource> random,
    std::shared_ptr<Logger> logger, RedisInstanceOptions options)
    : store_(std::move(store)), secrets_(std::move(secrets)), pools_(std::move(pools)),
      ledger_(std::move(ledger)), prober_(std::move(prober)), phases_(std::move(phases)),
      clock_(std::move(clock)), random_(std::move(random)), log_(std::move(logger)),
      options_(std::move(options)) {}

Status RedisInstanceReconciler::Prime() {
  RF_ASSIGN_OR_RETURN(auto all, store_->List(api::Kind::kRedisInstance));
  for (const auto& o : all) {
    const auto& ri = std::get<api::RedisInstance>(o);
    if (phases_) phases_->Set(ri.metadata.key(), ri.status.phase);
    if (ri.status.host.empty() || ri.spec.host_pool.empty()) continue;
    if (ri.status.phase == Phase::kExpired) continue;
    int64_t mib = ri.status.memory_mib > 0 ? ri.status.memory_mib : ri.spec.memory_mib;
    ledger_->Set(ri.metadata.namespace_ + "." + ri.spec.host_pool, ri.status.host,
                 ri.metadata.key(), mib);
  }
  return Status::Ok();
}

std::map<std::string, std::string> RedisInstanceReconciler::Labels(const api::RedisInstance& ri,
                                                                   const std::string& pool_id) const {
  return {{std::string(api::kLabelManagedBy), options_.operator_id},
          {std::string(api::kLabelPool), pool_id},
          {std::string(api::kLabelInstance), ri.metadata.key().Dotted()},
          {std::string(api::kLabelUid), ri.metadata.uid}};
}

void RedisInstanceReconciler::SetReady(api::RedisInstanceStatus& st, bool ready, std::string reason,
                                       std::string message, int64_t generation) {
  api::SetCondition(st.conditions,
                    api::Condition{"Ready", ready ? "True" : "False", std::move(reason),
                                   std::move(message), {}, generation},
                    clock_->Now());
}

void RedisInstanceReconciler::SetPlaced(api::RedisInstanceStatus& st, bool placed, std::string reason,
                                        std::string message, int64_t generation) {
  api::SetCondition(st.conditions,
                    api::Condition{"Placed", placed ? "True" : "False", std::move(reason),
                                   std::move(message), {}, generation},
                    clock_->Now());
}

Status RedisInstanceReconciler::WriteStatus(api::RedisInstance& ri, api::RedisInstanceStatus status) {
  if (phases_) phases_->Set(ri.metadata.key(), status.phase);
  if (status == ri.status) return Status::Ok();
  api::RedisInstance updated = ri;
  updated.status = std::move(status);
  RF_RETURN_IF_ERROR(store_->UpdateStatus(updated));
  // One event per condition change (not per reconcile): False is a Warning, True is Normal.
  if (events_) {
    for (const auto& c : updated.status.conditions) {
      const api::Condition* was = api::FindCondition(ri.status.conditions, c.type);
      if (was != nullptr && was->status == c.status && was->reason == c.reason) continue;
      if (c.status == "True" && c.reason == "AtSpec") continue;  // nothing happened
      events_->Record(ri.metadata, api::Kind::kRedisInstance,
                      c.status == "False" ? store::Severity::kWarning : store::Severity::kNormal,
                      c.reason, c.message);
    }
  }
  // Re-read so the next write carries the new resourceVersion.
  RF_ASSIGN_OR_RETURN(auto fresh, store_->Get(api::Kind::kRedisInstance, ri.metadata.key()));
  ri = std::get<api::RedisInstance>(std::move(fresh));
  return Status::Ok();
}

Status RedisInstanceReconciler::EnsureFinalizer(api::RedisInstance& ri) {
  if (HasFinalizer(ri.metadata)) return Status::Ok();
  auto fins = ri.metadata.finalizers;
  fins.emplace_back(api::kFinalizer);
  RF_RETURN_IF_ERROR(store_->SetFinalizers(ri, fins));
  RF_ASSIGN_OR_RETURN(auto fresh, store_->Get(api::Kind::kRedisInstance, ri.metadata.key()));
  ri = std::get<api::RedisInstance>(std::move(fresh));
  return Status::Ok();
}

StatusOr<std::string> RedisInstanceReconciler::Password(
    const api::RedisInstance& ri, bool* generated,
    std::optional<std::map<std::string, std::string>>* connection) {
  *generated = false;
  if (!ri.spec.password_secret_ref.name.empty()) {
    auto v = secrets_->Read(ri.metadata.namespace_, ri.spec.password_secret_ref);
    if (!v) return v.error();
    if (v->empty()) {
      return InvalidArgumentError(fmt::format("spec.passwordSecretRef: secret {} key {} is empty",
                                              ri.spec.password_secret_ref.name,
                                              ri.spec.password_secret_ref.key));
    }
    return *v;
  }
  auto conn = secrets_->ReadConnection(ri.metadata.key());
  if (conn) {
    *connection = *conn;
    auto it = conn->find("password");
    if (it != conn->end() && !it->second.empty()) return it->second;
  } else if (conn.error().code() != StatusCode::kNotFound) {
    return conn.error();
  }
  *generated = true;
  return random_->AlphaNumeric(options_.password_length);
}

StatusOr<runtime::Result> RedisInstanceReconciler::Reconcile(const api::Key& key) {
  auto got = store_->Get(api::Kind::kRedisInstance, key);
  if (!got) {
    if (got.error().code() != StatusCode::kNotFound) return got.error();
    ledger_->Release(key);
    if (phases_) phases_->Set(key, std::nullopt);
    return runtime::Result{};
  }
  api::RedisInstance ri = std::get<api::RedisInstance>(std::move(*got));
  if (ri.metadata.deleting()) return Finalize(std::move(ri));

  const int64_t gen = ri.metadata.generation;
  const TimePoint now = clock_->Now();
  api::RedisInstanceStatus st = ri.status;
  st.observed_generation = gen;

  if (ri.spec.heroku) return ReconcileHeroku(std::move(ri), std::move(st));

  // The finalizer goes on before anything exists outside, so cleanup can't be skipped.
  RF_RETURN_IF_ERROR(EnsureFinalizer(ri));

  // Expiry: the instance's own ttlSeconds; requested instances (spec.requester set, subject to
  // the pool's quota) default to the pool's quota.defaultTTLSeconds.
  st.expires_at.reset();
  int64_t ttl = ri.spec.ttl_seconds;
  if (ttl == 0 && !ri.spec.requester.empty()) {
    if (auto p = ResolvePool(*store_, key.namespace_, ri.spec.host_pool); p.ok()) {
      ttl = p->spec.quota.default_ttl_seconds;
    }
  }
  if (ttl > 0) {
    TimePoint created = ri.metadata.creation_timestamp.value_or(now);
    st.expires_at = created + std::chrono::seconds(ttl);
  }
  if (st.expires_at && now >= *st.expires_at) {
    if (ri.status.phase != Phase::kExpired) {
      RF_RETURN_IF_ERROR(StopServer(ri));
      log_->Info("instance expired; server stopped",
                 {{"key", key.ToString()}, {"expiresAt", FormatTime(*st.expires_at)}});
    }
    ledger_->Release(key);
    st.phase = Phase::kExpired;
    st.endpoint = {};
    st.url.clear();
    st.used_memory_bytes = 0;
    st.connected_clients = 0;
    SetReady(st, false, "Expired", "ttlSeconds elapsed at " + FormatTime(*st.expires_at), gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{};
  }

  // The pool and its drivers.
  auto pool = ResolvePool(*store_, key.namespace_, ri.spec.host_pool);
  if (!pool) {
    if (pool.error().code() != StatusCode::kNotFound) return pool.error();
    st.phase = Phase::kPending;
    SetPlaced(st, false, "PoolNotFound",
              fmt::format("HostPool {}/{} does not exist", key.namespace_, ri.spec.host_pool), gen);
    SetReady(st, false, "NotPlaced", "waiting for HostPool " + ri.spec.host_pool, gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{options_.pending_retry};
  }
  if (pool->metadata.deleting()) {
    st.phase = Phase::kPending;
    SetPlaced(st, false, "PoolDeleting", "HostPool " + ri.spec.host_pool + " is being deleted", gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{options_.pending_retry};
  }
  if (st.host.empty()) {
    RF_ASSIGN_OR_RETURN(auto over, OverQuota(ri, *pool));
    if (over) {
      st.phase = Phase::kPending;
      SetPlaced(st, false, "QuotaExceeded", *over, gen);
      SetReady(st, false, "QuotaExceeded", *over, gen);
      RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
      return runtime::Result{options_.pending_retry};
    }
  }
  auto drivers = pools_->Drivers(*pool);
  if (!drivers) {
    st.phase = Phase::kPending;
    SetPlaced(st, false, "PoolUnsupported", drivers.error().message(), gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{options_.pending_retry};
  }
  const providers::PoolRef pool_ref = PoolRefOf(*pool);
  const std::string pool_id = pool_ref.Id();
  RF_ASSIGN_OR_RETURN(auto hosts, drivers->hosts->List(pool_ref));

  // The size: the plan a ScalingPolicy decided, else the spec's.
  providers::RedisResources want{ri.spec.memory_mib, ri.spec.max_clients};
  std::string plan_name = ri.spec.plan;
  if (plan_source_) {
    if (std::optional<api::Plan> plan = plan_source_(ri)) {
      want = {plan->memory_mib, plan->max_clients};
      plan_name = plan->name;
    }
  }
  const placement::Limits limits{pool->spec.capacity.max_instances_per_host,
                                 pool->spec.capacity.memory_mib_per_host};

  // Keep the host it has while that host is usable; else place it.
  const providers::Host* host = nullptr;
  if (!st.host.empty()) {
    for (const auto& h : hosts)
      if (h.name == st.host && StateOf(*pool, h) != api::HostState::kLost) host = &h;
    if (host == nullptr) {
      log_->Warn("instance's host is lost; placing it again (data on that host is gone)",
                 {{"key", key.ToString()}, {"host", st.host}});
      api::SetCondition(st.conditions,
                        api::Condition{"Placed", "False", "HostLost",
                                       "host " + st.host +
                                           " was lost; placed again, data kept on it is gone",
                                       {}, gen},
                        now);
      st.host.clear();
      st.endpoint = {};
      st.url.clear();
    }
  }
  int64_t placed_mib = want.memory_mib;
  if (host != nullptr) {
    // A resize must still fit the host.
    auto usage = ledger_->Usage(pool_id, host->name);
    auto where = ledger_->Where(key);
    int64_t mine = st.memory_mib > 0 ? st.memory_mib : want.memory_mib;
    int64_t others = usage.memory_mib - (where ? mine : 0);
    if (want.memory_mib != mine && others + want.memory_mib > limits.memory_mib_per_host) {
      placed_mib = mine;
      api::SetCondition(st.conditions,
                        api::Condition{"Scaled", "False", "InsufficientHostCapacity",
                                       fmt::format("host {} has {} MiB free; {} MiB requested",
                                                   host->name,
                                                   limits.memory_mib_per_host - others,
                                                   want.memory_mib),
                                       {}, gen},
                        now);
    }
    ledger_->Set(pool_id, host->name, key, placed_mib);
  } else if (auto found = PreexistingHost(pool_id, *drivers, hosts, ri.metadata.uid);
             !found.ok()) {
    return found.status();
  } else if (found->has_value()) {
    for (const auto& h : hosts)
      if (h.name == **found) host = &h;
    log_->Info("adopted a server created before a restart",
               {{"key", key.ToString()}, {"host", **found}});
    ledger_->Set(pool_id, host->name, key, placed_mib);
    st.host = host->name;
  } else {
    std::vector<std::pair<std::string, api::HostState>> states;
    for (const auto& h : hosts) states.emplace_back(h.name, StateOf(*pool, h));
    auto chosen = ledger_->Place(pool_id, states, limits, pool->spec.placement, key, want.memory_mib);
    if (!chosen) {
      // An elastic pool grows for it (HostPoolReconciler reads this).
      ledger_->MarkUnplaced(pool_id, key, want.memory_mib);
      st.phase = Phase::kPending;
      SetPlaced(st, false, "NoCapacity",
                fmt::format("no Ready host of pool {} has room for {} MiB (limits: {} instances, "
                            "{} MiB per host)",
                            ri.spec.host_pool, want.memory_mib, limits.max_instances_per_host,
                            limits.memory_mib_per_host),
                gen);
      SetReady(st, false, "NotPlaced", "waiting for capacity", gen);
      RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
      return runtime::Result{options_.pending_retry};
    }
    for (const auto& h : hosts)
      if (h.name == *chosen) host = &h;
    st.host = *chosen;
    st.phase = Phase::kProvisioning;
    SetPlaced(st, true, "Placed", "on host " + *chosen, gen);
    // Record the decision before acting, so a crash after the server starts finds it.
    auto w = WriteStatus(ri, st);
    if (!w.ok()) {
      ledger_->Release(key);
      return w;
    }
  }
  SetPlaced(st, true, "Placed", "on host " + host->name, gen);

  // The password exists (and is saved) before the server that uses it.
  bool generated = false;
  std::optional<std::map<std::string, std::string>> saved;  // the connection secret as read
  auto password = Password(ri, &generated, &saved);
  if (!password) {
    st.phase = Phase::kPending;
    SetReady(st, false, "PasswordUnavailable", password.error().message(), gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{options_.pending_retry};
  }
  if (generated) {
    saved = std::map<std::string, std::string>{{"password", *password}};
    auto w = secrets_->WriteConnection(key, *saved);
    if (!w) return w.error();
  }

  providers::RedisSpec spec;
  spec.instance = key;
  spec.uid = ri.metadata.uid;
  spec.pool = pool_ref;
  spec.resources = {placed_mib, want.max_clients};
  spec.persistence = ri.spec.persistence;
  spec.password = *password;
  spec.port = st.endpoint.port;
  spec.labels = Labels(ri, pool_id);
  auto ep = drivers->runtime->Ensure(*host, spec);
  if (!ep) {
    if (ep.error().code() == StatusCode::kFailedPrecondition && st.phase == Phase::kReady) {
      // Shrinking below the memory in use: keep running at the old size.
      api::SetCondition(st.conditions,
                        api::Condition{"Scaled", "False", "MemoryInUse", ep.error().message(), {}, gen},
                        now);
      RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
      return runtime::Result{options_.health_interval};
    }
    bool transient = ep.error().code() == StatusCode::kUnavailable ||
                     ep.error().code() == StatusCode::kDeadlineExceeded;
    st.phase = transient ? Phase::kProvisioning : Phase::kFailed;
    SetReady(st, false, "StartFailed", ep.error().message(), gen);
    auto w = WriteStatus(ri, std::move(st));
    if (!w.ok()) return w;
    return ep.error();
  }

  const bool resized = st.memory_mib != 0 && (st.memory_mib != spec.resources.memory_mib ||
                                               st.max_clients != spec.resources.max_clients);
  st.endpoint = *ep;
  st.url = Url(*ep);
  st.memory_mib = spec.resources.memory_mib;
  st.max_clients = spec.resources.max_clients;
  st.plan = plan_name;
  st.phase = Phase::kReady;
  SetReady(st, true, "Running", "answering on " + st.url, gen);
  if (placed_mib == want.memory_mib) {
    api::SetCondition(st.conditions,
                      api::Condition{"Scaled", "True", resized ? "Resized" : "AtSpec",
                                     fmt::format("{} MiB, {} clients", st.memory_mib, st.max_clients),
                                     {}, gen},
                      now);
  }

  // Connection details for users (and the password for adoption after a restart).
  std::map<std::string, std::string> conn{{"password", *password},
                                          {"host", ep->host},
                                          {"port", std::to_string(ep->port)},
                                          {"url", st.url}};
  if (!saved) {  // the password came from spec.passwordSecretRef
    if (auto current = secrets_->ReadConnection(key)) saved = std::move(*current);
  }
  if (!saved || *saved != conn || st.connection_secret.empty()) {
    RF_ASSIGN_OR_RETURN(st.connection_secret, secrets_->WriteConnection(key, conn));
  }

  if (prober_) {
    auto usage = prober_->Probe(*ep, *password);
    if (usage) {
      st.used_memory_bytes = usage->used_memory_bytes;
      st.connected_clients = usage->connected_clients;
    } else {
      log_->Debug("usage probe failed", {{"key", key.ToString()}, {"error", usage.error().ToString()}});
    }
  }
  if (ri.status.phase != Phase::kReady) {
    log_->Info("instance ready", {{"key", key.ToString()}, {"host", st.host}, {"url", st.url}});
  }
  RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));

  milliseconds next = options_.health_interval;
  if (ri.status.expires_at) {
    auto left = std::chrono::duration_cast<milliseconds>(*ri.status.expires_at - clock_->Now());
    next = std::max(milliseconds(1), std::min(next, left));
  }
  return runtime::Result{next};
}

StatusOr<runtime::Result> RedisInstanceReconciler::ReconcileHeroku(api::RedisInstance ri,
                                                                   api::RedisInstanceStatus st) {
  const api::Key key = ri.metadata.key();
  const int64_t gen = ri.metadata.generation;
  if (!heroku_) {
    st.phase = Phase::kPending;
    SetReady(st, false, "Unsupported",
             "this operator runs without Heroku support; nothing was changed", gen);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
    return runtime::Result{};
  }
  // The finalizer drops the connection secret on deletion (the add-on itself is not ours).
  RF_RETURN_IF_ERROR(EnsureFinalizer(ri));
  std::string wanted = ri.spec.plan;
  if (plan_source_) {
    if (std::optional<api::Plan> plan = plan_source_(ri)) wanted = plan->name;
  }
  const Phase before = ri.status.phase;
  auto result = heroku_->Reconcile(ri, wanted, st);
  RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
  if (!result) return result.error();
  if (ri.status.phase == Phase::kReady && before != Phase::kReady) {
    log_->Info("instance ready", {{"key", key.ToString()}, {"plan", ri.status.plan}, {"url", ri.status.url}});
  }
  return result;
}

StatusOr<std::optional<std::string>> RedisInstanceReconciler::PreexistingHost(
    const std::string& pool_id, const PoolDrivers& drivers,
    const std::vector<providers::Host>& hosts, const std::string& uid) {
  std::lock_guard<std::mutex> lock(inventory_mu_);
  auto it = inventory_.find(pool_id);
  if (it == inventory_.end()) {
    std::map<std::string, std::string> by_uid;
    for (const auto& h : hosts) {
      if (!h.ready) continue;  // a host that doesn't answer can't be placed on either
      RF_ASSIGN_OR_RETURN(auto running, drivers.runtime->List(h));
      for (const auto& r : running) {
        if (r.pool_id == pool_id && !r.uid.empty()) by_uid.emplace(r.uid, h.name);
      }
    }
    it = inventory_.emplace(pool_id, std::move(by_uid)).first;
  }
  auto found = it->second.find(uid);
  if (found == it->second.end()) return std::optional<std::string>();
  const std::string host = found->second;
  for (const auto& h : hosts)
    if (h.name == host && h.ready) return std::optional<std::string>(host);
  return std::optional<std::string>();
}

StatusOr<std::optional<std::string>> RedisInstanceReconciler::OverQuota(
    const api::RedisInstance& ri, const api::HostPool& pool) {
  if (ri.spec.requester.empty()) return std::optional<std::string>();
  const int64_t limit = pool.spec.quota.max_instances_per_requester;
  RF_ASSIGN_OR_RETURN(auto all, store_->List(api::Kind::kRedisInstance));
  auto order = [](const api::RedisInstance& x) {
    return std::make_tuple(x.metadata.creation_timestamp.value_or(TimePoint{}), x.metadata.name);
  };
  int64_t before = 0;
  for (const auto& o : all) {
    const auto& other = std::get<api::RedisInstance>(o);
    if (other.metadata.uid == ri.metadata.uid) continue;
    if (other.metadata.namespace_ != ri.metadata.namespace_ ||
        other.spec.host_pool != ri.spec.host_pool || other.spec.requester != ri.spec.requester) {
      continue;
    }
    if (other.metadata.deleting() || other.status.phase == Phase::kExpired) continue;
    if (order(other) < order(ri)) ++before;
  }
  if (before < limit) return std::optional<std::string>();
  return std::optional<std::string>(
      fmt::format("requester {} already has {} instances in pool {} (quota {})",
                  ri.spec.requester, before, ri.spec.host_pool, limit));
}

Status RedisInstanceReconciler::StopServer(const api::RedisInstance& ri) {
  auto pool = ResolvePool(*store_, ri.metadata.namespace_, ri.spec.host_pool);
  if (!pool) {
    if (pool.error().code() == StatusCode::kNotFound) return Status::Ok();  // nothing reachable
    return pool.error();
  }
  RF_ASSIGN_OR_RETURN(auto drivers, pools_->Drivers(*pool));
  RF_ASSIGN_OR_RETURN(auto hosts, drivers.hosts->List(PoolRefOf(*pool)));
  for (const auto& host : hosts) {
    if (!ri.status.host.empty() && host.name != ri.status.host) continue;
    RF_ASSIGN_OR_RETURN(auto running, drivers.runtime->List(host));
    for (const auto& r : running) {
      if (r.uid != ri.metadata.uid) continue;
      RF_RETURN_IF_ERROR(drivers.runtime->Remove(host, r));
      log_->Info("server removed", {{"key", ri.metadata.key().ToString()}, {"host", host.name}});
    }
  }
  return Status::Ok();
}

StatusOr<runtime::Result> RedisInstanceReconciler::Finalize(api::RedisInstance ri) {
  const api::Key key = ri.metadata.key();
  if (!HasFinalizer(ri.metadata)) return runtime::Result{};
  api::RedisInstanceStatus st = ri.status;
  if (st.phase != Phase::kDeleting) {
    st.phase = Phase::kDeleting;
    SetReady(st, false, "Deleting",
             ri.spec.heroku ? "forgetting the add-on's connection details (the add-on is kept)"
                            : "stopping the server and removing its data",
             ri.metadata.generation);
    RF_RETURN_IF_ERROR(WriteStatus(ri, std::move(st)));
  }
  if (!ri.spec.heroku) RF_RETURN_IF_ERROR(StopServer(ri));  // an add-on is not ours to delete
  RF_RETURN_IF_ERROR(secrets_->DeleteConnection(key));
  ledger_->Release(key);
  std::vector<std::string> fins;
  for (const auto& f : ri.metadata.finalizers)
    if (f != api::kFinalizer) fins.push_back(f);
  RF_RETURN_IF_ERROR(store_->SetFinalizers(ri, fins));
  if (phases_) phases_->Set(key, std::nullopt);
  log_->Info("instance deleted", {{"key", key.ToString()}});
  return runtime::Result{};
}

}  // namespace redisfleet::controllers
