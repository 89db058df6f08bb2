#pragma once
// Client-side rate limit for the Kubernetes API (--kube-qps, --kube-burst): a token bucket
// shared by every call of one KubeClient. Callers wait for their token; none is ever dropped.

#include <condition_variable>
#include <functional>
#include <mutex>

#include "common/clock.h"
#include "common/status.h"

namespace redisfleet::kube {

// Thread-safe. Time comes from `clock` (a FakeClock wakes waiters through Subscribe).
class TokenBucket {
 public:
  // qps <= 0 means unlimited. burst < 1 is taken as 1. The bucket starts full.
  TokenBucket(double qps, int burst, const Clock& clock);
  ~TokenBucket();
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes one token, waiting until it is due (reservations are first come, first served).
  // Cancelled when `stop` (may be empty) returns true while waiting; the token stays spent.
  Status Wait(const std::function<bool()>& stop = {});

  // Sleeps until `clock` reaches `until` (or `stop` returns true: Cancelled). Shared with the
  // client's Retry-After waits so that tests drive both with one FakeClock.
  Status SleepUntil(TimePoint until, const std::function<bool()>& stop = {});

  // Tokens taken so far (for tests and metrics).
  long long taken() const;

 private:
  const double qps_;
  const double burst_;
  const Clock& clock_;
  std::size_t subscription_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  double tokens_;
  TimePoint last_;
  long long taken_ = 0;
};

}  // namespace redisfleet::kube
