#pragma once
// The ScalingPolicy decision engine: pure (no I/O, no clock; time is an argument), deterministic,
// reentrant. One call decides one instance's next plan from a window of metric samples.
//
// Definitions used throughout (issue 5):
// - Capacity of a plan: memoryMiB * 1048576 bytes and maxClients connections. Percent = use /
//   capacity * 100, always against the plan named by the call (`current` or a candidate).
// - Plan order (for minPlan/maxPlan bounds and "lower"/"higher"): the same order validation uses
//   for minPlan <= maxPlan, i.e. (memoryMiB, monthlyCost) lexicographically, NOT the position in
//   spec.plans. A plan is within bounds when minPlan <= plan <= maxPlan in that order (an empty
//   minPlan/maxPlan is no bound on that side). The target is always a plan of spec.plans.
// - "Fits its targets" on plan P: memory% <= targets.memoryPercent and connections% <=
//   targets.connectionsPercent on P; "above target": strictly greater.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "common/clock.h"

namespace redisfleet::scaling {

// One scrape of one instance. Counters are cumulative as INFO gives them (a decrease is a
// restart: only increases between consecutive ok samples count). ok=false: the scrape failed
// and the other fields are meaningless.
struct Sample {
  TimePoint time{};
  bool ok = false;
  int64_t used_memory_bytes = 0;
  int64_t connected_clients = 0;
  int64_t evicted_keys_total = 0;
  int64_t rejected_connections_total = 0;
};

// What the caller remembers between calls (status.instances[].lastScaleTime).
struct History {
  std::optional<TimePoint> last_action;  // when the last ScaleUp/ScaleDown was decided
};

enum class Action { kNone, kScaleUp, kScaleDown };
// "None", "ScaleUp", "ScaleDown" (the status.decisions[].action wire names).
std::string_view ActionName(Action a);

// The numbers behind a decision, all against the current plan. Percentages are 0 when there
// is no ok sample. `*_max` is the maximum over the sustain period of the rule that decided:
// the scaleDown period when the decision came from the scale-down rule (taken or refused),
// else the scaleUp period (see Decide for "period").
struct Evidence {
  double memory_percent = 0;       // latest ok sample
  double connections_percent = 0;  // latest ok sample
  double memory_percent_max = 0;
  double connections_percent_max = 0;
  int64_t evicted_keys = 0;          // increase inside the scaleUp period, since the last action
  int64_t rejected_connections = 0;  // same
  int64_t samples = 0;               // ok samples in the period of *_max
  int64_t failed_samples = 0;        // ok=false samples in that period
};

struct Decision {
  Action action = Action::kNone;
  std::string target_plan;  // the plan to move to; the current plan's name when action is kNone
  std::string reason;       // a short sentence with the numbers: "memory 91% > 80% for 60s"
  Evidence evidence;
  // True when the instance is in breach right now: the latest ok sample is above a target on
  // the current plan, or evicted keys / rejected connections rose inside the scaleUp period
  // since the last action. Independent of cooldown, bounds and the action taken (an instance
  // at maxPlan still breaches). False when there is no ok sample (unknown is not a breach).
  // A breach episode, for one notification, is a maximal run of calls with breaching == true.
  bool breaching = false;
};

// Decides the next plan of one instance.
//   spec.plans     the catalogue (the caller fills it from Heroku when planCatalog is used).
//   current        the plan in effect; may be a custom plan not in the catalogue (matched by
//                  name), whose capacity is used as given.
//   window         samples, oldest first (times non-decreasing); samples after `now` are ignored.
//   history/now    for cooldown.
// Rules, in order:
//  1. Nothing to choose (no plans, an unknown minPlan/maxPlan, no plan in bounds): kNone.
//  2. Current outside the bounds (or custom with memory outside them): moved inside at once,
//     even during cooldown (bounds are hard; only a policy edit or an outside change puts it
//     there). Below: to the cheapest in-bounds plan that fits the scaleUp-period max use, else
//     maxPlan. Above: to maxPlan (going lower needs the scale-down rule's evidence).
//  3. Cooldown: within cooldownSeconds of history.last_action, kNone.
//  4. Scale up: a breach is (a) every ok sample of the scaleUp period above the memory target,
//     or every one above the connections target, where the period runs from the latest sample
//     at or before now - scaleUp.sustainSeconds (which must exist, so the window covers that
//     long) to now; or (b) evicted keys or rejected connections rising inside the period since
//     the last action (at once, no sustain). Failed samples are skipped. Target: the cheapest
//     (monthlyCost) in-bounds plan on which the period's max memory and connections both fit
//     their targets (for (b), also with more memory / clients than current), jumping several
//     plans when needed; none fits: maxPlan; already at maxPlan: kNone "at maxPlan".
//  5. Scale down: every sample of the scaleDown period (defined likewise) ok, no gap longer
//     than 2 * intervalSeconds between samples or since the last one, no eviction/rejection,
//     and memory% and connections% both below target - bufferPercent. Target: the cheapest
//     in-bounds plan lower than current (and cheaper, unless current is custom) on which the
//     period's max use fits the targets and stays under lowerPlanMaxPercent. Missing or failed
//     metrics therefore never cause a scale-down.
//  6. Otherwise kNone.
Decision Decide(const api::ScalingPolicySpec& spec, const api::Plan& current,
                std::span<const Sample> window, const History& history, TimePoint now);

// Capacity of a plan in bytes (memoryMiB * 1048576).
int64_t MemoryBytes(const api::Plan& plan);

// The plan of `plans` with this name, or nullptr.
const api::Plan* FindPlan(const std::vector<api::Plan>& plans, std::string_view name);

// The plans within minPlan..maxPlan (see plan order above), in catalogue order. Empty when a
// bound names no plan.
std::vector<const api::Plan*> PlansInBounds(const api::ScalingPolicySpec& spec);

// The cheapest plan of `candidates` by monthlyCost (ties: lower plan order, then list order)
// on which `used_memory_bytes` and `clients` fit at most `memory_percent` / `connections_percent`
// of its capacity; nullptr when none fits.
const api::Plan* CheapestFitting(std::span<const api::Plan* const> candidates,
                                 int64_t used_memory_bytes, int64_t clients, double memory_percent,
                                 double connections_percent);

}  // namespace redisfleet::scaling
