// Placement decisions per second: 10,000 instances (mixed sizes) onto 500 hosts, binpack and
// spread, with the loads updated after every decision as the controller's ledger does.
//   bench_placement [instances=10000] [hosts=500] [rounds=5]

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "placement/placement.h"

namespace redisfleet {
namespace {

struct Run {
  double decisions_per_s;
  int placed;
};

Run Measure(int instances, int hosts, api::PlacementStrategy strategy, uint64_t seed) {
  std::vector<placement::HostLoad> loads;
  loads.reserve(hosts);
  for (int h = 0; h < hosts; ++h) {
    loads.push_back({fmt::format("host-{:04}", h), api::HostState::kReady, 0, 0});
  }
  // A few hosts are not usable, as in a real pool.
  for (int h = 0; h < hosts; h += 50) loads[h].state = api::HostState::kCordoned;
  const placement::Limits limits{40, 4096};
  std::mt19937_64 rng(seed);
  const int64_t sizes[] = {16, 32, 64, 64, 128, 256};
  std::vector<int64_t> requests(instances);
  for (auto& r : requests) r = sizes[rng() % 6];

  int placed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t mib : requests) {
    auto chosen = placement::Choose(loads, limits, strategy, mib);
    if (!chosen) continue;
    for (auto& l : loads) {
      if (l.name == *chosen) {
        l.instances += 1;
        l.memory_mib_used += mib;
        break;
      }
    }
    ++placed;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {instances / secs, placed};
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) {
  using namespace redisfleet;
  const int instances = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int hosts = argc > 2 ? std::atoi(argv[2]) : 500;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  for (auto strategy : {api::PlacementStrategy::kBinpack, api::PlacementStrategy::kSpread}) {
    double best = 0, sum = 0;
    int placed = 0;
    for (int r = 0; r < rounds; ++r) {
      auto run = Measure(instances, hosts, strategy, 1234 + r);
      best = std::max(best, run.decisions_per_s);
      sum += run.decisions_per_s;
      placed = run.placed;
    }
    std::printf("placement %-7s instances=%d hosts=%d: %.0f decisions/s (mean of %d), best %.0f, placed %d\n",
                std::string(api::EnumName(strategy)).c_str(), instances, hosts, sum / rounds, rounds,
                best, placed);
  }
  return 0;
}
