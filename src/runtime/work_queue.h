#pragma once
// A rate-limited, delaying, two-priority work queue of resource keys, in the manner of
// client-go's workqueue. A key is in the queue at most once and is never handed to two workers
// at once.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "api/types.h"
#include "common/backoff.h"
#include "common/clock.h"

namespace redisfleet::runtime {

// Hash of an api::Key for unordered containers.
struct KeyHash {
  std::size_t operator()(const api::Key& k) const noexcept;
};

enum class Priority { kHigh, kLow };

// Life of a key: idle -> ready (high or low) -> processing (Get .. Done) -> idle. An add while
// processing marks it dirty: it becomes ready again when Done is called. A delayed key becomes
// ready (low priority) at its due time. All methods are thread-safe. Time comes from the Clock:
// with a fake clock, delayed keys become ready when the clock is advanced.
class WorkQueue {
 public:
  WorkQueue(std::shared_ptr<Clock> clock, Backoff backoff);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // An edit: makes `key` ready now at high priority. Promotes a key waiting at low priority and
  // cancels a pending delay. No-op after ShutDown.
  void Add(const api::Key& key);
  // A periodic resync: makes `key` ready at low priority, unless it is already ready, dirty, or
  // delayed (a key in backoff keeps its backoff; a requeue is already scheduled). No-op after
  // ShutDown.
  void AddResync(const api::Key& key);
  // Makes `key` ready (low priority) after `delay`; delay <= 0 is Add. When the key is already
  // delayed the earlier due time wins; when it is already ready or dirty this is a no-op.
  void AddAfter(const api::Key& key, std::chrono::milliseconds delay);
  // AddAfter(key, backoff.Delay(NumFailures(key))), then counts one more failure.
  void AddRateLimited(const api::Key& key);
  // Counts one more consecutive failure of `key` without scheduling anything.
  void RecordFailure(const api::Key& key);
  // Resets the failure count of `key` (it does not cancel a scheduled run).
  void Forget(const api::Key& key);
  int NumFailures(const api::Key& key) const;

  // Blocks until a key is ready (high priority first, FIFO within a priority) and marks it
  // processing; the caller must call Done(key). nullopt once ShutDown was called or `stop` is
  // requested.
  std::optional<api::Key> Get(std::stop_token stop = {});
  // Like Get but never blocks: nullopt when nothing is ready.
  std::optional<api::Key> TryGet();
  // Ends processing of `key`; a dirty key becomes ready again (unless shut down).
  void Done(const api::Key& key);

  // Stops handing out keys: Get and TryGet return nullopt at once from now on, adds are ignored.
  // Keys in flight still end with Done.
  void ShutDown();
  bool ShuttingDown() const;

  // Keys waiting: ready + delayed + dirty (re-added while processing). For metrics.
  std::size_t Len() const;
  // Keys ready to be handed out now.
  std::size_t ReadyLen() const;
  // Keys between Get and Done.
  std::size_t ProcessingLen() const;
  // Callers blocked in Get (idle workers). For tests and metrics.
  std::size_t Waiting() const;
  // Blocks until nothing is ready or processing (delayed keys may remain), at most `timeout` of
  // real time. True when idle. With a fake clock, keys due at the current fake time count as
  // ready. For tests and drains.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<Clock> clock_;
  std::size_t subscription_ = 0;
};

}  // namespace redisfleet::runtime
