#pragma once
// The operator's Prometheus metric families on one registry. Labels are low-cardinality only
// (controller, result, phase, pool, state); never an instance name, key or secret.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/observer.h"

namespace redisfleet::metrics {

inline constexpr std::string_view kBuildVersion = "0.1.0";
// The controllers whose series exist (at 0) from construction.
inline constexpr std::string_view kControllers[] = {"hostpool", "redisinstance", "scalingpolicy"};

// All metric families of the operator on one prometheus registry:
//   redisfleet_reconcile_total{controller,result}        counter (result: success|error|requeue)
//   redisfleet_reconcile_errors_total{controller}        counter
//   redisfleet_reconcile_duration_seconds{controller}    histogram, 1 ms .. 10 s
//   redisfleet_workqueue_depth{controller}               gauge
//   redisfleet_instances{phase}                          gauge, every api::Phase
//   redisfleet_invalid_resources                         gauge
//   redisfleet_hosts{pool,state}                         gauge, every api::HostState per pool
//   redisfleet_leader                                    gauge, 0|1
//   redisfleet_scaling_decisions_total{action,mode}      counter (action: ScaleUp|ScaleDown|
//                                                        ScaleSucceeded|ScaleFailed; mode: Auto|DryRun)
//   redisfleet_build_info{version}                       gauge = 1
// Thread-safe; every method is cheap and never throws.
class Metrics final : public runtime::ReconcileObserver {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The registry, e.g. to expose it or to add families of other components.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  // Every family in the Prometheus text exposition format 0.0.4; "" if serialisation fails.
  std::string Serialize() const;

  // Counts one reconcile of `controller` and observes its duration (negative counts as 0).
  void ReconcileDone(std::string_view controller, runtime::ReconcileOutcome outcome,
                     double seconds) override;
  void QueueDepth(std::string_view controller, std::size_t depth) override;

  // Sets redisfleet_instances{phase} for every api::Phase: counts[phase name], 0 when absent.
  // Keys that are not a phase name are ignored.
  void SetInstancesByPhase(const std::map<std::string, int64_t>& counts);
  void SetInvalidResources(int64_t count);
  // Sets redisfleet_hosts{pool,state} for every api::HostState: counts[state name], 0 when
  // absent. Keys that are not a state name are ignored.
  void SetHostsByState(const std::string& pool, const std::map<std::string, int64_t>& counts);
  // Drops the redisfleet_hosts series of a deleted pool.
  void RemovePool(const std::string& pool);
  void SetLeader(bool leader);
  // Counts one decision a ScalingPolicy recorded: "ScaleUp", ..., or "DryRun:ScaleUp" (mode
  // DryRun).
  void CountScalingDecision(std::string_view action);

 private:
  struct ControllerSeries {
    prometheus::Counter* success;
    prometheus::Counter* error;
    prometheus::Counter* requeue;
    prometheus::Counter* errors;
    prometheus::Histogram* duration;
    prometheus::Gauge* depth;
  };
  // The series of `controller`, created on first use. Requires mu_.
  ControllerSeries& SeriesLocked(std::string_view controller);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_total_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& workqueue_depth_;
  prometheus::Family<prometheus::Gauge>& instances_;
  prometheus::Family<prometheus::Gauge>& invalid_resources_family_;
  prometheus::Family<prometheus::Gauge>& hosts_;
  prometheus::Family<prometheus::Gauge>& leader_family_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& scaling_decisions_;
  prometheus::Gauge& invalid_resources_;
  prometheus::Gauge& leader_;

  mutable std::mutex mu_;
  std::map<std::string, ControllerSeries, std::less<>> controllers_;  // guarded by mu_
};

}  // namespace redisfleet::metrics
