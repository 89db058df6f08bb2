#include "notify/event_sink.h"

#include <fmt/format.h>

namespace redisfleet::notify {

Status EventSink::Send(const Notification& n) {
  if (!recorder_) return Status::Ok();
  const api::Key key = api::Key::Parse(n.policy);
  api::ObjectMeta meta;
  meta.namespace_ = key.namespace_;
  meta.name = key.name;
  meta.uid = n.policy_uid;
  const store::Severity severity = n.event == api::NotificationEvent::kScaleSucceeded
                                       ? store::Severity::kNormal
                                       : store::Severity::kWarning;
  std::string message;
  switch (n.event) {
    case api::NotificationEvent::kThresholdBreach:
      message = fmt::format("instance {} above target on plan {} (memory {:.1f}%, connections {:.1f}%): {}",
                            n.instance, n.from_plan, n.memory_percent, n.connections_percent, n.reason);
      break;
    case api::NotificationEvent::kScaleSucceeded:
      message = fmt::format("instance {} moved from plan {} to {}: {}", n.instance, n.from_plan, n.to_plan,
                            n.reason);
      break;
    case api::NotificationEvent::kScaleFailed:
      message = fmt::format("instance {} could not move from plan {} to {}: {}", n.instance, n.from_plan,
                            n.to_plan, n.reason);
      break;
  }
  recorder_->Record(meta, api::Kind::kScalingPolicy, severity, std::string(EventName(n.event)), message);
  return Status::Ok();
}

}  // namespace redisfleet::notify
