#include "kube/leader_runnable.h"

#include <utility>

namespace redisfleet::kube {

LeaderOnlyRunnable::LeaderOnlyRunnable(KubeClient& client, std::shared_ptr<Clock> clock,
                                       std::shared_ptr<Logger> logger, LeaderElector::Options options,
                                       std::vector<std::shared_ptr<runtime::Runnable>> guarded,
                                       std::function<void()> on_started, std::function<void()> on_lost)
    : log_(logger), guarded_(std::move(guarded)), on_started_(std::move(on_started)),
      on_lost_(std::move(on_lost)) {
  LeaderElector::Callbacks callbacks;
  callbacks.on_started_leading = [this] {
    leading_ = true;
    log_->Info("became the leader; reconciling");
    StartGuarded();
    if (on_started_) on_started_();
  };
  callbacks.on_stopped_leading = [this] {
    const bool was = leading_.exchange(false);
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_;
    }
    StopGuarded(std::chrono::seconds(5));
    if (was && !stopping) {
      lost_ = true;
      log_->Warn("lost the leadership; stopped reconciling");
      if (on_lost_) on_lost_();
    }
  };
  callbacks.on_new_leader = [this](const std::string& identity) {
    log_->Info("leader observed", {{"identity", identity}});
  };
  elector_ = std::make_unique<LeaderElector>(client, std::move(clock), std::move(logger),
                                             std::move(options), std::move(callbacks));
}

LeaderOnlyRunnable::~LeaderOnlyRunnable() {
  if (elector_) elector_->Stop();
}

Status LeaderOnlyRunnable::Start() { return elector_->Start(); }

void LeaderOnlyRunnable::StartGuarded() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  for (; started_ < guarded_.size(); ++started_) {
    Status s = guarded_[started_]->Start();
    if (!s.ok()) {
      log_->Error("cannot start a controller after winning the election", {{"error", s.ToString()}});
      break;
    }
  }
}

void LeaderOnlyRunnable::StopGuarded(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  while (started_ > 0) guarded_[--started_]->Stop(timeout);
}

void LeaderOnlyRunnable::Stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  StopGuarded(timeout);
  elector_->Stop();  // releases the lease when leading
}

}  // namespace redisfleet::kube
