#pragma once
// Notifications as events about the ScalingPolicy (Kubernetes Events through KubeEventRecorder,
// log lines through LogEventRecorder): Warning for ThresholdBreach and ScaleFailed, Normal for
// ScaleSucceeded; the reason is the event name.

#include <memory>

#include "notify/notification.h"
#include "store/event_recorder.h"

namespace redisfleet::notify {

class EventSink final : public Sink {
 public:
  explicit EventSink(std::shared_ptr<store::EventRecorder> recorder) : recorder_(std::move(recorder)) {}
  std::string_view channel() const override { return "event"; }
  // Always OK: recording never fails (the recorder logs and drops its own errors).
  Status Send(const Notification& n) override;

 private:
  std::shared_ptr<store::EventRecorder> recorder_;
};

}  // namespace redisfleet::notify
