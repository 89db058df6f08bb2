#pragma once
// Pure placement: which host of a pool gets the next Redis. No I/O, no clock, no randomness:
// the same input always gives the same answer.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"

namespace redisfleet::placement {

// What a host carries now, as recorded in the pool's status.
struct HostLoad {
  std::string name;
  api::HostState state = api::HostState::kProvisioning;
  int64_t instances = 0;
  int64_t memory_mib_used = 0;
};

// Per-host capacity (HostPool spec.capacity). Both limits always apply; there is no "unlimited".
struct Limits {
  int64_t max_instances_per_host = 0;
  int64_t memory_mib_per_host = 0;
};

// True when `host` can take one more Redis of `memory_mib` without exceeding either limit.
// Ignores the host's state. A negative `memory_mib` never fits.
bool Fits(const HostLoad& host, const Limits& limits, int64_t memory_mib);

// The host for one new Redis of `memory_mib`, or nullopt when no Ready host fits.
// binpack: the busiest Ready host that fits (most memory used, then most instances);
// spread: the least busy. Ties go to the lexicographically smallest name. Hosts that are not
// Ready (Provisioning, Cordoned, Lost, Deleting) are never chosen. O(hosts); allocates only the
// result.
std::optional<std::string> Choose(const std::vector<HostLoad>& hosts, const Limits& limits,
                                  api::PlacementStrategy strategy, int64_t memory_mib);

}  // namespace redisfleet::placement
