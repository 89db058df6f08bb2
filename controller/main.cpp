// The redis-fleet binary: wiring only. Builds the concrete objects, hands them to each other
// and runs them; every behaviour lives in src/.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "api/types.h"
#include "cli/commands.h"
#include "cli/simulate.h"
#include "controllers/scalingpolicy/collector_usage.h"
#include "controllers/scalingpolicy/reconciler.h"
#include "controllers/wiring.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/memory.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/info_prober.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/heroku.h"
#include "controllers/redisinstance/reconciler.h"
#include "metrics/metrics.h"
#include "agent/agent.h"
#include "providers/digitalocean/client.h"
#include "providers/digitalocean/cloud_init.h"
#include "providers/digitalocean/droplet_provider.h"
#include "providers/docker/docker_runtime.h"
#include "providers/local/local_host_provider.h"
#include "providers/process/process_runtime.h"
#include "providers/static/static_host_provider.h"
#include "redis/heartbeat.h"
#include "runtime/controller.h"
#include "runtime/manager.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/leader_election.h"
#include "kube/leader_runnable.h"
#include "server/dir_instance_requests.h"
#include "server/http_server.h"
#include "notify/notifier.h"
#include "redis/collector.h"
#include "server/kube_instance_requests.h"
#include "server/self_service.h"
#include "store/dir_store.h"
#include "store/file_secrets.h"
#include "store/event_recorder.h"
#include "store/kube_events.h"
#include "store/kube_secrets.h"
#include "store/kube_store.h"

namespace redisfleet {
namespace {

struct RunFlags {
  std::string dir;
  std::string state_dir = ".state";
  bool kubernetes = false;
  std::string metrics_addr = "127.0.0.1:9090";
  std::string health_addr = "127.0.0.1:8081";
  std::string log_format = "text";
  std::string log_level = "info";
  std::string operator_id = "redis-fleet";
  int workers = 4;
  int drain_seconds = 10;
  int orphan_grace_seconds = 60;
  int orphan_host_grace_seconds = 600;
  std::string self_service_addr;  // empty: off
  std::string self_service_pool = "local";
  std::string self_service_namespace = "default";
  std::string self_service_public_host;
  // Kubernetes mode.
  std::string kubeconfig;
  std::string kube_context;
  std::string watch_namespace;  // "" = all
  double kube_qps = 50;  // ~5 requests per new instance: 10,000 new instances converge in ~17 min
  int kube_burst = 100;
  bool leader_elect = true;
  std::string leader_election_namespace;  // "" = the config's namespace
  std::string leader_election_id = "redis-fleet-leader";
};

// Adapts the DirStore to the Manager's start/stop order.
// Adapts a store (started before the controllers are built) to the Manager's stop order.
class StoreRunnable final : public runtime::Runnable {
 public:
  explicit StoreRunnable(std::function<void()> stop) : stop_(std::move(stop)) {}
  Status Start() override { return Status::Ok(); }
  void Stop(std::chrono::milliseconds) override { stop_(); }

 private:
  std::function<void()> stop_;
};

// The Redis metrics collector's loop on a thread of its own.
class CollectorRunnable final : public runtime::Runnable {
 public:
  explicit CollectorRunnable(std::shared_ptr<redis::Collector> collector) : collector_(std::move(collector)) {}
  Status Start() override {
    thread_ = std::jthread([c = collector_](std::stop_token stop) { c->Run(stop); });
    return Status::Ok();
  }
  void Stop(std::chrono::milliseconds) override {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::shared_ptr<redis::Collector> collector_;
  std::jthread thread_;
};

class ServerRunnable final : public runtime::Runnable {
 public:
  ServerRunnable(std::shared_ptr<server::HttpServer> server, std::string addr)
      : server_(std::move(server)), addr_(std::move(addr)) {}
  Status Start() override { return server_->Start(addr_); }
  void Stop(std::chrono::milliseconds) override { server_->Stop(); }

 private:
  std::shared_ptr<server::HttpServer> server_;
  std::string addr_;
};

// The Docker runtime of a pool (spec.docker: image, network, TLS files, basic auth).
StatusOr<std::shared_ptr<providers::DockerRuntime>> DockerRuntimeFor(const api::HostPool& pool,
                                                                    store::SecretStore& secrets,
                                                                    std::shared_ptr<Clock> clock,
                                                                    const std::shared_ptr<Logger>& log) {
  const api::DockerSpec docker = pool.spec.docker.value_or(api::DockerSpec{});
  providers::DockerRuntime::Options opts;
  opts.image = docker.image;
  opts.network_mode = docker.network_mode;
  opts.bind_address = docker.bind_address == "0.0.0.0" ? "" : docker.bind_address;
  opts.default_endpoint = docker.endpoint;
  opts.ca_file = docker.tls.ca_file;
  opts.cert_file = docker.tls.cert_file;
  opts.key_file = docker.tls.key_file;
  if (docker.basic_auth_secret_ref) {
    auto auth = secrets.Read(pool.metadata.namespace_, *docker.basic_auth_secret_ref);
    if (!auth) return auth.error().WithContext("spec.docker.basicAuthSecretRef");
    opts.basic_auth = *auth;
  }
  return std::make_shared<providers::DockerRuntime>(
      opts, clock, log->With({{"component", "docker-runtime"}, {"pool", pool.metadata.name}}));
}

// OK when the host's Docker daemon answers.
std::function<Status(const providers::Host&)> PingThrough(std::shared_ptr<providers::DockerRuntime> runtime) {
  return [runtime](const providers::Host& h) -> Status {
    RF_ASSIGN_OR_RETURN(auto client, runtime->ClientFor(h));
    auto pong = client->Ping();
    return pong.ok() ? Status::Ok() : pong.status();
  };
}

// The hosts with a live heartbeat in the pool's discovery registry; empty without discovery.
std::function<StatusOr<std::set<std::string>>()> HeartbeatsOf(const api::HostPool& pool,
                                                             std::shared_ptr<Logger> log) {
  if (!pool.spec.discovery || pool.spec.discovery->redis_url.empty()) return {};
  auto registry = std::make_shared<redis::HeartbeatRegistry>(pool.spec.discovery->redis_url,
                                                             std::chrono::milliseconds(2000));
  const std::string prefix = pool.spec.discovery->key_prefix;
  return [registry, prefix, log]() -> StatusOr<std::set<std::string>> {
    auto scan = registry->Scan(prefix);
    if (!scan.ok()) {
      log->Warn("cannot read the heartbeat registry; judging hosts by ping",
                {{"error", scan.status().ToString()}});
      return scan.status();
    }
    std::set<std::string> alive;
    for (const auto& [name, beat] : scan->hosts) alive.insert(name);
    for (const auto& [name, why] : scan->unparsable) {
      alive.insert(name);  // it beats; only its content is unreadable
      log->Warn("unreadable heartbeat", {{"host", name}, {"problem", why}});
    }
    return alive;
  };
}

// The drivers of a Docker pool (provider local or static, runtime docker).
StatusOr<controllers::PoolDrivers> DockerPoolDrivers(const api::HostPool& pool,
                                                     store::SecretStore& secrets,
                                                     std::shared_ptr<Clock> clock,
                                                     std::shared_ptr<Logger> log) {
  RF_ASSIGN_OR_RETURN(auto runtime, DockerRuntimeFor(pool, secrets, clock, log));
  const api::DockerSpec docker = pool.spec.docker.value_or(api::DockerSpec{});
  std::vector<api::StaticHost> hosts;
  if (pool.spec.provider == api::HostProviderType::kLocal) {
    const std::string address =
        docker.bind_address.empty() || docker.bind_address == "0.0.0.0" ? "127.0.0.1"
                                                                         : docker.bind_address;
    hosts.push_back(api::StaticHost{"local", docker.endpoint, address});
  } else {
    hosts = pool.spec.static_hosts.value_or(api::StaticSpec{}).hosts;
  }
  auto provider = std::make_shared<providers::StaticHostProvider>(std::move(hosts), PingThrough(runtime),
                                                                  HeartbeatsOf(pool, log));
  return controllers::PoolDrivers{provider, runtime};
}

// One DigitalOcean client per (API URL, token): the rate limit is the account's, so every pool
// of one account spends from one budget. Thread-safe.
class DigitalOceanClients {
 public:
  DigitalOceanClients(std::shared_ptr<Clock> clock, digitalocean::ClientObserver observer)
      : clock_(std::move(clock)), observer_(std::move(observer)) {}
  std::shared_ptr<digitalocean::Client> For(const std::string& api_url, const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = clients_[{api_url, token}];
    if (!c) {
      digitalocean::ClientOptions o;
      o.api_url = api_url;
      o.token = token;
      c = std::make_shared<digitalocean::Client>(o, clock_, nullptr, nullptr, observer_);
    }
    return c;
  }

 private:
  std::shared_ptr<Clock> clock_;
  digitalocean::ClientObserver observer_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<digitalocean::Client>> clients_;
};

// The drivers of a DigitalOcean pool: droplets (created with cloud-init user-data that makes each a
// Docker host) and the Docker runtime that reaches them.
StatusOr<controllers::PoolDrivers> DigitalOceanPoolDrivers(const api::HostPool& pool, store::SecretStore& secrets,
                                                           std::shared_ptr<Clock> clock, std::shared_ptr<Logger> log,
                                                           const std::string& operator_id,
                                                           DigitalOceanClients& clients) {
  if (pool.spec.runtime != api::RuntimeType::kDocker)
    return InvalidArgumentError("spec.runtime must be docker when provider is digitalocean");
  const api::DigitalOceanSpec d = pool.spec.digitalocean.value_or(api::DigitalOceanSpec{});
  const std::string& ns = pool.metadata.namespace_;
  if (d.host_tls_secret_name.empty() && !pool.spec.docker.value_or(api::DockerSpec{}).basic_auth_secret_ref)
    return InvalidArgumentError(
        "spec.digitalocean.hostTLSSecretName is required unless spec.docker.basicAuthSecretRef is set: a "
        "droplet's Docker API is exposed only through TLS or the basic-auth proxy");
  if (pool.spec.discovery && d.agent_url.empty())
    return InvalidArgumentError(
        "spec.digitalocean.agentURL is required with spec.discovery: the droplets run `redis-fleet agent` "
        "to heartbeat");
  auto token = secrets.Read(ns, d.token_secret_ref);
  if (!token) return token.error().WithContext("spec.digitalocean.tokenSecretRef");
  RF_ASSIGN_OR_RETURN(auto runtime, DockerRuntimeFor(pool, secrets, clock, log));

  // What every host's cloud-init gets; the name is filled in per host.
  digitalocean::CloudInitOptions boot;
  boot.docker_port = static_cast<int>(d.docker_port);
  boot.redis_image = pool.spec.docker.value_or(api::DockerSpec{}).image;
  boot.redis_image_url = d.image_url;
  boot.redis_fleet_url = d.agent_url;
  if (!d.host_tls_secret_name.empty()) {
    boot.docker_access = digitalocean::CloudInitOptions::DockerAccess::kTls;
    for (auto [key, field] : {std::pair{"ca.pem", &boot.ca_pem}, std::pair{"cert.pem", &boot.server_cert_pem},
                              std::pair{"key.pem", &boot.server_key_pem}}) {
      auto v = secrets.Read(ns, api::SecretKeyRef{d.host_tls_secret_name, key});
      if (!v) return v.error().WithContext("spec.digitalocean.hostTLSSecretName");
      *field = *v;
    }
  } else {
    boot.docker_access = digitalocean::CloudInitOptions::DockerAccess::kBasicAuthProxy;
    const auto docker = pool.spec.docker.value_or(api::DockerSpec{});
    if (docker.basic_auth_secret_ref) {
      auto auth = secrets.Read(ns, *docker.basic_auth_secret_ref);
      if (!auth) return auth.error().WithContext("spec.docker.basicAuthSecretRef");
      boot.basic_auth = *auth;
    }
  }
  if (pool.spec.discovery) {
    boot.discovery_url = pool.spec.discovery->redis_url;
    boot.discovery_key_prefix = pool.spec.discovery->key_prefix;
    boot.discovery_ttl_seconds = pool.spec.discovery->ttl_seconds;
  }
  digitalocean::DropletProviderOptions o;
  o.operator_id = operator_id;
  o.region = d.region;
  o.size = d.size;
  o.image = d.image;
  o.ssh_keys = d.ssh_keys;
  o.tags = d.tags;
  o.vpc_uuid = d.vpc_uuid;
  o.docker_port = d.docker_port;
  o.user_data = [boot](const std::string& host) -> StatusOr<std::string> {
    digitalocean::CloudInitOptions mine = boot;
    mine.host_name = host;
    return digitalocean::GenerateCloudInit(mine);
  };
  o.ping = PingThrough(runtime);
  o.heartbeats = HeartbeatsOf(pool, log);
  auto provider = std::make_shared<digitalocean::DropletHostProvider>(clients.For(d.api_url, *token), o, clock);
  return controllers::PoolDrivers{provider, runtime};
}

int Run(const RunFlags& f) {
  LogFormat format;
  LogLevel level;
  if (!ParseLogFormat(f.log_format, &format)) {
    std::cerr << "error: --log-format must be text or json (got " << f.log_format << ")\n";
    return 2;
  }
  if (!ParseLogLevel(f.log_level, &level)) {
    std::cerr << "error: --log-level must be debug, info, warn or error (got " << f.log_level << ")\n";
    return 2;
  }
  if (f.kubernetes && !f.dir.empty()) {
    std::cerr << "error: --dir (standalone) and --kubernetes exclude each other\n";
    return 2;
  }
  if (!f.kubernetes && f.dir.empty()) {
    std::cerr << "error: --dir is required (a directory of RedisInstance/HostPool/ScalingPolicy YAML), "
                 "or --kubernetes\n";
    return 2;
  }


  auto clock = std::make_shared<RealClock>();
  auto log = std::make_shared<Logger>(format, level, clock);
  auto random = std::make_shared<CryptoRandom>();
  auto metrics = std::make_shared<metrics::Metrics>();

  // The store (and secrets) of the mode: a directory of YAML, or the Kubernetes API.
  std::shared_ptr<store::ObjectStore> store;
  std::shared_ptr<store::SecretStore> secrets;
  std::shared_ptr<store::DirStore> dir_store;
  std::shared_ptr<store::KubeStore> kube_store;
  std::shared_ptr<store::KubeSecretStore> kube_secrets;
  std::shared_ptr<kube::KubeClient> kube_client;
  if (f.kubernetes) {
    auto config = kube::LoadDefaultConfig(f.kubeconfig, f.kube_context, kube::ProcessEnv());
    if (!config.ok()) {
      log->Error("cannot load the Kubernetes configuration", {{"error", config.status().ToString()}});
      return 2;
    }
    kube::KubeClient::Options ko;
    ko.config = *config;
    ko.qps = f.kube_qps;
    ko.burst = f.kube_burst;
    ko.user_agent = "redis-fleet/0.1.0";
    kube_client = std::make_shared<kube::KubeClient>(ko, *clock);
    store::KubeStore::Options so;
    so.namespace_ = f.watch_namespace;
    kube_store = std::make_shared<store::KubeStore>(so, kube_client, log->With({{"component", "kubestore"}}));
    store = kube_store;
    store::KubeSecretStore::Options sso;
    sso.namespace_ = f.watch_namespace;
    kube_secrets = std::make_shared<store::KubeSecretStore>(sso, kube_client, kube_store,
                                                            log->With({{"component", "secrets"}}));
    secrets = kube_secrets;
  } else {
    dir_store = std::make_shared<store::DirStore>(
        store::DirStore::Options{f.dir, f.state_dir, std::chrono::milliseconds(100),
                                 std::chrono::seconds(10), std::chrono::milliseconds(25),
                                 f.state_dir + "/self-service"},
        clock, log->With({{"component", "dirstore"}}), random);
    dir_store->SetProblemsCallback(
        [metrics](std::size_t n) { metrics->SetInvalidResources(static_cast<int64_t>(n)); });
    store = dir_store;
    secrets = std::make_shared<store::FileSecretStore>(f.dir, f.state_dir);
  }

  providers::ProcessRuntime::Options process_opts;
  process_opts.root_dir = f.state_dir + "/redis";
  auto process_runtime = std::make_shared<providers::ProcessRuntime>(
      process_opts, clock, log->With({{"component", "process-runtime"}}));
  auto local_hosts = std::make_shared<providers::LocalHostProvider>();

  // Provider APIs (DigitalOcean, Heroku): every response counted by status code, the account's
  // remaining budget.
  auto& api_requests = prometheus::BuildCounter()
                           .Name("redisfleet_api_requests_total")
                           .Help("Requests sent to a provider API, by HTTP status (0: no response)")
                           .Register(*metrics->registry());
  auto& rate_limit_family = prometheus::BuildGauge()
                                .Name("redisfleet_api_ratelimit_remaining")
                                .Help("Calls left in the provider API's current rate-limit window")
                                .Register(*metrics->registry());
  // A provider's rate-limit series appears with its first answer: a 0 before any call would read
  // as "exhausted".
  digitalocean::ClientObserver do_observer;
  do_observer.on_response = [&api_requests](long code) {
    api_requests.Add({{"provider", "digitalocean"}, {"code", std::to_string(code)}}).Increment();
  };
  do_observer.on_rate_limit = [&rate_limit_family](const digitalocean::RateLimit& r) {
    if (r.remaining >= 0) {
      rate_limit_family.Add({{"provider", "digitalocean"}}).Set(static_cast<double>(r.remaining));
    }
  };
  auto do_clients = std::make_shared<DigitalOceanClients>(clock, do_observer);

  auto pools = std::make_shared<controllers::PoolRegistry>(
      [=](const api::HostPool& pool) -> StatusOr<controllers::PoolDrivers> {
        if (pool.spec.runtime == api::RuntimeType::kProcess) {
          if (pool.spec.provider == api::HostProviderType::kLocal) {
            return controllers::PoolDrivers{local_hosts, process_runtime};
          }
          return InvalidArgumentError("spec.runtime process runs on this machine only: use "
                                      "provider local, or runtime docker");
        }
        if (pool.spec.provider == api::HostProviderType::kLocal ||
            pool.spec.provider == api::HostProviderType::kStatic) {
          return DockerPoolDrivers(pool, *secrets, clock, log);
        }
        return DigitalOceanPoolDrivers(pool, *secrets, clock,
                                       log->With({{"component", "digitalocean"}, {"pool", pool.metadata.name}}),
                                       f.operator_id, *do_clients);
      });
  auto ledger = std::make_shared<controllers::UsageLedger>();
  auto phases = std::make_shared<controllers::PhaseCounter>(
      [metrics](const std::map<std::string, int64_t>& counts) { metrics->SetInstancesByPhase(counts); });

  controllers::RedisInstanceOptions ri_opts;
  ri_opts.operator_id = f.operator_id;
  auto ri_reconciler = std::make_shared<controllers::RedisInstanceReconciler>(
      store, secrets, pools, ledger, std::make_shared<controllers::InfoProber>(), phases, clock,
      random, log->With({{"controller", "redisinstance"}}), ri_opts);
  std::shared_ptr<store::EventRecorder> events;
  if (kube_client) {
    events = std::make_shared<store::KubeEventRecorder>(kube_client, clock, log->With({{"component", "events"}}),
                                                        kube::DefaultLeaderIdentity());
  } else {
    events = std::make_shared<store::LogEventRecorder>(log->With({{"component", "events"}}));
  }
  ri_reconciler->SetEventRecorder(events);
  ri_reconciler->SetPlanSource(
      [store](const api::RedisInstance& ri) { return controllers::EffectivePlan(*store, ri); });
  // Heroku add-ons: one Platform API client per (apiURL, key); every response counted,
  // RateLimit-Remaining as a gauge.
  heroku::HerokuClientOptions heroku_base;
  heroku_base.on_response = [&api_requests](long code) {
    api_requests.Add({{"provider", "heroku"}, {"code", std::to_string(code)}}).Increment();
  };
  auto heroku_api = std::make_shared<controllers::HerokuClientFactory>(
      clock, heroku_base, [&rate_limit_family](int64_t remaining) {
        rate_limit_family.Add({{"provider", "heroku"}}).Set(static_cast<double>(remaining));
      });
  controllers::HerokuActuatorOptions heroku_opts;
  heroku_opts.health_interval = ri_opts.health_interval;
  heroku_opts.pending_retry = ri_opts.pending_retry;
  ri_reconciler->SetHerokuActuator(std::make_shared<controllers::HerokuActuator>(
      heroku_api, secrets, clock, log->With({{"controller", "redisinstance"}, {"component", "heroku"}}),
      heroku_opts));

  // ScalingPolicies: metrics from a collector (one persistent INFO connection per instance),
  // decisions in their status, notifications.
  auto collector = std::make_shared<redis::Collector>(*clock, metrics->registry(), redis::Collector::Options{});
  auto notifier = std::make_shared<notify::Notifier>(clock, metrics->registry(), log->With({{"component", "notify"}}));
  auto sp_reconciler = std::make_shared<controllers::ScalingPolicyReconciler>(
      store, secrets, std::make_shared<controllers::CollectorUsage>(collector), notifier, events, clock,
      log->With({{"controller", "scalingpolicy"}}));
  sp_reconciler->SetOnDecision([metrics](const std::string& action) { metrics->CountScalingDecision(action); });
  sp_reconciler->SetHerokuApi(heroku_api);
  controllers::HostPoolOptions hp_opts;
  hp_opts.operator_id = f.operator_id;
  hp_opts.orphan_grace = std::chrono::seconds(f.orphan_grace_seconds);
  hp_opts.orphan_scan_interval =
      std::min<std::chrono::milliseconds>(std::chrono::seconds(30), hp_opts.orphan_grace / 2);
  hp_opts.orphan_host_grace = std::chrono::seconds(f.orphan_host_grace_seconds);
  hp_opts.orphan_host_scan_interval =
      std::min<std::chrono::milliseconds>(std::chrono::minutes(10), hp_opts.orphan_host_grace / 2);
  // Hosts by state and what the pool's machines cost.
  auto& pool_cost = prometheus::BuildGauge()
                        .Name("redisfleet_pool_monthly_cost_dollars")
                        .Help("What the pool's machines cost per month (provider list prices)")
                        .Register(*metrics->registry());
  hp_opts.on_status = [metrics, &pool_cost](const api::HostPool& pool) {
    std::map<std::string, int64_t> counts;
    for (const auto& h : pool.status.hosts) ++counts[std::string(api::EnumName(h.state))];
    const std::string id = pool.metadata.namespace_ + "/" + pool.metadata.name;
    metrics->SetHostsByState(id, counts);
    pool_cost.Add({{"pool", id}}).Set(pool.status.monthly_cost);
  };
  hp_opts.on_forgotten = [metrics, &pool_cost](const api::Key& pool) {
    const std::string id = pool.namespace_ + "/" + pool.name;
    metrics->RemovePool(id);
    pool_cost.Remove(&pool_cost.Add({{"pool", id}}));
  };
  // Set once the instance controller exists: a host changing state (Lost) wakes its instances.
  auto on_hosts_changed = std::make_shared<std::function<void(const api::Key&)>>();
  hp_opts.on_hosts_changed = [on_hosts_changed](const api::Key& pool) {
    if (*on_hosts_changed) (*on_hosts_changed)(pool);
  };
  auto hp_reconciler = std::make_shared<controllers::HostPoolReconciler>(
      store, pools, ledger, clock, log->With({{"controller", "hostpool"}}), hp_opts);

  // Desired state first: the initial scan or list, then the ledger from what statuses say.
  if (Status s = dir_store ? dir_store->Start() : kube_store->Start(); !s.ok()) {
    log->Error("cannot start the store", {{"error", s.ToString()}});
    return 1;
  }

  if (Status s = ri_reconciler->Prime(); !s.ok()) {
    log->Error("cannot read instances", {{"error", s.ToString()}});
    return 1;
  }

  runtime::ControllerOptions ctrl_opts;
  ctrl_opts.workers = f.workers;
  ctrl_opts.jitter = [random] { return random->NextDouble(); };
  auto ri_ctrl = std::make_shared<runtime::Controller>(
      "redisinstance", ri_reconciler, ctrl_opts, clock, log, metrics.get());
  auto hp_ctrl = std::make_shared<runtime::Controller>(
      "hostpool", hp_reconciler, ctrl_opts, clock, log, metrics.get());
  auto sp_ctrl = std::make_shared<runtime::Controller>(
      "scalingpolicy", sp_reconciler, ctrl_opts, clock, log, metrics.get());
  sp_reconciler->SetOnPlanChanged([ri_ctrl](const api::Key& instance) { ri_ctrl->Enqueue(instance); });
  *on_hosts_changed = [store, ri_ctrl](const api::Key& pool) {
    controllers::EnqueueInstancesOfPool(*store, *ri_ctrl, pool);
  };
  controllers::ConnectControllers(store, {ri_ctrl, hp_ctrl, sp_ctrl});
  controllers::WakePoolsOnUsage(*ledger, hp_ctrl);
  if (kube_secrets) {
    // A connection Secret edited or deleted by someone else wakes its instance, which writes it
    // back.
    kube_secrets->SetOnChanged([ri_ctrl](const api::Key& instance) { ri_ctrl->Enqueue(instance); });
    if (Status s = kube_secrets->Start(); !s.ok()) {
      log->Error("cannot list connection Secrets", {{"error", s.ToString()}});
      return 1;
    }
  }

  auto ready = std::make_shared<std::atomic<bool>>(false);
  auto health = std::make_shared<server::HttpServer>("health", log->With({{"component", "health"}}));
  server::AddHealthRoutes(*health, [] { return true; }, [ready] { return ready->load(); });
  std::shared_ptr<server::HttpServer> metrics_server = health;
  if (f.metrics_addr != f.health_addr) {
    metrics_server = std::make_shared<server::HttpServer>("metrics", log->With({{"component", "metrics"}}));
  }
  server::AddMetricsRoute(*metrics_server, [metrics] { return metrics->Serialize(); });

  std::shared_ptr<server::HttpServer> self_service_http;
  std::shared_ptr<server::SelfService> self_service;
  if (!f.self_service_addr.empty()) {
    server::SelfServiceOptions ss_opts;
    ss_opts.pool = f.self_service_pool;
    ss_opts.public_host = f.self_service_public_host;
    ss_opts.namespace_ = f.self_service_namespace;
    std::shared_ptr<server::InstanceRequests> requests;
    if (kube_client) {
      requests = std::make_shared<server::KubeInstanceRequests>(kube_client, store);
    } else {
      requests = std::make_shared<server::DirInstanceRequests>(dir_store, f.state_dir + "/self-service");
    }
    self_service = std::make_shared<server::SelfService>(store, secrets, requests, clock, random,
                                                         log->With({{"component", "self-service"}}), ss_opts);
    self_service_http = std::make_shared<server::HttpServer>(
        "self-service", log->With({{"component", "self-service"}}), clock);
    self_service->Register(self_service_http->raw());
  }

  runtime::Manager manager(log->With({{"component", "manager"}}));
  manager.Add(std::make_shared<StoreRunnable>([dir_store, kube_store, kube_secrets] {
    if (dir_store) dir_store->Stop();
    if (kube_secrets) kube_secrets->Stop();
    if (kube_store) kube_store->Stop();
  }));
  manager.Add(std::make_shared<CollectorRunnable>(collector));
  manager.Add(std::make_shared<ServerRunnable>(health, f.health_addr));
  if (metrics_server != health) manager.Add(std::make_shared<ServerRunnable>(metrics_server, f.metrics_addr));
  if (self_service_http) {
    manager.Add(std::make_shared<ServerRunnable>(self_service_http, f.self_service_addr));
  }
  std::shared_ptr<kube::KubeClient> election_client;
  std::shared_ptr<kube::LeaderOnlyRunnable> leader_only;
  if (f.kubernetes && f.leader_elect) {
    // Its own client: requests must time out well within the renew deadline.
    kube::KubeClient::Options eo;
    eo.config = *kube::LoadDefaultConfig(f.kubeconfig, f.kube_context, kube::ProcessEnv());
    eo.request_timeout = std::chrono::seconds(4);
    eo.user_agent = "redis-fleet/0.1.0 leader-election";
    election_client = std::make_shared<kube::KubeClient>(eo, *clock);
    kube::LeaderElector::Options lo;
    lo.namespace_ = f.leader_election_namespace;
    lo.name = f.leader_election_id;
    leader_only = std::make_shared<kube::LeaderOnlyRunnable>(
        *election_client, clock, log->With({{"component", "leader-election"}}), lo,
        std::vector<std::shared_ptr<runtime::Runnable>>{runtime::ControllerAsRunnable(hp_ctrl),
                                                        runtime::ControllerAsRunnable(ri_ctrl),
                                                        runtime::ControllerAsRunnable(sp_ctrl)},
        [metrics] { metrics->SetLeader(true); },
        [&manager, metrics] {
          metrics->SetLeader(false);
          manager.RequestStop();
        });
    manager.Add(leader_only);
  } else {
    manager.AddController(hp_ctrl);
    manager.AddController(ri_ctrl);
    manager.AddController(sp_ctrl);
    metrics->SetLeader(true);
  }
  if (Status s = manager.Start(); !s.ok()) {
    log->Error("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  ready->store(true);
  log->Info("redis-fleet running", {{"mode", f.kubernetes ? "kubernetes" : "standalone"},
                                    {"dir", f.dir}, {"stateDir", f.state_dir},
                                    {"health", f.health_addr}, {"metrics", f.metrics_addr}});
  int rc = manager.RunUntilSignal(std::chrono::seconds(f.drain_seconds));
  if (leader_only && leader_only->lost()) rc = 1;  // a fresh process rejoins the election
  log->Info("redis-fleet stopped", {{"exitCode", rc}});
  return rc;
}

// `redis-fleet agent`: heartbeats of one Docker host until SIGTERM/SIGINT.
int Agent(const agent::Options& options, const std::string& log_format, const std::string& log_level) {
  LogFormat format;
  LogLevel level;
  if (!ParseLogFormat(log_format, &format) || !ParseLogLevel(log_level, &level)) {
    std::cerr << "error: --log-format must be text or json, --log-level debug|info|warn|error\n";
    return 2;
  }
  auto log = std::make_shared<Logger>(format, level, std::make_shared<RealClock>());
  // Signals are blocked in every thread (BlockSignals); poll for one without waiting.
  auto stop = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    timespec zero{0, 0};
    return sigtimedwait(&set, nullptr, &zero) > 0;
  };
  return agent::Run(options, log, stop);
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) {
  using namespace redisfleet;
  LimitMallocArenas();
  // hiredis and libcurl write to sockets with write(): a peer that closed must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  runtime::Manager::BlockSignals();  // before any thread exists, so every thread inherits it

  CLI::App app{"redis-fleet: hosts Redis and right-sizes it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "redis-fleet 0.1.0");

  RunFlags run_flags;
  auto* run = app.add_subcommand("run", "Run the operator (standalone: --dir and --state-dir)");
  run->add_option("--dir", run_flags.dir, "Directory of resource YAML files (standalone mode)");
  run->add_option("--state-dir", run_flags.state_dir, "Where status, secrets and Redis data live")
      ->capture_default_str();
  run->add_flag("--kubernetes", run_flags.kubernetes, "Read resources from a Kubernetes API server");
  run->add_option("--metrics-addr", run_flags.metrics_addr, "Address of /metrics")->capture_default_str();
  run->add_option("--health-addr", run_flags.health_addr, "Address of /healthz and /readyz")
      ->capture_default_str();
  run->add_option("--log-format", run_flags.log_format, "text or json")->capture_default_str();
  run->add_option("--log-level", run_flags.log_level, "debug, info, warn or error")->capture_default_str();
  run->add_option("--operator-id", run_flags.operator_id,
                  "Value of the redisfleet.io/managed-by label on everything this operator creates")
      ->capture_default_str();
  run->add_option("--workers", run_flags.workers, "Reconcile workers per kind")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  run->add_option("--orphan-grace-seconds", run_flags.orphan_grace_seconds,
                  "How long a Redis labelled as ours that no RedisInstance owns is left before removal")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  run->add_option("--orphan-host-grace-seconds", run_flags.orphan_host_grace_seconds,
                  "How long a droplet tagged as ours whose HostPool no longer exists is left before deletion")
      ->check(CLI::Range(1, 7 * 86400))
      ->capture_default_str();
  run->add_option("--self-service-addr", run_flags.self_service_addr,
                  "Serve the one-click page and /v1/instances here (e.g. 127.0.0.1:8080); off when empty");
  run->add_option("--self-service-pool", run_flags.self_service_pool,
                  "HostPool that self-service instances go to (its spec.quota applies)")
      ->capture_default_str();
  run->add_option("--self-service-namespace", run_flags.self_service_namespace,
                  "Namespace of the self-service HostPool and of the instances it creates")
      ->capture_default_str();
  run->add_option("--self-service-public-host", run_flags.self_service_public_host,
                  "Host name shown in the connection line (default: the instance's endpoint host)");
  run->add_option("--kubeconfig", run_flags.kubeconfig,
                  "Kubernetes mode: kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  run->add_option("--context", run_flags.kube_context, "Kubernetes mode: kubeconfig context");
  run->add_option("--watch-namespace", run_flags.watch_namespace,
                  "Kubernetes mode: only this namespace (default: all)");
  run->add_option("--kube-qps", run_flags.kube_qps, "Kubernetes API requests per second")->capture_default_str();
  run->add_option("--kube-burst", run_flags.kube_burst, "Kubernetes API burst")->capture_default_str();
  run->add_option("--leader-elect", run_flags.leader_elect,
                  "Kubernetes mode: reconcile only while holding the Lease")
      ->capture_default_str();
  run->add_option("--leader-election-namespace", run_flags.leader_election_namespace,
                  "Namespace of the Lease (default: the configuration's namespace)");
  run->add_option("--leader-election-id", run_flags.leader_election_id, "Name of the Lease")
      ->capture_default_str();
  run->add_option("--drain-seconds", run_flags.drain_seconds,
                  "How long SIGTERM waits for in-flight reconciles")
      ->capture_default_str();

  std::vector<std::string> validate_files;
  auto* validate = app.add_subcommand("validate", "Check resource files; exit 1 and one line per problem");
  validate->add_option("-f,--filename", validate_files, "YAML files")->required()->check(CLI::ExistingFile);

  std::string get_kind, get_state_dir = ".state", get_output = "table";
  auto* get = app.add_subcommand("get", "Show resources and their status (standalone mode)");
  get->add_option("kind", get_kind, "redisinstances|ri, hostpools|hp, scalingpolicies|sp (default: all)");
  get->add_option("--state-dir", get_state_dir, "The operator's --state-dir")->capture_default_str();
  get->add_option("-o,--output", get_output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  std::string sim_policy, sim_trace, sim_output = "text", sim_plot;
  auto* simulate = app.add_subcommand("simulate", "Replay a metrics trace through a ScalingPolicy's decisions");
  simulate->add_option("--policy", sim_policy, "ScalingPolicy YAML (its plans listed)")
      ->required()
      ->check(CLI::ExistingFile);
  simulate->add_option("--trace", sim_trace, "CSV: timestamp,used_memory_bytes,connected_clients")
      ->required()
      ->check(CLI::ExistingFile);
  simulate->add_option("-o,--output", sim_output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  simulate->add_option("--plot", sim_plot, "Also write an SVG of used memory against plan capacity here");

  agent::Options agent_opts;
  std::string agent_log_format = "text", agent_log_level = "info";
  int64_t agent_ttl = 10, agent_interval_ms = 3000;
  auto* agent_cmd = app.add_subcommand("agent", "Announce this Docker host in a pool's discovery Redis");
  agent_cmd->add_option("--discovery-url", agent_opts.discovery_url,
                        "redis://[user:password@]host:port/db of the registry (spec.discovery.redisURL); "
                        "better given as REDISFLEET_DISCOVERY_URL, which ps does not show")
      ->envname("REDISFLEET_DISCOVERY_URL")
      ->required();
  agent_cmd->add_option("--key-prefix", agent_opts.key_prefix, "spec.discovery.keyPrefix")
      ->capture_default_str();
  agent_cmd->add_option("--name", agent_opts.name, "This host's name in its pool")->required();
  agent_cmd->add_option("--address", agent_opts.address, "Where clients reach this host's Redis servers")
      ->required();
  agent_cmd->add_option("--docker-endpoint", agent_opts.docker_endpoint, "This host's Docker Engine API")
      ->capture_default_str();
  agent_cmd->add_option("--ttl-seconds", agent_ttl, "Heartbeat expiry (spec.discovery.ttlSeconds)")
      ->capture_default_str();
  agent_cmd->add_option("--interval-ms", agent_interval_ms, "Time between heartbeats")->capture_default_str();
  agent_cmd->add_option("--log-format", agent_log_format, "text or json")->capture_default_str();
  agent_cmd->add_option("--log-level", agent_log_level, "debug, info, warn or error")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (*agent_cmd) {
    agent_opts.ttl = std::chrono::seconds(agent_ttl);
    agent_opts.interval = std::chrono::milliseconds(agent_interval_ms);
    // The proxy credentials come from the environment, never the command line (ps shows it).
    if (const char* auth = std::getenv("REDISFLEET_DOCKER_BASIC_AUTH")) agent_opts.docker_basic_auth = auth;
    return Agent(agent_opts, agent_log_format, agent_log_level);
  }

  if (*run) return Run(run_flags);
  if (*validate) return cli::Validate(validate_files, std::cout, std::cerr);
  if (*simulate) return cli::RunSimulate(sim_policy, sim_trace, sim_output, sim_plot, std::cout, std::cerr);
  if (*get) {
    return cli::Get(get_state_dir, get_kind,
                    get_output == "json" ? cli::OutputFormat::kJson : cli::OutputFormat::kTable,
                    RealClock().Now(), std::cout, std::cerr);
  }
  return 0;
}
