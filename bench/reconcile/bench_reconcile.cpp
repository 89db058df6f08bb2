// Standalone-mode throughput: N RedisInstances in YAML files on a pool of in-memory hosts
// (MemoryRuntime: no processes), through the real DirStore, file secrets, work queues and
// reconcilers. Prints time from start to all Ready, placements/s, reconciles/s and peak RSS.
//
//   bench_reconcile N [workers]
// Run once per N (peak RSS is per process); bench/run-reconcile runs 1,000 and 10,000.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/memory_fleet.h"  // bench/common
#include "common/memory.h"
#include "common/fs.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "providers/memory/memory_runtime.h"
#include "runtime/controller.h"
#include "store/dir_store.h"
#include "store/file_secrets.h"

namespace redisfleet {
namespace {

// Resident set size now (VmRSS), in KiB; -1 when unknown.
int64_t CurrentRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// User + system CPU time of the whole process so far, in seconds. On a shared machine this
// says more than the wall clock about the operator's own cost.
double CpuSeconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

// What the filesystem under `base` charges per file the operator creates (a secret file: temp
// file, write, rename; a secret directory: mkdir), in microseconds, from 2,000 of each (a few hundred would stay in caches a large fleet overflows). Printed
// next to the figures: on a slow virtual disk they bound the rate whatever the operator does.
std::pair<double, double> FileCostsMicros(const std::string& base) {
  std::string tmpl_s = base + "/redisfleet-fscost-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl_s.data());
  constexpr int kN = 2000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) (void)WriteFileAtomic(dir + "/f" + std::to_string(i), "0123456789abcdef", 0600);
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) (void)::mkdir((dir + "/d" + std::to_string(i)).c_str(), 0700);
  auto t2 = std::chrono::steady_clock::now();
  std::filesystem::remove_all(dir);
  auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count() / kN; };
  return {us(t1 - t0), us(t2 - t1)};
}

// Counts finished reconciles; the benchmark's only observer.
class CountingObserver final : public runtime::ReconcileObserver {
 public:
  void ReconcileDone(std::string_view, runtime::ReconcileOutcome, double) override { ++done; }
  void QueueDepth(std::string_view, std::size_t) override {}
  std::atomic<int64_t> done{0};
};

// `bench_reconcile --restart ROOT`: what an operator restarted over the state a run left costs
// to open its store (read the records back, scan the YAML), in a fresh process so its peak RSS
// is its own. Run by Main after its run.
int RestartMain(const std::string& root) {
  LimitMallocArenas();
  auto clock = std::make_shared<RealClock>();
  const auto t0 = std::chrono::steady_clock::now();
  auto store = std::make_shared<store::DirStore>(
      store::DirStore::Options{root + "/resources", root + "/state", std::chrono::milliseconds(100),
                               std::chrono::seconds(10), std::chrono::milliseconds(25), ""},
      clock, Logger::Null(), std::make_shared<CryptoRandom>());
  if (auto s = store->Start(); !s.ok()) {
    std::fprintf(stderr, "restart: %s\n", s.ToString().c_str());
    return 1;
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::size_t objects = store->List(api::Kind::kRedisInstance)->size();
  store->Stop();
  std::printf("  restart (new process): store open with %zu records %.3f s, peak RSS %.1f MiB\n",
              objects, load_s, PeakRssKiB() / 1024.0);
  return 0;
}

int Main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--restart") return RestartMain(argv[2]);
  LimitMallocArenas();  // as the operator's main does
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 4;
  const int per_host = 40;
  const int hosts = (n + per_host - 1) / per_host + 1;

  std::string base = std::getenv("BENCH_DIR") ? std::getenv("BENCH_DIR") : "/tmp";
  const auto [file_us, mkdir_us] = FileCostsMicros(base);
  std::string tmpl_s = base + "/redisfleet-bench-XXXXXX";
  char* tmpl = tmpl_s.data();
  const std::string root = ::mkdtemp(tmpl);
  const std::string dir = root + "/resources", state = root + "/state";
  std::filesystem::create_directories(dir);
  {
    std::ofstream pool(dir + "/pool.yaml");
    pool << "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: mem}\n"
            "spec: {provider: local, runtime: process, capacity: {maxInstancesPerHost: "
         << per_host << ", memoryMiBPerHost: 4096}}\n";
    const int files = 10;
    for (int f = 0; f < files; ++f) {
      std::ofstream out(dir + fmt::format("/instances-{}.yaml", f));
      for (int i = f; i < n; i += files) {
        out << "---\napiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata: {name: r"
            << i << "}\nspec: {hostPool: mem, memoryMiB: 64, maxClients: 100}\n";
      }
    }
  }

  auto clock = std::make_shared<RealClock>();
  auto log = Logger::Null();
  auto random = std::make_shared<CryptoRandom>();
  bench::MemoryFleet fleet(hosts);
  auto runtime = fleet.runtime;
  auto pools = fleet.pools;
  auto ledger = fleet.ledger;
  bench::ReadyCounter ready_counter;
  auto phases = ready_counter.phases();

  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  auto store = std::make_shared<store::DirStore>(store::DirStore::Options{dir, state, std::chrono::milliseconds(100), std::chrono::seconds(10), std::chrono::milliseconds(25), ""}, clock, log, random);
  auto secrets = std::make_shared<store::FileSecretStore>(dir, state);
  auto ri_rec = std::make_shared<controllers::RedisInstanceReconciler>(
      store, secrets, pools, ledger, nullptr, phases, clock, random, log);
  CountingObserver observer;
  runtime::ControllerOptions opts;
  opts.workers = workers;
  opts.resync_period = std::chrono::hours(1);
  auto ctrl = std::make_shared<runtime::Controller>("redisinstance", ri_rec, opts, clock, log, &observer);
  if (auto s = store->Start(); !s.ok()) {
    std::fprintf(stderr, "store: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto t_loaded = std::chrono::steady_clock::now();
  (void)ri_rec->Prime();
  (void)store->Watch(api::Kind::kRedisInstance, [&](const store::Event& ev) { ctrl->Enqueue(ev.key); });
  if (auto s = ctrl->Start(); !s.ok()) {
    std::fprintf(stderr, "controller: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!ready_counter.WaitFor(n, std::chrono::minutes(10))) {
    std::fprintf(stderr, "timed out: %lld of %d ready\n", static_cast<long long>(ready_counter.ready()), n);
    return 1;
  }
  const auto t_ready = std::chrono::steady_clock::now();
  const int64_t reconciles = observer.done.load();
  const struct mallinfo2 at_ready = ::mallinfo2();
  const int64_t rss_at_ready = CurrentRssKiB();
  const double cpu_ready = CpuSeconds() - cpu0;
  ctrl->Stop(std::chrono::seconds(10));
  store->Stop();  // writes the status records still pending
  const auto t_flushed = std::chrono::steady_clock::now();

  const double load_s = std::chrono::duration<double>(t_loaded - t0).count();
  const double total_s = std::chrono::duration<double>(t_ready - t0).count();
  const double reconcile_s = std::chrono::duration<double>(t_ready - t_loaded).count();
  std::printf("instances=%d hosts=%d workers=%d state dir under %s\n", n, hosts, workers, base.c_str());
  std::printf("  this filesystem: a new file (write + rename) %.0f us, a mkdir %.0f us\n"
              "  (each instance creates 2 files and 1 directory for its connection secret)\n",
              file_us, mkdir_us);
  std::printf("  load (parse + persist %d objects): %.3f s\n", n + 1, load_s);
  std::printf("  start to all Ready:                %.3f s\n", total_s);
  std::printf("  placements/s (start to all Ready):  %.0f\n", n / total_s);
  std::printf("  placements/s (after load):          %.0f\n", n / reconcile_s);
  std::printf("  all status on disk after:           %.3f s\n",
              std::chrono::duration<double>(t_flushed - t0).count());
  std::printf("  reconciles/s (after load):          %.0f  (%lld reconciles)\n",
              reconciles / reconcile_s, static_cast<long long>(reconciles));
  std::printf("  CPU start to all Ready (user+sys):  %.3f s  (%.0f placements per CPU-second)\n",
              cpu_ready, n / cpu_ready);
  std::printf("  peak RSS:                           %.1f MiB\n", PeakRssKiB() / 1024.0);
  std::printf("  at all Ready: RSS %.1f MiB, heap in use %.1f MiB, heap free but held %.1f MiB\n",
              rss_at_ready / 1024.0, at_ready.uordblks / 1048576.0, at_ready.fordblks / 1048576.0);
  const struct mallinfo2 heap = ::mallinfo2();
  std::printf("  heap in use at the end:             %.1f MiB\n", heap.uordblks / 1048576.0);
  std::printf("  containers in runtime:              %zu\n", runtime->Count());
  std::fflush(stdout);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const int restart = std::system((self + " --restart " + root).c_str());
  std::filesystem::remove_all(root);
  return runtime->Count() == static_cast<std::size_t>(n) && restart == 0 ? 0 : 1;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) { return redisfleet::Main(argc, argv); }
