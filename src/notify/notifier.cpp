#include "notify/notifier.h"

#include <algorithm>
#include <exception>

#include "notify/email.h"
#include "notify/event_sink.h"
#include "notify/webhook.h"

namespace redisfleet::notify {
namespace {

std::string JoinKey(const std::string& a, std::string_view b) { return a + '\n' + std::string(b); }

}  // namespace

bool Channels::Wants(api::NotificationEvent event) const {
  return on.empty() || std::find(on.begin(), on.end(), event) != on.end();
}

Channels BuildChannels(const api::Notifications& spec, const std::string& smtp_password,
                       std::shared_ptr<store::EventRecorder> events, const ChannelOptions& options) {
  Channels out;
  out.on = spec.on;
  if (spec.email) {
    EmailOptions e;
    e.smtp_url = spec.email->smtp_url;
    e.starttls = spec.email->starttls;
    e.username = spec.email->username;
    e.password = smtp_password;
    e.from = spec.email->from;
    e.to = spec.email->to;
    e.ca_file = options.ca_file;
    e.connect_timeout = options.connect_timeout;
    e.timeout = options.email_timeout;
    out.sinks.push_back(std::make_shared<EmailSink>(std::move(e)));
  }
  if (spec.webhook && !spec.webhook->url.empty()) {
    WebhookOptions w;
    w.url = spec.webhook->url;
    w.ca_file = options.ca_file;
    w.connect_timeout = options.connect_timeout;
    w.timeout = options.webhook_timeout;
    out.sinks.push_back(std::make_shared<WebhookSink>(std::move(w)));
  }
  if (events) out.sinks.push_back(std::make_shared<EventSink>(std::move(events)));
  return out;
}

Notifier::Notifier(std::shared_ptr<const Clock> clock, std::shared_ptr<prometheus::Registry> registry,
                   std::shared_ptr<Logger> logger, NotifierOptions options)
    : clock_(std::move(clock)),
      logger_(logger ? std::move(logger) : Logger::Null()),
      options_(options),
      backoff_(options.retry_base, options.retry_cap),
      registry_(std::move(registry)) {
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  if (options_.max_sends_per_call < 1) options_.max_sends_per_call = 1;
  if (!registry_) return;
  try {
    total_ = &prometheus::BuildCounter()
                  .Name("redisfleet_notifications_total")
                  .Help("Notification deliveries by channel, event and result (sent, failed, dropped).")
                  .Register(*registry_);
    pending_gauge_ = &prometheus::BuildGauge()
                          .Name("redisfleet_notifications_pending")
                          .Help("Notification deliveries waiting for a retry.")
                          .Register(*registry_)
                          .Add({});
  } catch (const std::exception& e) {
    total_ = nullptr;
    pending_gauge_ = nullptr;
    logger_->Error("notification metrics disabled", {{"error", e.what()}});
  }
}

void Notifier::SetChannels(const std::string& policy, Channels channels) {
  std::lock_guard lock(mu_);
  channels_[policy] = std::move(channels);
}

void Notifier::RemovePolicy(const std::string& policy) {
  std::lock_guard lock(mu_);
  channels_.erase(policy);
  const std::string prefix = policy + '\n';
  std::erase_if(state_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
  std::erase_if(breaching_, [&](const std::string& k) { return k.starts_with(prefix); });
  std::erase_if(pending_, [&](const Delivery& d) { return d.policy == policy; });
  if (pending_gauge_) pending_gauge_->Set(static_cast<double>(pending_.size()));
}

void Notifier::ObserveBreach(const Notification& n, bool breaching) {
  {
    std::lock_guard lock(mu_);
    const std::string key = JoinKey(n.policy, n.instance);
    if (!breaching) {
      breaching_.erase(key);
    } else if (breaching_.insert(key).second) {
      Notification breach = n;
      breach.event = api::NotificationEvent::kThresholdBreach;
      breach.to_plan.clear();
      EnqueueLocked(breach);
    }
  }
  Dispatch();
}

void Notifier::ReportScale(const Notification& n) {
  if (n.event == api::NotificationEvent::kScaleSucceeded || n.event == api::NotificationEvent::kScaleFailed) {
    std::lock_guard lock(mu_);
    const std::string key = NotificationId(n);
    if (sent_.insert(key).second) {
      sent_order_.push_back(key);
      while (sent_order_.size() > options_.max_remembered) {
        sent_.erase(sent_order_.front());
        sent_order_.pop_front();
      }
      EnqueueLocked(n);
    }
  }
  Dispatch();
}

void Notifier::RetryPending() { Dispatch(); }

std::size_t Notifier::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void Notifier::EnqueueLocked(const Notification& n) {
  auto it = channels_.find(n.policy);
  if (it == channels_.end() || !it->second.Wants(n.event)) return;
  for (const auto& sink : it->second.sinks) {
    if (!sink) continue;
    pending_.push_back(Delivery{n.policy, std::string(sink->channel()), n, 0});
  }
  while (pending_.size() > options_.max_pending) {
    const Delivery& d = pending_.front();
    CountLocked(d.channel, d.n.event, "dropped");
    logger_->Warn("notification dropped: too many pending",
                  {{"policy", d.policy}, {"instance", d.n.instance}, {"channel", d.channel},
                   {"event", std::string(EventName(d.n.event))}});
    pending_.pop_front();
  }
  if (pending_gauge_) pending_gauge_->Set(static_cast<double>(pending_.size()));
}

std::shared_ptr<Sink> Notifier::SinkLocked(const std::string& policy, const std::string& channel) const {
  auto it = channels_.find(policy);
  if (it == channels_.end()) return nullptr;
  for (const auto& sink : it->second.sinks) {
    if (sink && sink->channel() == channel) return sink;
  }
  return nullptr;
}

void Notifier::CountLocked(std::string_view channel, api::NotificationEvent event, std::string_view result) {
  if (!total_) return;
  try {
    total_->Add({{"channel", std::string(channel)}, {"event", std::string(EventName(event))},
                 {"result", std::string(result)}})
        .Increment();
  } catch (const std::exception&) {
    // Label validation cannot fail for these fixed values; never let a metric break delivery.
  }
}

void Notifier::Dispatch() {
  for (std::size_t sends = 0; sends < options_.max_sends_per_call; ++sends) {
    Delivery d;
    std::shared_ptr<Sink> sink;
    {
      std::lock_guard lock(mu_);
      const TimePoint now = clock_->Now();
      auto it = pending_.begin();
      for (; it != pending_.end(); ++it) {
        const auto st = state_.find(JoinKey(it->policy, it->channel));
        if (st == state_.end() || st->second.next_try <= now) break;
      }
      if (it == pending_.end()) return;
      d = std::move(*it);
      pending_.erase(it);
      sink = SinkLocked(d.policy, d.channel);
      if (!sink) {
        CountLocked(d.channel, d.n.event, "dropped");
        if (pending_gauge_) pending_gauge_->Set(static_cast<double>(pending_.size()));
        continue;
      }
      // Others see this channel as busy until the attempt ends: at most one in flight each.
      state_[JoinKey(d.policy, d.channel)].next_try = TimePoint::max();
    }

    const Status status = sink->Send(d.n);

    std::lock_guard lock(mu_);
    ChannelState& st = state_[JoinKey(d.policy, d.channel)];
    const LogFields fields = {{"policy", d.policy},
                              {"instance", d.n.instance},
                              {"channel", d.channel},
                              {"event", std::string(EventName(d.n.event))},
                              {"attempt", d.attempts + 1}};
    if (status.ok()) {
      st.failures = 0;
      st.next_try = TimePoint{};
      CountLocked(d.channel, d.n.event, "sent");
      logger_->Info("notification sent", fields);
    } else {
      CountLocked(d.channel, d.n.event, "failed");
      st.next_try = clock_->Now() + backoff_.Delay(st.failures);
      ++st.failures;
      ++d.attempts;
      LogFields failed = fields;
      failed.emplace_back("error", status.ToString());
      if (d.attempts >= options_.max_attempts) {
        CountLocked(d.channel, d.n.event, "dropped");
        logger_->Error("notification failed; giving up", failed);
      } else {
        logger_->Warn("notification failed; will retry", failed);
        pending_.push_front(std::move(d));
      }
    }
    if (pending_gauge_) pending_gauge_->Set(static_cast<double>(pending_.size()));
  }
}

}  // namespace redisfleet::notify
