#pragma once
// What the operator tells people about: a threshold breach of one instance under a ScalingPolicy,
// or the outcome of a plan change. A Sink delivers one Notification over one channel (email,
// webhook, Kubernetes Event). Nothing here holds or prints a secret.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "common/clock.h"
#include "common/status.h"

namespace redisfleet::notify {

struct Notification {
  api::NotificationEvent event = api::NotificationEvent::kThresholdBreach;
  std::string policy;      // "ns/name" of the ScalingPolicy
  std::string policy_uid;  // its metadata.uid when known (Kubernetes Events use it); may be ""
  std::string instance;    // "ns/name" of the RedisInstance
  std::string from_plan;   // plan in effect
  std::string to_plan;     // plan decided (ScaleSucceeded/ScaleFailed); "" for a breach
  std::string reason;      // the engine's reason, or the failure (already free of secrets)
  double memory_percent = 0;
  double connections_percent = 0;
  TimePoint time{};        // when it happened (for scale events: the decision's time)
};

// "ThresholdBreach" / "ScaleSucceeded" / "ScaleFailed".
std::string_view EventName(api::NotificationEvent event);

// A stable identifier of this notification (hex of a SHA-256 over event, policy, instance,
// to_plan and time): the same decision gives the same id, so receivers can drop a resend. Used
// as the webhook "id" and in the email Message-ID.
std::string NotificationId(const Notification& n);

// One line for people: "[redis-fleet] ScaleSucceeded: default/cache premium-0 -> premium-1".
std::string Subject(const Notification& n);
// A few lines of plain text (LF line ends) with every field of `n`.
std::string TextBody(const Notification& n);
// The webhook payload: {id, event, policy, instance, from, to, reason, memoryPercent,
// connectionsPercent, time (RFC 3339)}.
nlohmann::json ToJson(const Notification& n);

// `url` as it may appear in logs and errors: userinfo replaced by [REDACTED] and the query
// string by ?[REDACTED] (webhook URLs often carry tokens there).
std::string DisplayUrl(std::string_view url);

// Delivers notifications over one channel. Implementations are thread-compatible (one Send at a
// time per object), bounded in time by their own timeouts, and never throw.
class Sink {
 public:
  virtual ~Sink() = default;
  // "email", "webhook" or "event": the `channel` label of redisfleet_notifications_total.
  virtual std::string_view channel() const = 0;
  // Delivers `n`. kUnavailable/kDeadlineExceeded: transient, worth retrying; kUnauthenticated,
  // kInvalidArgument, kFailedPrecondition: configuration problems. Messages name the
  // destination with credentials redacted.
  virtual Status Send(const Notification& n) = 0;
};

}  // namespace redisfleet::notify
