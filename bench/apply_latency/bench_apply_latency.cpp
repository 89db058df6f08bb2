// Apply-to-Ready latency of the real binary: one RedisInstance YAML file written at a time,
// timed until `redis-fleet get` would show it Ready (its status record on disk says Ready).
// Prints min, median, p95 and max over N instances.
//
//   bench_apply_latency process N              embedded local pool: redis-server processes
//   bench_apply_latency docker ENDPOINT N      a local Docker pool on ENDPOINT (unix://...);
//                                              the image redis-fleet/redis:7 must be loaded
// Needs REDISFLEET_BIN (the binary); bench/run-apply-latency sets everything up.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <csignal>

#include "api/types.h"
#include "store/dir_store.h"
#include "support/harness.h"

namespace redisfleet {
namespace {

using Steady = std::chrono::steady_clock;

bool IsReady(const std::string& state, const std::string& name) {
  auto all = store::DirStore::ReadState(state, api::Kind::kRedisInstance);
  if (!all.ok()) return false;
  for (const auto& o : *all) {
    const auto& ri = std::get<api::RedisInstance>(o);
    if (ri.metadata.name == name) return ri.status.phase == api::Phase::kReady;
  }
  return false;
}

int Main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s process N | docker ENDPOINT N\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string endpoint = mode == "docker" ? argv[2] : "";
  const int n = std::atoi(argv[mode == "docker" ? 3 : 2]);
  testing::TempDir root;
  const std::string res = root / "resources", state = root / "state";
  std::filesystem::create_directories(res);
  std::string pool = "local";
  if (mode == "docker") {
    pool = "dock";
    testing::WriteText(res + "/pool.yaml",
                       "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: dock}\n"
                       "spec:\n  provider: local\n  runtime: docker\n"
                       "  capacity: {maxInstancesPerHost: 100, memoryMiBPerHost: 8192}\n"
                       "  docker: {endpoint: \"" + endpoint + "\", networkMode: host, bindAddress: 127.0.0.1, "
                       "image: \"redis-fleet/redis:7\"}\n");
  }
  const int health = testing::FreePort();
  testing::Child op({testing::BinaryPath(), "run", "--dir", res, "--state-dir", state, "--health-addr",
                     "127.0.0.1:" + std::to_string(health), "--metrics-addr",
                     "127.0.0.1:" + std::to_string(testing::FreePort())},
                    root / "operator.log");
  if (!testing::WaitUntil([&] { return testing::HttpGet(health, "/readyz").first == 200; })) {
    std::fprintf(stderr, "operator did not start:\n%s\n", op.Log().c_str());
    return 1;
  }

  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const std::string name = "lat" + std::to_string(i);
    const auto t0 = Steady::now();
    testing::WriteText(res + "/" + name + ".yaml",
                       "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata: {name: " + name +
                           "}\nspec: {hostPool: " + pool + ", memoryMiB: 32, maxClients: 20, persistence: none}\n");
    // Looks every 2 ms: the timer's resolution.
    const bool ready = testing::WaitUntil([&] { return IsReady(state, name); }, std::chrono::seconds(120),
                                          std::chrono::milliseconds(2));
    if (!ready) {
      std::fprintf(stderr, "%s not Ready after 120 s:\n%s\n", name.c_str(), op.Log().c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }

  // Clean up: remove the files, wait for the servers to go, stop the operator.
  for (int i = 0; i < n; ++i) std::filesystem::remove(res + "/lat" + std::to_string(i) + ".yaml");
  testing::WaitUntil([&] {
    auto all = store::DirStore::ReadState(state, api::Kind::kRedisInstance);
    return all.ok() && all->empty();
  }, std::chrono::seconds(120));
  op.Signal(SIGTERM);
  op.Wait(std::chrono::seconds(30));

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) {
    std::size_t i = static_cast<std::size_t>(p * (sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
  };
  std::printf("apply-to-Ready, %s pool, %d instances one at a time (file written -> status Ready on disk):\n",
              mode.c_str(), n);
  std::printf("  min %.0f ms   median %.0f ms   p95 %.0f ms   max %.0f ms\n", sorted.front(), pct(0.5),
              pct(0.95), sorted.back());
  return 0;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) { return redisfleet::Main(argc, argv); }
