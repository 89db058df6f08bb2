// Kubernetes-mode throughput: N RedisInstances as custom resources on the in-process fake API
// server (tests/fakes/kube-apiserver, the repository's CRDs), reconciled through the real
// KubeClient (rate limited), KubeStore, KubeSecretStore, work queues and reconcilers, wired as
// `redis-fleet run --kubernetes` wires them, onto in-memory hosts (MemoryRuntime: no processes,
// no INFO prober). Seeding (one HostPool, N RedisInstances, created with their own unlimited
// client before the operator starts) is timed apart. Prints time from starting the KubeStore to
// all Ready (the PhaseCounter, then confirmed on the server), the API requests the operator made
// (total, writes = resourceVersions consumed, reads = the rest), reconciles, and memory (the fake
// lives in this process: RSS after seeding is mostly its share).
//
//   bench_kube_reconcile N [qps] [burst] [workers]      qps <= 0 or >= 1e6: unlimited
// Defaults: 1000 200 400 4. Env KUBE_BENCH_HISTORY: the fake's watch history (default 1000, the
// fake's default); KUBE_BENCH_LOG=warn: the operator's warnings on stderr.
// Run once per N (peak RSS is per process); bench/run-kube-reconcile runs 1,000 and 10,000.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <malloc.h>
#include <nlohmann/json.hpp>

#include "api/types.h"
#include "common/memory_fleet.h"  // bench/common
#include "common/clock.h"
#include "common/logging.h"
#include "common/memory.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "controllers/wiring.h"
#include "fake_apiserver.h"
#include "kube/client.h"
#include "providers/memory/memory_runtime.h"
#include "runtime/controller.h"
#include "store/kube_secrets.h"
#include "store/kube_store.h"
#include "support/wait.h"

namespace redisfleet {
namespace {

using nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr char kNamespace[] = "default";
constexpr char kPool[] = "mem";

// Counts finished reconciles of one controller, by outcome.
class CountingObserver final : public runtime::ReconcileObserver {
 public:
  void ReconcileDone(std::string_view, runtime::ReconcileOutcome outcome, double) override {
    ++done;
    if (outcome == runtime::ReconcileOutcome::kError) ++errors;
  }
  void QueueDepth(std::string_view, std::size_t) override {}
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> errors{0};
};

// Current resident set size (VmRSS), in KiB; -1 when unknown.
int64_t RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string InstanceName(int i) { return fmt::format("r{}", i); }

// Creates the pool and `n` instances, as kubectl would (no status), from `threads` threads.
Status Seed(kube::KubeClient& client, int n, int per_host, int threads) {
  json pool = {{"apiVersion", "redisfleet.io/v1alpha1"},
               {"kind", "HostPool"},
               {"metadata", {{"name", kPool}, {"namespace", kNamespace}}},
               {"spec",
                {{"provider", "local"},
                 {"runtime", "process"},
                 {"capacity", {{"maxInstancesPerHost", per_host}, {"memoryMiBPerHost", 4096}}}}}};
  if (auto got = client.Create(store::KindPath(api::Kind::kHostPool, kNamespace), pool); !got) {
    return got.error().WithContext("creating the HostPool");
  }
  std::mutex mu;
  Status first = Status::Ok();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) {
        json ri = {{"apiVersion", "redisfleet.io/v1alpha1"},
                   {"kind", "RedisInstance"},
                   {"metadata", {{"name", InstanceName(i)}, {"namespace", kNamespace}}},
                   {"spec", {{"hostPool", kPool}, {"memoryMiB", 64}, {"maxClients", 100}}}};
        auto got = client.Create(store::KindPath(api::Kind::kRedisInstance, kNamespace), ri);
        if (!got) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = got.error().WithContext("creating " + InstanceName(i));
          return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return first;
}

// Instances whose status on the server says Ready, and connection Secrets present; rechecks
// only the ones in `pending` (removing the confirmed ones).
int64_t ConfirmOnServer(const fakes::FakeKubeApiServer& server, std::vector<int>& pending) {
  std::vector<int> still;
  for (int i : pending) {
    auto o = server.GetObject("redisfleet.io", "redisinstances", kNamespace, InstanceName(i));
    bool ok = o && o->contains("status") && (*o)["status"].value("phase", "") == "Ready";
    if (ok) {
      const std::string secret = (*o)["status"].value("connectionSecret", "");
      ok = !secret.empty() && server.GetObject("", "secrets", kNamespace, secret).has_value();
    }
    if (!ok) still.push_back(i);
  }
  const int64_t confirmed = static_cast<int64_t>(pending.size() - still.size());
  pending.swap(still);
  return confirmed;
}

int Main(int argc, char** argv) {
  LimitMallocArenas();                // as the operator's main does
  std::signal(SIGPIPE, SIG_IGN);      // libcurl and cpp-httplib write to sockets
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const double qps = argc > 2 ? std::atof(argv[2]) : 200;
  const int burst = argc > 3 ? std::atoi(argv[3]) : 400;
  const int workers = argc > 4 ? std::atoi(argv[4]) : 4;
  const bool unlimited = qps <= 0 || qps >= 1e6;
  const int per_host = 40;
  const int hosts = (n + per_host - 1) / per_host + 1;
  const char* history_env = std::getenv("KUBE_BENCH_HISTORY");
  const std::size_t history = history_env ? std::strtoull(history_env, nullptr, 10) : 1000;
  const char* log_env = std::getenv("KUBE_BENCH_LOG");

  // The API server, in this process.
  fakes::FakeKubeApiServer::Options fo;
  fo.history_limit = history;
  fo.worker_threads = 64;  // 3 watches + 8 workers' requests + the seeding threads, with room
  fakes::FakeKubeApiServer server(fo);
  if (Status s = server.LoadCrdsFromDir(KUBE_BENCH_CRDS); !s.ok()) {
    std::fprintf(stderr, "crds: %s\n", s.ToString().c_str());
    return 1;
  }
  if (Status s = server.Start("127.0.0.1:0"); !s.ok()) {
    std::fprintf(stderr, "fake api server: %s\n", s.ToString().c_str());
    return 1;
  }
  auto clock = std::make_shared<RealClock>();

  // Seeding, with its own unlimited client (kubectl's role).
  const int64_t rss_before_seed = RssKiB();
  const auto t_seed = Steady::now();
  {
    kube::KubeClient::Options so;
    so.config.server = server.url();
    so.qps = 0;
    kube::KubeClient seeder(so, *clock);
    if (Status s = Seed(seeder, n, per_host, 8); !s.ok()) {
      std::fprintf(stderr, "seeding: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const auto t_seeded = Steady::now();
  const int64_t rss_after_seed = RssKiB();
  const int64_t peak_after_seed = PeakRssKiB();

  // The operator side, as controller/main.cpp wires --kubernetes (no leader election, no
  // metrics server; MemoryRuntime hosts instead of the process/docker drivers, no INFO prober).
  auto log = Logger::Null();
  if (log_env && std::string(log_env) == "warn") {
    log = std::make_shared<Logger>(LogFormat::kText, LogLevel::kWarn, clock);
  }
  auto random = std::make_shared<CryptoRandom>();
  kube::KubeClient::Options ko;
  ko.config.server = server.url();
  ko.qps = unlimited ? 0 : qps;
  ko.burst = burst;
  ko.user_agent = "redis-fleet/0.1.0";
  auto kube_client = std::make_shared<kube::KubeClient>(ko, *clock);
  store::KubeStore::Options sto;  // every namespace, as the default --watch-namespace
  auto kube_store = std::make_shared<store::KubeStore>(sto, kube_client, log->With({{"component", "kubestore"}}));
  std::shared_ptr<store::ObjectStore> store = kube_store;
  auto secrets = std::make_shared<store::KubeSecretStore>(store::KubeSecretStore::Options{}, kube_client,
                                                          kube_store, log->With({{"component", "secrets"}}));

  bench::MemoryFleet fleet(hosts);
  auto runtime = fleet.runtime;
  auto pools = fleet.pools;
  auto ledger = fleet.ledger;
  bench::ReadyCounter ready_counter;
  auto phases = ready_counter.phases();

  controllers::RedisInstanceOptions ri_opts;
  auto ri_reconciler = std::make_shared<controllers::RedisInstanceReconciler>(
      store, secrets, pools, ledger, nullptr, phases, clock, random,
      log->With({{"controller", "redisinstance"}}), ri_opts);
  controllers::HostPoolOptions hp_opts;
  hp_opts.orphan_scan_interval =
      std::min<std::chrono::milliseconds>(std::chrono::seconds(30), hp_opts.orphan_grace / 2);
  auto on_hosts_changed = std::make_shared<std::function<void(const api::Key&)>>();
  hp_opts.on_hosts_changed = [on_hosts_changed](const api::Key& pool) {
    if (*on_hosts_changed) (*on_hosts_changed)(pool);
  };
  auto hp_reconciler = std::make_shared<controllers::HostPoolReconciler>(
      store, pools, ledger, clock, log->With({{"controller", "hostpool"}}), hp_opts);

  const uint64_t requests0 = server.RequestCount();
  const uint64_t rv0 = server.CurrentResourceVersion();
  const auto t0 = Steady::now();
  if (Status s = kube_store->Start(); !s.ok()) {
    std::fprintf(stderr, "store: %s\n", s.ToString().c_str());
    return 1;
  }
  if (Status s = secrets->Start(); !s.ok()) {
    std::fprintf(stderr, "secrets: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto t_listed = Steady::now();
  if (Status s = ri_reconciler->Prime(); !s.ok()) {
    std::fprintf(stderr, "prime: %s\n", s.ToString().c_str());
    return 1;
  }

  CountingObserver ri_observer, hp_observer;
  runtime::ControllerOptions ctrl_opts;
  ctrl_opts.workers = workers;
  ctrl_opts.jitter = [random] { return random->NextDouble(); };
  auto ri_ctrl = std::make_shared<runtime::Controller>("redisinstance", ri_reconciler, ctrl_opts, clock,
                                                       log, &ri_observer);
  auto hp_ctrl = std::make_shared<runtime::Controller>("hostpool", hp_reconciler, ctrl_opts, clock, log,
                                                       &hp_observer);
  *on_hosts_changed = [store, ri_ctrl](const api::Key& pool) {
    controllers::EnqueueInstancesOfPool(*store, *ri_ctrl, pool);
  };
  controllers::ConnectControllers(store, {ri_ctrl, hp_ctrl, nullptr});
  for (auto& c : {hp_ctrl, ri_ctrl}) {
    if (Status s = c->Start(); !s.ok()) {
      std::fprintf(stderr, "controller: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  const auto timeout = std::chrono::minutes(15);
  const bool all_ready = ready_counter.WaitFor(n, timeout);
  const auto t_ready = Steady::now();
  const uint64_t requests_ready = server.RequestCount();
  // The PhaseCounter counts a phase before its status write: wait for the server to show it.
  std::vector<int> pending(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) pending[static_cast<std::size_t>(i)] = i;
  int64_t confirmed = 0;
  if (all_ready) {
    redisfleet::testing::WaitUntil(
        [&] {
          confirmed += ConfirmOnServer(server, pending);
          return pending.empty();
        },
        std::chrono::minutes(2), std::chrono::milliseconds(20));
  }
  const auto t_confirmed = Steady::now();
  const uint64_t requests1 = server.RequestCount();
  const uint64_t rv1 = server.CurrentResourceVersion();
  const long long client_tokens = kube_client->rate_limiter().taken();
  const int64_t ri_reconciles = ri_observer.done.load(), ri_errors = ri_observer.errors.load();
  const int64_t hp_reconciles = hp_observer.done.load(), hp_errors = hp_observer.errors.load();
  const uint64_t relists = kube_store->Relists();
  const int64_t peak = PeakRssKiB();
  const int64_t rss_end = RssKiB();
  const struct mallinfo2 heap = ::mallinfo2();

  hp_ctrl->Stop(std::chrono::seconds(10));
  ri_ctrl->Stop(std::chrono::seconds(10));
  kube_store->Stop();

  const uint64_t requests = requests1 - requests0;
  const uint64_t writes = rv1 - rv0;
  const double total_s = Seconds(t0, t_confirmed);
  std::printf("instances=%d hosts=%d workers=%d kube-qps=%s kube-burst=%d watch-history=%zu\n", n, hosts,
              workers, unlimited ? "unlimited" : fmt::format("{:g}", qps).c_str(), burst, history);
  std::printf("  seeding (create pool + %d instances, 8 threads): %.3f s  (%.0f creates/s)\n", n,
              Seconds(t_seed, t_seeded), n / Seconds(t_seed, t_seeded));
  std::printf("  KubeStore start (list all kinds):      %.3f s\n", Seconds(t0, t_listed));
  std::printf("  start to all Ready (PhaseCounter):     %.3f s\n", Seconds(t0, t_ready));
  std::printf("  start to all Ready on the server:      %.3f s  (%lld of %d confirmed)\n", total_s,
              static_cast<long long>(confirmed), n);
  std::printf("  placements/s (to Ready on the server): %.0f\n", n / total_s);
  std::printf("  API requests by the operator:          %llu  (%.2f per instance, %.0f/s; %llu at PhaseCounter Ready)\n",
              static_cast<unsigned long long>(requests), static_cast<double>(requests) / n,
              requests / total_s, static_cast<unsigned long long>(requests_ready - requests0));
  std::printf("    writes (POST/PUT/PATCH/DELETE):      %llu  (%.2f per instance)\n",
              static_cast<unsigned long long>(writes), static_cast<double>(writes) / n);
  std::printf("    reads and watches (GET):             %llu\n",
              static_cast<unsigned long long>(requests - std::min(requests, writes)));
  std::printf("    client rate-limit tokens taken:      %lld\n", client_tokens);
  std::printf("  KubeStore lists (3 initial):           %llu\n", static_cast<unsigned long long>(relists));
  std::printf("  reconciles: redisinstance %lld (%lld errors), hostpool %lld (%lld errors)\n",
              static_cast<long long>(ri_reconciles), static_cast<long long>(ri_errors),
              static_cast<long long>(hp_reconciles), static_cast<long long>(hp_errors));
  std::printf("  RSS before seeding:                    %.1f MiB\n", rss_before_seed / 1024.0);
  std::printf("  RSS after seeding (mostly the fake):   %.1f MiB  (peak so far %.1f MiB)\n",
              rss_after_seed / 1024.0, peak_after_seed / 1024.0);
  std::printf("  peak RSS (fake + operator):            %.1f MiB\n", peak / 1024.0);
  std::printf("  operator's share (peak - after seed):  %.1f MiB\n", (peak - rss_after_seed) / 1024.0);
  std::printf("  RSS at all Ready:                      %.1f MiB  (heap in use %.1f MiB)\n",
              rss_end / 1024.0, heap.uordblks / 1048576.0);
  std::printf("  containers in runtime:                 %zu\n", runtime->Count());
  server.Stop();
  if (!all_ready || !pending.empty()) {
    const int64_t counted = ready_counter.ready();
    std::fprintf(stderr, "not all Ready: %lld by the PhaseCounter, %lld on the server, of %d\n",
                 static_cast<long long>(counted), static_cast<long long>(confirmed), n);
    return 1;
  }
  return runtime->Count() == static_cast<std::size_t>(n) ? 0 : 1;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) { return redisfleet::Main(argc, argv); }
