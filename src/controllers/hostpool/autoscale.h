#pragma once
// How many hosts an elastic pool (one whose provider creates machines) should have, and which to
// create, cordon, delete or replace. Pure: no I/O, time passed in.
//
// The pool keeps every busy host, `standbyHosts` empty hosts ready (or on their way) beyond what
// the instances waiting for room need, and at least `minHosts`, never more than `maxHosts`. It
// scales in only empty Ready hosts that have been empty for `scaleInDelay`: first cordoned
// (placement stops using them), deleted at a later pass if still empty and still surplus.
// A host not Ready within `readyTimeout` of being asked for, or Lost that long, is replaced.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "placement/placement.h"

namespace redisfleet::controllers::hostpool {

struct HostView {
  std::string name;
  api::HostState state = api::HostState::kProvisioning;
  // The provider lists it. False: only the intent to create it is recorded (status), the call
  // has not been made or has not been seen to succeed.
  bool exists = true;
  int64_t instances = 0;            // placed on it
  TimePoint requested{};            // when its creation was recorded
  TimePoint since{};                // when it entered `state`
  std::optional<TimePoint> empty_since;  // Ready and without instances since then
};

struct AutoscaleSpec {
  int64_t min_hosts = 0;
  int64_t max_hosts = 10;
  int64_t standby_hosts = 1;
  Duration scale_in_delay = std::chrono::seconds(600);
  Duration ready_timeout = std::chrono::seconds(900);
  placement::Limits limits;
};

struct AutoscalePlan {
  int64_t create = 0;                  // new hosts to ask for
  std::vector<std::string> uncordon;   // cordoned hosts needed again
  std::vector<std::string> cordon;     // surplus empty Ready hosts: stop placing on them
  std::vector<std::string> remove;     // cordoned, empty, still surplus: delete
  std::vector<std::string> replace;    // never became Ready, or Lost too long: delete (a new host
                                       // is part of `create` when still wanted)
  std::vector<std::string> cancel;     // intents never created that are no longer wanted
  std::string reason;                  // why, for logs and the ScalingActive condition
  bool Empty() const {
    return create == 0 && uncordon.empty() && cordon.empty() && remove.empty() &&
           replace.empty() && cancel.empty();
  }
};

// Hosts of `limits` needed to hold instances of these sizes (first fit, largest first). An
// instance larger than a whole host needs none: no host could take it.
int64_t HostsFor(std::vector<int64_t> memory_mib, const placement::Limits& limits);

// `unplaced_mib`: instances of the pool that found no room (their memory).
AutoscalePlan PlanHosts(const AutoscaleSpec& spec, const std::vector<HostView>& hosts,
                        const std::vector<int64_t>& unplaced_mib, TimePoint now);

}  // namespace redisfleet::controllers::hostpool
