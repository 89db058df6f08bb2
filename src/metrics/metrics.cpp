#include "metrics/metrics.h"

#include <exception>
#include <vector>

#include <prometheus/text_serializer.h>

#include "api/types.h"

namespace redisfleet::metrics {
namespace {

// 10^(k/3) seconds for k = -9..3: exponential, three buckets per decade, 1 ms .. 10 s.
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {0.001, 0.00215, 0.00464, 0.01, 0.0215, 0.0464, 0.1, 0.215, 0.464, 1, 2.15, 4.64, 10};
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total_(prometheus::BuildCounter()
                           .Name("redisfleet_reconcile_total")
                           .Help("Reconciles finished, by controller and result.")
                           .Register(*registry_)),
      reconcile_errors_total_(prometheus::BuildCounter()
                                  .Name("redisfleet_reconcile_errors_total")
                                  .Help("Reconciles that returned an error, by controller.")
                                  .Register(*registry_)),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("redisfleet_reconcile_duration_seconds")
                              .Help("Time one reconcile took, by controller.")
                              .Register(*registry_)),
      workqueue_depth_(prometheus::BuildGauge()
                           .Name("redisfleet_workqueue_depth")
                           .Help("Keys waiting in the controller's work queue.")
                           .Register(*registry_)),
      instances_(prometheus::BuildGauge()
                     .Name("redisfleet_instances")
                     .Help("RedisInstance resources by status phase.")
                     .Register(*registry_)),
      invalid_resources_family_(prometheus::BuildGauge()
                                    .Name("redisfleet_invalid_resources")
                                    .Help("Resources rejected by validation.")
                                    .Register(*registry_)),
      hosts_(prometheus::BuildGauge()
                 .Name("redisfleet_hosts")
                 .Help("Hosts by pool and state.")
                 .Register(*registry_)),
      leader_family_(prometheus::BuildGauge()
                         .Name("redisfleet_leader")
                         .Help("1 while this replica holds the leader lease, else 0.")
                         .Register(*registry_)),
      build_info_(prometheus::BuildGauge()
                      .Name("redisfleet_build_info")
                      .Help("Always 1; the version label names the build.")
                      .Register(*registry_)),
      scaling_decisions_(prometheus::BuildCounter()
                             .Name("redisfleet_scaling_decisions_total")
                             .Help("Decisions ScalingPolicies recorded, by action and mode.")
                             .Register(*registry_)),
      invalid_resources_(invalid_resources_family_.Add({})),
      leader_(leader_family_.Add({})) {
  build_info_.Add({{"version", std::string(kBuildVersion)}}).Set(1);
  for (std::string_view controller : kControllers) SeriesLocked(controller);
  SetInstancesByPhase({});
}

Metrics::ControllerSeries& Metrics::SeriesLocked(std::string_view controller) {
  auto it = controllers_.find(controller);
  if (it != controllers_.end()) return it->second;
  const std::string name(controller);
  ControllerSeries series{
      &reconcile_total_.Add({{"controller", name}, {"result", "success"}}),
      &reconcile_total_.Add({{"controller", name}, {"result", "error"}}),
      &reconcile_total_.Add({{"controller", name}, {"result", "requeue"}}),
      &reconcile_errors_total_.Add({{"controller", name}}),
      &reconcile_duration_.Add({{"controller", name}}, DurationBuckets()),
      &workqueue_depth_.Add({{"controller", name}}),
  };
  return controllers_.emplace(name, series).first->second;
}

std::string Metrics::Serialize() const {
  try {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  } catch (const std::exception&) {
    return "";
  }
}

void Metrics::ReconcileDone(std::string_view controller, runtime::ReconcileOutcome outcome,
                            double seconds) {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    ControllerSeries& s = SeriesLocked(controller);
    switch (outcome) {
      case runtime::ReconcileOutcome::kSuccess:
        s.success->Increment();
        break;
      case runtime::ReconcileOutcome::kError:
        s.error->Increment();
        s.errors->Increment();
        break;
      case runtime::ReconcileOutcome::kRequeue:
        s.requeue->Increment();
        break;
    }
    s.duration->Observe(seconds > 0 ? seconds : 0);
  } catch (const std::exception&) {
  }
}

void Metrics::QueueDepth(std::string_view controller, std::size_t depth) {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    SeriesLocked(controller).depth->Set(static_cast<double>(depth));
  } catch (const std::exception&) {
  }
}

void Metrics::SetInstancesByPhase(const std::map<std::string, int64_t>& counts) {
  try {
    for (const auto& [phase, name] : api::EnumTable<api::Phase>::kValues) {
      auto it = counts.find(std::string(name));
      instances_.Add({{"phase", std::string(name)}})
          .Set(it == counts.end() ? 0.0 : static_cast<double>(it->second));
    }
  } catch (const std::exception&) {
  }
}

void Metrics::SetInvalidResources(int64_t count) {
  invalid_resources_.Set(static_cast<double>(count));
}

void Metrics::SetHostsByState(const std::string& pool,
                              const std::map<std::string, int64_t>& counts) {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [state, name] : api::EnumTable<api::HostState>::kValues) {
      auto it = counts.find(std::string(name));
      hosts_.Add({{"pool", pool}, {"state", std::string(name)}})
          .Set(it == counts.end() ? 0.0 : static_cast<double>(it->second));
    }
  } catch (const std::exception&) {
  }
}

void Metrics::RemovePool(const std::string& pool) {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [state, name] : api::EnumTable<api::HostState>::kValues) {
      const prometheus::Labels labels{{"pool", pool}, {"state", std::string(name)}};
      if (hosts_.Has(labels)) hosts_.Remove(&hosts_.Add(labels));
    }
  } catch (const std::exception&) {
  }
}

void Metrics::SetLeader(bool leader) { leader_.Set(leader ? 1 : 0); }

void Metrics::CountScalingDecision(std::string_view action) {
  std::string mode = "Auto";
  if (action.substr(0, 7) == "DryRun:") {
    mode = "DryRun";
    action.remove_prefix(7);
  }
  try {
    scaling_decisions_.Add({{"action", std::string(action)}, {"mode", mode}}).Increment();
  } catch (const std::exception&) {
  }
}

}  // namespace redisfleet::metrics
