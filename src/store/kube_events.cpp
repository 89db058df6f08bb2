#include "store/kube_events.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace redisfleet::store {

KubeEventRecorder::KubeEventRecorder(std::shared_ptr<kube::KubeClient> client,
                                     std::shared_ptr<const Clock> clock,
                                     std::shared_ptr<Logger> logger, std::string instance,
                                     std::chrono::seconds dedup_window)
    : client_(std::move(client)), clock_(std::move(clock)), logger_(std::move(logger)),
      instance_(std::move(instance)), dedup_window_(dedup_window) {}

void KubeEventRecorder::Record(const api::ObjectMeta& regarding, api::Kind kind, Severity type,
                               const std::string& reason, const std::string& message) {
  const TimePoint now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_tuple(regarding.uid, reason, message);
    auto it = recent_.find(key);
    if (it != recent_.end() && now - it->second < dedup_window_) return;
    recent_[key] = now;
    // Forget old episodes so the map stays small.
    for (auto i = recent_.begin(); i != recent_.end();) {
      i = now - i->second >= dedup_window_ ? recent_.erase(i) : std::next(i);
    }
  }
  const std::string ns = regarding.namespace_.empty() ? "default" : regarding.namespace_;
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::string stamp = FormatTime(std::chrono::floor<std::chrono::seconds>(now));
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", fmt::format("{}.{:x}", regarding.name, nanos)}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", "redisfleet.io/v1alpha1"},
        {"kind", std::string(api::EnumName(kind))},
        {"namespace", ns},
        {"name", regarding.name},
        {"uid", regarding.uid},
        {"resourceVersion", regarding.resource_version}}},
      {"reason", reason},
      {"message", message},
      {"type", type == Severity::kWarning ? "Warning" : "Normal"},
      {"source", {{"component", "redis-fleet"}}},
      {"reportingComponent", "redis-fleet"},
      {"reportingInstance", instance_},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1}};
  kube::ResourcePath events;
  events.version = "v1";
  events.plural = "events";
  events.namespace_name = ns;
  auto created = client_->Create(events, event);
  if (!created.ok()) {
    logger_->Warn("cannot record an event", {{"object", regarding.key().ToString()},
                                              {"reason", reason},
                                              {"error", created.status().ToString()}});
  }
}

}  // namespace redisfleet::store
