#include "controllers/hostpool/autoscale.h"

#include <algorithm>

#include <fmt/format.h>

namespace redisfleet::controllers::hostpool {

int64_t HostsFor(std::vector<int64_t> memory_mib, const placement::Limits& limits) {
  std::sort(memory_mib.begin(), memory_mib.end(), std::greater<>());
  std::vector<placement::HostLoad> hosts;
  for (int64_t mib : memory_mib) {
    if (mib > limits.memory_mib_per_host || limits.max_instances_per_host < 1) continue;
    bool placed = false;
    for (auto& h : hosts) {
      if (placement::Fits(h, limits, mib)) {
        h.instances += 1;
        h.memory_mib_used += mib;
        placed = true;
        break;
      }
    }
    if (!placed) hosts.push_back(placement::HostLoad{"", api::HostState::kReady, 1, mib});
  }
  return static_cast<int64_t>(hosts.size());
}

AutoscalePlan PlanHosts(const AutoscaleSpec& spec, const std::vector<HostView>& hosts,
                        const std::vector<int64_t>& unplaced_mib, TimePoint now) {
  using api::HostState;
  AutoscalePlan plan;

  // Hosts that will not come back: stuck while provisioning, or lost (and emptied) too long.
  int64_t existing = 0;  // hosts that cost money and count against maxHosts
  int64_t busy = 0;
  std::vector<const HostView*> ready_empty, provisioning, intents, cordoned_empty;
  for (const HostView& h : hosts) {
    if (h.state == HostState::kDeleting) continue;
    const bool stuck = h.state == HostState::kProvisioning && h.exists &&
                       now - h.requested >= spec.ready_timeout;
    const bool gone = h.state == HostState::kLost && h.instances == 0 &&
                      now - h.since >= spec.ready_timeout;
    if (stuck || gone) {
      plan.replace.push_back(h.name);
      continue;
    }
    ++existing;
    if (h.state == HostState::kLost) continue;
    if (h.instances > 0) {
      ++busy;
      // Cordoned but not empty: an instance got there before the cordon; keep the host.
      if (h.state == HostState::kCordoned) plan.uncordon.push_back(h.name);
      continue;
    }
    switch (h.state) {
      case HostState::kReady: ready_empty.push_back(&h); break;
      case HostState::kProvisioning: (h.exists ? provisioning : intents).push_back(&h); break;
      case HostState::kCordoned: cordoned_empty.push_back(&h); break;
      default: break;
    }
  }

  const int64_t waiting = HostsFor(unplaced_mib, spec.limits);
  const int64_t desired =
      std::min(spec.max_hosts, std::max(spec.min_hosts, busy + spec.standby_hosts + waiting));
  const int64_t spare_want = std::max<int64_t>(0, desired - busy);
  const int64_t spare_have =
      static_cast<int64_t>(ready_empty.size() + provisioning.size() + intents.size());

  // Newest (highest name) first when choosing what to give up; oldest first when reusing.
  auto by_name_desc = [](const HostView* a, const HostView* b) { return a->name > b->name; };
  std::sort(ready_empty.begin(), ready_empty.end(), by_name_desc);
  std::sort(intents.begin(), intents.end(), by_name_desc);
  std::sort(cordoned_empty.begin(), cordoned_empty.end(),
            [](const HostView* a, const HostView* b) { return a->name < b->name; });

  if (spare_want > spare_have) {
    int64_t deficit = spare_want - spare_have;
    for (const HostView* h : cordoned_empty) {
      if (deficit == 0) break;
      plan.uncordon.push_back(h->name);
      --deficit;
    }
    // Stay within maxHosts counting every host that exists or is about to.
    const int64_t room = std::max<int64_t>(0, spec.max_hosts - existing);
    plan.create = std::min(deficit, room);
    plan.reason = fmt::format(
        "{} busy + {} standby + {} for waiting instances (min {}, max {}): {} spare wanted, {} "
        "ready or coming",
        busy, spec.standby_hosts, waiting, spec.min_hosts, spec.max_hosts, spare_want, spare_have);
  } else {
    int64_t surplus = spare_have - spare_want;
    for (const HostView* h : intents) {
      if (surplus == 0) break;
      plan.cancel.push_back(h->name);
      --surplus;
    }
    for (const HostView* h : ready_empty) {
      if (surplus == 0) break;
      if (!h->empty_since || now - *h->empty_since < spec.scale_in_delay) continue;
      plan.cordon.push_back(h->name);
      --surplus;
    }
    // Cordoned and empty: no longer wanted (the spare count is met without them).
    for (const HostView* h : cordoned_empty) plan.remove.push_back(h->name);
    if (!plan.cordon.empty() || !plan.remove.empty() || !plan.cancel.empty()) {
      plan.reason = fmt::format(
          "{} busy + {} standby + {} for waiting instances (min {}): {} spare wanted, {} ready or "
          "coming",
          busy, spec.standby_hosts, waiting, spec.min_hosts, spare_want, spare_have);
    }
  }
  if (!plan.replace.empty() && plan.reason.empty())
    plan.reason = fmt::format("{} host(s) not Ready within {} s", plan.replace.size(),
                              std::chrono::duration_cast<std::chrono::seconds>(spec.ready_timeout).count());
  if (!plan.uncordon.empty() && plan.reason.empty())
    plan.reason = fmt::format("{} cordoned host(s) in use or needed again", plan.uncordon.size());
  return plan;
}

}  // namespace redisfleet::controllers::hostpool
