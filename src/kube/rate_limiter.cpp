#include "kube/rate_limiter.h"

#include <algorithm>
#include <chrono>

namespace redisfleet::kube {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(std::max(1, burst)),
      last_(clock.Now()) {
  if (clock_.IsFake()) {
    // Subscribe is non-const on Clock; the subscription only wakes our waiters.
    subscription_ = const_cast<Clock&>(clock_).Subscribe([this] {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    });
  }
}

TokenBucket::~TokenBucket() {
  if (subscription_ != 0) const_cast<Clock&>(clock_).Unsubscribe(subscription_);
}

Status TokenBucket::Wait(const std::function<bool()>& stop) {
  TimePoint due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++taken_;
    if (qps_ <= 0) return Status::Ok();
    const TimePoint now = clock_.Now();
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
      last_ = now;
    }
    tokens_ -= 1;  // a reservation: may go negative, later callers queue behind it
    if (tokens_ >= 0) return Status::Ok();
    due = last_ + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
  }
  return SleepUntil(due, stop);
}

Status TokenBucket::SleepUntil(TimePoint until, const std::function<bool()>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stop && stop()) return CancelledError("stopped while waiting for the API rate limit");
    const TimePoint now = clock_.Now();
    if (now >= until) return Status::Ok();
    // A fake clock wakes us on Advance; a real one by timeout. Either way re-check `stop`
    // at least every 50 ms.
    auto wait = std::min<Duration>(until - now, std::chrono::milliseconds(50));
    cv_.wait_for(lock, wait);
  }
}

long long TokenBucket::taken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return taken_;
}

}  // namespace redisfleet::kube
