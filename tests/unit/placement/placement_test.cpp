#include "placement/placement.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace redisfleet::placement {
namespace {

using api::HostState;
using api::PlacementStrategy;

constexpr PlacementStrategy kBinpack = PlacementStrategy::kBinpack;
constexpr PlacementStrategy kSpread = PlacementStrategy::kSpread;

HostLoad Ready(std::string name, int64_t instances, int64_t memory) {
  return HostLoad{std::move(name), HostState::kReady, instances, memory};
}
HostLoad InState(std::string name, HostState state, int64_t instances, int64_t memory) {
  return HostLoad{std::move(name), state, instances, memory};
}

TEST(PlacementChooseTest, Table) {
  const Limits k10x1024{10, 1024};
  struct Case {
    std::string name;
    std::vector<HostLoad> hosts;
    Limits limits;
    PlacementStrategy strategy;
    int64_t memory;
    std::optional<std::string> want;
  };
  const std::vector<Case> cases = {
      {"binpack picks most memory used",
       {Ready("a", 1, 100), Ready("b", 1, 500), Ready("c", 1, 300)}, k10x1024, kBinpack, 100, "b"},
      {"spread picks least memory used",
       {Ready("a", 1, 100), Ready("b", 1, 500), Ready("c", 1, 50)}, k10x1024, kSpread, 100, "c"},
      {"binpack memory tie broken by most instances",
       {Ready("a", 2, 300), Ready("b", 5, 300), Ready("c", 1, 100)}, k10x1024, kBinpack, 100, "b"},
      {"spread memory tie broken by fewest instances",
       {Ready("a", 2, 300), Ready("b", 5, 300), Ready("c", 1, 300)}, k10x1024, kSpread, 100, "c"},
      {"binpack full tie broken by smallest name",
       {Ready("z", 2, 300), Ready("m", 2, 300), Ready("q", 2, 300)}, k10x1024, kBinpack, 100, "m"},
      {"spread full tie broken by smallest name",
       {Ready("z", 0, 0), Ready("b", 0, 0), Ready("q", 0, 0)}, k10x1024, kSpread, 100, "b"},
      {"binpack skips the busiest when it has no memory room",
       {Ready("a", 1, 1000), Ready("b", 1, 600), Ready("c", 1, 100)}, k10x1024, kBinpack, 100, "b"},
      {"binpack skips the busiest when it has no instance room",
       {Ready("a", 10, 900), Ready("b", 3, 600)}, k10x1024, kBinpack, 100, "b"},
      {"memory limit binds: exact fit accepted",
       {Ready("a", 1, 924)}, k10x1024, kBinpack, 100, "a"},
      {"memory limit binds: one MiB over refused",
       {Ready("a", 1, 925)}, k10x1024, kBinpack, 100, std::nullopt},
      {"memory limit binds although instance room is ample",
       {Ready("a", 0, 900), Ready("b", 0, 1000)}, Limits{1000, 1024}, kSpread, 200, std::nullopt},
      {"count limit binds: last slot accepted",
       {Ready("a", 9, 0)}, k10x1024, kBinpack, 1, "a"},
      {"count limit binds: no slot left",
       {Ready("a", 10, 0)}, k10x1024, kBinpack, 1, std::nullopt},
      {"count limit binds although memory is ample",
       {Ready("a", 2, 0), Ready("b", 2, 10)}, Limits{2, 1 << 20}, kSpread, 1, std::nullopt},
      {"zero-memory request still needs an instance slot",
       {Ready("a", 10, 0), Ready("b", 9, 1024)}, k10x1024, kBinpack, 0, "b"},
      {"request larger than a whole host",
       {Ready("a", 0, 0)}, k10x1024, kSpread, 2048, std::nullopt},
      {"negative request refused", {Ready("a", 0, 0)}, k10x1024, kSpread, -1, std::nullopt},
      {"no hosts", {}, k10x1024, kBinpack, 100, std::nullopt},
      {"binpack never picks a non-Ready host",
       {InState("p", HostState::kProvisioning, 5, 900), InState("c", HostState::kCordoned, 5, 900),
        InState("l", HostState::kLost, 5, 900), InState("d", HostState::kDeleting, 5, 900),
        Ready("r", 0, 0)},
       k10x1024, kBinpack, 100, "r"},
      {"spread never picks a non-Ready host",
       {InState("p", HostState::kProvisioning, 0, 0), InState("c", HostState::kCordoned, 0, 0),
        InState("l", HostState::kLost, 0, 0), InState("d", HostState::kDeleting, 0, 0),
        Ready("r", 5, 500)},
       k10x1024, kSpread, 100, "r"},
      {"only non-Ready hosts",
       {InState("p", HostState::kProvisioning, 0, 0), InState("c", HostState::kCordoned, 0, 0)},
       k10x1024, kSpread, 100, std::nullopt},
      {"all Ready hosts full", {Ready("a", 10, 0), Ready("b", 0, 1024)}, k10x1024, kBinpack, 1,
       std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Choose(c.hosts, c.limits, c.strategy, c.memory), c.want);
    // The answer does not depend on the order the hosts are listed in.
    std::vector<HostLoad> reversed(c.hosts.rbegin(), c.hosts.rend());
    EXPECT_EQ(Choose(reversed, c.limits, c.strategy, c.memory), c.want);
  }
}

TEST(PlacementFitsTest, Table) {
  struct Case {
    std::string name;
    HostLoad host;
    Limits limits;
    int64_t memory;
    bool want;
  };
  const std::vector<Case> cases = {
      {"empty host", Ready("a", 0, 0), {1, 100}, 100, true},
      {"exact memory fit", Ready("a", 0, 50), {5, 100}, 50, true},
      {"memory over by one", Ready("a", 0, 51), {5, 100}, 50, false},
      {"instances at limit", Ready("a", 5, 0), {5, 100}, 1, false},
      {"already over memory", Ready("a", 0, 200), {5, 100}, 0, false},
      {"zero instance limit", Ready("a", 0, 0), {0, 100}, 1, false},
      {"negative request", Ready("a", 0, 0), {5, 100}, -5, false},
      {"huge request does not overflow", Ready("a", 0, 10), {5, INT64_MAX}, INT64_MAX, false},
      {"state is not Fits' concern", InState("a", HostState::kCordoned, 0, 0), {5, 100}, 10, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Fits(c.host, c.limits, c.memory), c.want);
  }
}

// Reference answer by sorting all candidates: what Choose must agree with.
std::optional<std::string> ReferenceChoose(std::vector<HostLoad> hosts, const Limits& limits,
                                           PlacementStrategy strategy, int64_t memory) {
  std::vector<HostLoad> candidates;
  for (const HostLoad& h : hosts) {
    if (h.state == HostState::kReady && h.instances + 1 <= limits.max_instances_per_host &&
        h.memory_mib_used + memory <= limits.memory_mib_per_host && memory >= 0) {
      candidates.push_back(h);
    }
  }
  if (candidates.empty()) return std::nullopt;
  std::sort(candidates.begin(), candidates.end(), [&](const HostLoad& a, const HostLoad& b) {
    auto load_a = std::make_pair(a.memory_mib_used, a.instances);
    auto load_b = std::make_pair(b.memory_mib_used, b.instances);
    if (load_a != load_b) return strategy == kBinpack ? load_a > load_b : load_a < load_b;
    return a.name < b.name;
  });
  return candidates.front().name;
}

TEST(PlacementPropertyTest, RandomSequencesNeverExceedLimitsAndAreDeterministic) {
  constexpr int kSequences = 1000;
  constexpr HostState kStates[] = {HostState::kProvisioning, HostState::kReady, HostState::kCordoned,
                                   HostState::kLost, HostState::kDeleting};
  std::mt19937 rng(20240611);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int64_t placed_total = 0;
  int64_t refused_total = 0;
  for (int seq = 0; seq < kSequences; ++seq) {
    SCOPED_TRACE("sequence " + std::to_string(seq));
    const Limits limits{uniform(1, 12), uniform(64, 4096)};
    const PlacementStrategy strategy = uniform(0, 1) == 0 ? kBinpack : kSpread;
    std::vector<HostLoad> hosts(static_cast<std::size_t>(uniform(0, 8)));
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      hosts[i].name = "h" + std::to_string(uniform(0, 99)) + "-" + std::to_string(i);
      hosts[i].state = uniform(0, 2) == 0 ? kStates[uniform(0, 4)] : HostState::kReady;
    }
    // Each placed Redis: (host index, memory).
    std::vector<std::pair<std::size_t, int64_t>> placed;
    const int steps = static_cast<int>(uniform(1, 60));
    for (int step = 0; step < steps; ++step) {
      const int64_t action = uniform(0, 9);
      if (action < 7) {
        const int64_t memory = uniform(0, limits.memory_mib_per_host / 2 + 1);
        const auto got = Choose(hosts, limits, strategy, memory);
        ASSERT_EQ(got, Choose(hosts, limits, strategy, memory)) << "same input, same answer";
        std::vector<HostLoad> shuffled = hosts;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        ASSERT_EQ(got, Choose(shuffled, limits, strategy, memory)) << "host order matters";
        ASSERT_EQ(got, ReferenceChoose(hosts, limits, strategy, memory));
        if (!got) {
          ++refused_total;
          continue;
        }
        auto it = std::find_if(hosts.begin(), hosts.end(),
                               [&](const HostLoad& h) { return h.name == *got; });
        ASSERT_NE(it, hosts.end());
        ASSERT_EQ(it->state, HostState::kReady);
        it->instances += 1;
        it->memory_mib_used += memory;
        placed.emplace_back(static_cast<std::size_t>(it - hosts.begin()), memory);
        ++placed_total;
      } else if (action < 9 && !placed.empty()) {
        const auto idx = static_cast<std::size_t>(uniform(0, static_cast<int64_t>(placed.size()) - 1));
        HostLoad& h = hosts[placed[idx].first];
        h.instances -= 1;
        h.memory_mib_used -= placed[idx].second;
        placed.erase(placed.begin() + static_cast<std::ptrdiff_t>(idx));
      } else if (!hosts.empty()) {
        hosts[static_cast<std::size_t>(uniform(0, static_cast<int64_t>(hosts.size()) - 1))].state =
            kStates[uniform(0, 4)];
      }
      for (const HostLoad& h : hosts) {
        ASSERT_LE(h.instances, limits.max_instances_per_host) << h.name;
        ASSERT_LE(h.memory_mib_used, limits.memory_mib_per_host) << h.name;
        ASSERT_GE(h.instances, 0) << h.name;
        ASSERT_GE(h.memory_mib_used, 0) << h.name;
      }
    }
  }
  // The sequences exercised both outcomes.
  EXPECT_GT(placed_total, 1000);
  EXPECT_GT(refused_total, 100);
}

}  // namespace
}  // namespace redisfleet::placement
