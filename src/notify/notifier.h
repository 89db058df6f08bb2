#pragma once
// Notifier: decides WHEN to tell people and fans a Notification out to the sinks a
// ScalingPolicy's spec.notifications enables, with dedupe, bounded retries and a metric.
//
// How the ScalingPolicy reconciler uses it (one Notifier for the process, shared by workers):
//   every cycle of policy P:
//     notifier.SetChannels(P, BuildChannels(spec.notifications or {}, smtp_password, events));
//     for each target instance I, after Decide():
//       notifier.ObserveBreach(n{kThresholdBreach, P, I, current plan, reason, %s, now}, breaching);
//         breaching = memory% or connections% above its target (or evictions/rejections in the
//         window), i.e. the engine sees scale-up pressure -- whether or not it can act (cooldown,
//         already at maxPlan). Being below the band while at minPlan is NOT a breach: pass false.
//     after acting on a decision (not in DryRun):
//       notifier.ReportScale(n{kScaleSucceeded or kScaleFailed, P, I, from, to, reason, %s,
//                              time = the decision's time as recorded in status.decisions});
//   when P is deleted: notifier.RemovePolicy(P).
// Dedupe and its limits:
//   - ThresholdBreach: one per breach episode per (policy, instance). An episode starts on the
//     first ObserveBreach(..., true) and ends on the first ObserveBreach(..., false); calls in
//     between send nothing. Episodes live in memory: after an operator restart an instance that
//     is still breaching starts a new episode (at most one extra message per restart).
//   - ScaleSucceeded/ScaleFailed: once per (event, policy, instance, to plan, decision time), so a
//     reconcile retried in the same process (conflict, requeue, repeated actuation of the same
//     decision) does not resend. The last `max_remembered` keys are kept in memory only: after
//     a restart a re-reported decision is sent again. Every message carries a stable id (webhook
//     "id", email Message-ID) derived from that key, so receivers can drop such a resend.
//     Record the decision in status before ReportScale; a crash between the two loses the message
//     (at most once), a crash after it at worst repeats it with the same id.
// Delivery: new messages go out synchronously in the call. A failed delivery is kept (at most
// `max_pending`, oldest dropped) and retried on later calls (any method, or RetryPending) after
// an exponential backoff per (policy, channel), at most `max_attempts` attempts in all; while a
// channel is backing off nothing is sent to it. A call makes at most one failing attempt per
// channel, so it blocks for at most the sum of the enabled sinks' timeouts. Never throws.
// Metric on the registry given (may be null): redisfleet_notifications_total{channel,event,
// result} with result = sent | failed (one per failed attempt) | dropped (given up), and
// redisfleet_notifications_pending.
// Thread-safe: sends run outside the lock, so reconcile workers of other policies do not wait
// for a slow sink beyond their own deliveries.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "api/types.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/logging.h"
#include "notify/notification.h"
#include "store/event_recorder.h"

namespace redisfleet::notify {

// The sinks of one policy and the events it wants.
struct Channels {
  std::vector<api::NotificationEvent> on;  // empty = all three
  std::vector<std::shared_ptr<Sink>> sinks;
  bool Wants(api::NotificationEvent event) const;
};

struct ChannelOptions {
  std::string ca_file{};  // TLS trust for SMTP and the webhook; "" = the system store (production)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds email_timeout{20000};
  std::chrono::milliseconds webhook_timeout{10000};
};

// The sinks `spec` enables: email when spec.email is set (with `smtp_password`, the value the
// caller read from email.passwordSecretRef; "" when there is none), a webhook when
// spec.webhook.url is set, events when `events` is not null (in Kubernetes the KubeEventRecorder;
// standalone may pass the LogEventRecorder or null).
Channels BuildChannels(const api::Notifications& spec, const std::string& smtp_password,
                       std::shared_ptr<store::EventRecorder> events, const ChannelOptions& options = {});

struct NotifierOptions {
  int max_attempts = 5;  // per message and channel, the first try included
  std::chrono::milliseconds retry_base{std::chrono::seconds(15)};
  std::chrono::milliseconds retry_cap{std::chrono::minutes(10)};
  std::size_t max_pending = 256;      // deliveries waiting for a retry, all policies
  std::size_t max_remembered = 4096;  // scale-event keys kept for dedupe
  std::size_t max_sends_per_call = 16;
};

class Notifier {
 public:
  // `logger` may be null (no logs); `registry` may be null (no metrics).
  Notifier(std::shared_ptr<const Clock> clock, std::shared_ptr<prometheus::Registry> registry,
           std::shared_ptr<Logger> logger, NotifierOptions options = {});
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Replaces the channels of `policy` ("ns/name"). Pending retries go to the channel of the same
  // name in the new set, and are dropped when it is gone.
  void SetChannels(const std::string& policy, Channels channels);
  // Forgets a deleted policy: channels, episodes and pending deliveries.
  void RemovePolicy(const std::string& policy);

  // Call every cycle for every instance; `n.event` is ignored (ThresholdBreach is sent). Sends
  // at the start of a breach episode only (see the header comment).
  void ObserveBreach(const Notification& n, bool breaching);
  // Sends a ScaleSucceeded or ScaleFailed once per decision (see the header comment). Other
  // events are ignored.
  void ReportScale(const Notification& n);
  // Retries the deliveries that are due. Called by the methods above too.
  void RetryPending();

  std::size_t pending() const;

 private:
  struct Delivery {
    std::string policy;
    std::string channel;
    Notification n;
    int attempts = 0;
  };
  struct ChannelState {
    int failures = 0;   // consecutive
    TimePoint next_try{};
  };

  // Queues one delivery per wanted sink of n.policy. Requires mu_.
  void EnqueueLocked(const Notification& n);
  // Sends what is due (new deliveries first as they were queued in order).
  void Dispatch();
  void CountLocked(std::string_view channel, api::NotificationEvent event, std::string_view result);
  std::shared_ptr<Sink> SinkLocked(const std::string& policy, const std::string& channel) const;

  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Logger> logger_;
  NotifierOptions options_;
  Backoff backoff_;

  mutable std::mutex mu_;
  std::map<std::string, Channels> channels_;
  std::map<std::string, ChannelState> state_;  // key: policy + '\n' + channel
  std::deque<Delivery> pending_;
  std::set<std::string> breaching_;  // key: policy + '\n' + instance
  std::unordered_set<std::string> sent_;
  std::deque<std::string> sent_order_;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* total_ = nullptr;
  prometheus::Gauge* pending_gauge_ = nullptr;
};

}  // namespace redisfleet::notify
