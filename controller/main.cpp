// The redis-fleet binary: wiring only. Builds the concrete objects, hands them to each other
// and runs them; every behaviour lives in src/.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "api/types.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/memory.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/info_prober.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "metrics/metrics.h"
#include "providers/local/local_host_provider.h"
#include "providers/process/process_runtime.h"
#include "runtime/controller.h"
#include "runtime/manager.h"
#include "server/http_server.h"
#include "store/dir_store.h"
#include "store/file_secrets.h"

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
};

// Adapts the DirStore to the Manager's start/stop order.
class StoreRunnable final : public runtime::Runnable {
 public:
  explicit StoreRunnable(std::shared_ptr<store::DirStore> store) : store_(std::move(store)) {}
  Status Start() override { return Status::Ok(); }  // started before the controllers are built
  void Stop(std::chrono::milliseconds) override { store_->Stop(); }

 private:
  std::shared_ptr<store::DirStore> store_;
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
  if (f.kubernetes) {
    std::cerr << "error: --kubernetes is not available in this build yet; run standalone with --dir\n";
    return 2;
  }
  if (f.dir.empty()) {
    std::cerr << "error: --dir is required (a directory of RedisInstance/HostPool/ScalingPolicy YAML)\n";
    return 2;
  }

  auto clock = std::make_shared<RealClock>();
  auto log = std::make_shared<Logger>(format, level, clock);
  auto random = std::make_shared<CryptoRandom>();
  auto metrics = std::make_shared<metrics::Metrics>();

  auto store = std::make_shared<store::DirStore>(
      store::DirStore::Options{f.dir, f.state_dir, std::chrono::milliseconds(100),
                               std::chrono::seconds(10), std::chrono::milliseconds(25)},
      clock, log->With({{"component", "dirstore"}}),
      random);
  store->SetProblemsCallback([metrics](std::size_t n) { metrics->SetInvalidResources(static_cast<int64_t>(n)); });
  auto secrets = std::make_shared<store::FileSecretStore>(f.dir, f.state_dir);

  providers::ProcessRuntime::Options process_opts;
  process_opts.root_dir = f.state_dir + "/redis";
  auto process_runtime = std::make_shared<providers::ProcessRuntime>(
      process_opts, clock, log->With({{"component", "process-runtime"}}));
  auto local_hosts = std::make_shared<providers::LocalHostProvider>();

  auto pools = std::make_shared<controllers::PoolRegistry>(
      [=](const api::HostPool& pool) -> StatusOr<controllers::PoolDrivers> {
        if (pool.spec.provider == api::HostProviderType::kLocal &&
            pool.spec.runtime == api::RuntimeType::kProcess) {
          return controllers::PoolDrivers{local_hosts, process_runtime};
        }
        return InvalidArgumentError(fmt::format(
            "spec.provider {} with spec.runtime {} is not available in this build yet "
            "(available: provider local with runtime process)",
            api::EnumName(pool.spec.provider), api::EnumName(pool.spec.runtime)));
      });
  auto ledger = std::make_shared<controllers::UsageLedger>();
  auto phases = std::make_shared<controllers::PhaseCounter>(
      [metrics](const std::map<std::string, int64_t>& counts) { metrics->SetInstancesByPhase(counts); });

  controllers::RedisInstanceOptions ri_opts;
  ri_opts.operator_id = f.operator_id;
  auto ri_reconciler = std::make_shared<controllers::RedisInstanceReconciler>(
      store, secrets, pools, ledger, std::make_shared<controllers::InfoProber>(), phases, clock,
      random, log->With({{"controller", "redisinstance"}}), ri_opts);
  controllers::HostPoolOptions hp_opts;
  hp_opts.operator_id = f.operator_id;
  auto hp_reconciler = std::make_shared<controllers::HostPoolReconciler>(
      store, pools, ledger, clock, log->With({{"controller", "hostpool"}}), hp_opts);

  // Desired state first: the initial scan, then the ledger from what statuses say.
  if (Status s = store->Start(); !s.ok()) {
    log->Error("cannot start the directory store", {{"error", s.ToString()}});
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
  auto keys_of = [store](api::Kind kind) {
    std::vector<api::Key> keys;
    if (auto all = store->List(kind)) {
      for (const auto& o : *all) keys.push_back(api::MetaOf(o).key());
    }
    return keys;
  };
  ri_ctrl->SetResyncSource([keys_of] { return keys_of(api::Kind::kRedisInstance); });
  hp_ctrl->SetResyncSource([keys_of] { return keys_of(api::Kind::kHostPool); });

  (void)store->Watch(api::Kind::kRedisInstance, [store, ri_ctrl, hp_ctrl](const store::Event& ev) {
    ri_ctrl->Enqueue(ev.key);
    if (auto o = store->Get(api::Kind::kRedisInstance, ev.key)) {
      const auto& ri = std::get<api::RedisInstance>(*o);
      if (!ri.spec.host_pool.empty()) hp_ctrl->Enqueue(api::Key{ev.key.namespace_, ri.spec.host_pool});
    }
  });
  (void)store->Watch(api::Kind::kHostPool, [store, ri_ctrl, hp_ctrl](const store::Event& ev) {
    hp_ctrl->Enqueue(ev.key);
    if (auto all = store->List(api::Kind::kRedisInstance)) {
      for (const auto& o : *all) {
        const auto& ri = std::get<api::RedisInstance>(o);
        if (ri.metadata.namespace_ == ev.key.namespace_ && ri.spec.host_pool == ev.key.name)
          ri_ctrl->Enqueue(ri.metadata.key());
      }
    }
  });

  auto ready = std::make_shared<std::atomic<bool>>(false);
  auto health = std::make_shared<server::HttpServer>("health", log->With({{"component", "health"}}));
  server::AddHealthRoutes(*health, [] { return true; }, [ready] { return ready->load(); });
  std::shared_ptr<server::HttpServer> metrics_server = health;
  if (f.metrics_addr != f.health_addr) {
    metrics_server = std::make_shared<server::HttpServer>("metrics", log->With({{"component", "metrics"}}));
  }
  server::AddMetricsRoute(*metrics_server, [metrics] { return metrics->Serialize(); });

  runtime::Manager manager(log->With({{"component", "manager"}}));
  manager.Add(std::make_shared<StoreRunnable>(store));
  manager.Add(std::make_shared<ServerRunnable>(health, f.health_addr));
  if (metrics_server != health) manager.Add(std::make_shared<ServerRunnable>(metrics_server, f.metrics_addr));
  manager.AddController(hp_ctrl);
  manager.AddController(ri_ctrl);
  if (Status s = manager.Start(); !s.ok()) {
    log->Error("cannot start", {{"error", s.ToString()}});
    store->Stop();
    return 1;
  }
  ready->store(true);
  log->Info("redis-fleet running", {{"dir", f.dir}, {"stateDir", f.state_dir},
                                    {"health", f.health_addr}, {"metrics", f.metrics_addr}});
  int rc = manager.RunUntilSignal(std::chrono::seconds(f.drain_seconds));
  log->Info("redis-fleet stopped", {{"exitCode", rc}});
  return rc;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) {
  using namespace redisfleet;
  LimitMallocArenas();
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

  CLI11_PARSE(app, argc, argv);

  if (*run) return Run(run_flags);
  if (*validate) return cli::Validate(validate_files, std::cout, std::cerr);
  if (*get) {
    return cli::Get(get_state_dir, get_kind,
                    get_output == "json" ? cli::OutputFormat::kJson : cli::OutputFormat::kTable,
                    RealClock().Now(), std::cout, std::cerr);
  }
  return 0;
}
