#pragma once
// Runs a set of Runnables (the controllers) only while this process leads: a Runnable for the
// Manager that starts leader election and, on winning, starts what it guards. Losing the lease
// stops them at once and asks the process to stop (the usual operator pattern: a fresh process
// rejoins the election), so a leader that cannot renew stops acting within the renew deadline.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/logging.h"
#include "kube/leader_election.h"
#include "runtime/manager.h"

namespace redisfleet::kube {

class LeaderOnlyRunnable final : public runtime::Runnable {
 public:
  // `on_started` runs (on the election thread) once the guarded runnables started; `on_lost`
  // after they stopped because leadership was lost (typically Manager::RequestStop).
  LeaderOnlyRunnable(KubeClient& client, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger,
                     LeaderElector::Options options,
                     std::vector<std::shared_ptr<runtime::Runnable>> guarded,
                     std::function<void()> on_started, std::function<void()> on_lost);
  ~LeaderOnlyRunnable() override;

  // Starts the election; the guarded runnables start when it is won.
  Status Start() override;
  // Stops the guarded runnables (if running), then the election, releasing the lease.
  void Stop(std::chrono::milliseconds timeout) override;

  bool leading() const { return leading_.load(); }
  // True once leadership was lost after being held (the process should exit non-zero).
  bool lost() const { return lost_.load(); }

 private:
  void StartGuarded();
  void StopGuarded(std::chrono::milliseconds timeout);

  std::shared_ptr<Logger> log_;
  std::vector<std::shared_ptr<runtime::Runnable>> guarded_;
  std::function<void()> on_started_;
  std::function<void()> on_lost_;
  std::unique_ptr<LeaderElector> elector_;
  std::mutex mu_;
  std::size_t started_ = 0;  // guarded_[0, started_) run; guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::atomic<bool> leading_{false};
  std::atomic<bool> lost_{false};
};

}  // namespace redisfleet::kube
