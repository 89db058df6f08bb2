#include "placement/placement.h"

namespace redisfleet::placement {
namespace {

// True when `a` should be chosen over `b` under `strategy`.
bool Better(const HostLoad& a, const HostLoad& b, api::PlacementStrategy strategy) {
  if (a.memory_mib_used != b.memory_mib_used) {
    return strategy == api::PlacementStrategy::kBinpack ? a.memory_mib_used > b.memory_mib_used
                                                        : a.memory_mib_used < b.memory_mib_used;
  }
  if (a.instances != b.instances) {
    return strategy == api::PlacementStrategy::kBinpack ? a.instances > b.instances
                                                        : a.instances < b.instances;
  }
  return a.name < b.name;
}

}  // namespace

bool Fits(const HostLoad& host, const Limits& limits, int64_t memory_mib) {
  if (memory_mib < 0 || host.instances < 0 || host.memory_mib_used < 0) return false;
  if (host.instances >= limits.max_instances_per_host) return false;
  if (host.memory_mib_used > limits.memory_mib_per_host) return false;
  return memory_mib <= limits.memory_mib_per_host - host.memory_mib_used;
}

std::optional<std::string> Choose(const std::vector<HostLoad>& hosts, const Limits& limits,
                                  api::PlacementStrategy strategy, int64_t memory_mib) {
  const HostLoad* best = nullptr;
  for (const HostLoad& host : hosts) {
    if (host.state != api::HostState::kReady || !Fits(host, limits, memory_mib)) continue;
    if (best == nullptr || Better(host, *best, strategy)) best = &host;
  }
  if (best == nullptr) return std::nullopt;
  return best->name;
}

}  // namespace redisfleet::placement
