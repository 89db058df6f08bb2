#pragma once
// A Controller feeds keys from its WorkQueue to one Reconciler on N worker threads and turns each
// outcome into a requeue (runtime/requeue_policy.h).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "runtime/observer.h"
#include "runtime/reconciler.h"

namespace redisfleet::runtime {

struct ControllerOptions {
  int workers = 2;
  // Every resync_period all keys of the resync source are queued at low priority (0 = never).
  std::chrono::milliseconds resync_period{30000};
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{300000};
  // Optional jitter for retry delays, a value in [0,1) (e.g. from a RandomSource); null means
  // exact delays.
  std::function<double()> jitter;
};

// Threads: Start() starts `workers` worker threads and, when a resync source is set and
// resync_period > 0, one resync thread; Stop() (or the destructor) ends and joins them. Every
// public method is thread-safe. Each key is reconciled by one worker at a time. Enqueue works
// before Start (keys wait) and is ignored after Stop.
class Controller {
 public:
  // `observer` may be null; when set it must outlive Stop().
  Controller(std::string name, std::shared_ptr<Reconciler> reconciler, ControllerOptions options,
             std::shared_ptr<Clock> clock, std::shared_ptr<Logger> log,
             ReconcileObserver* observer);
  // Stops with a 10 s drain if still running.
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return name_; }

  // An edit of `key`: reconcile it soon, before any resync work.
  void Enqueue(const api::Key& key);
  // Reconcile `key` after `delay` (the earliest request wins).
  void EnqueueAfter(const api::Key& key, std::chrono::milliseconds delay);
  // Where resync gets its keys; called on the resync thread, must be thread-safe. Set before
  // Start. The first resync happens one resync_period after Start (watches deliver the
  // initial set).
  void SetResyncSource(std::function<std::vector<api::Key>()> source);

  // Starts the threads. InvalidArgument for bad options, FailedPrecondition if already
  // started or stopped, Unavailable if a thread cannot be created (nothing is left running).
  Status Start();
  // Stops taking keys, lets in-flight reconciles finish for up to `drain_timeout` of real time,
  // and joins the threads. Returns true if everything finished in time. A worker still inside
  // Reconcile at the deadline is detached: it keeps the controller's shared state alive, exits
  // when Reconcile returns, and no longer reports to the observer. Idempotent.
  bool Stop(std::chrono::milliseconds drain_timeout);

  // Blocks until no key is ready or being reconciled (delayed keys may remain), at most
  // `timeout` of real time. True when idle. For tests.
  bool WaitIdle(std::chrono::milliseconds timeout) const;
  // Keys waiting: ready, delayed or re-added while processing.
  std::size_t QueueLen() const;
  // Consecutive failures of `key` (0 after a success).
  int NumFailures(const api::Key& key) const;

 private:
  struct Core;
  enum class State { kNew, kRunning, kStopped };

  std::string name_;
  std::shared_ptr<Core> core_;
  std::function<std::vector<api::Key>()> resync_source_;

  std::mutex mu_;  // guards state_ and the threads
  State state_ = State::kNew;
  std::vector<std::thread> threads_;
};

}  // namespace redisfleet::runtime
