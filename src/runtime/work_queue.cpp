#include "runtime/work_queue.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

namespace redisfleet::runtime {

std::size_t KeyHash::operator()(const api::Key& k) const noexcept {
  std::size_t h = std::hash<std::string>{}(k.namespace_);
  return h ^ (std::hash<std::string>{}(k.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

namespace {

// Where one key stands. `queued`, `dirty` and `due` are mutually exclusive; `processing` may
// accompany `dirty` or `due`.
struct Entry {
  bool processing = false;
  bool queued = false;
  Priority queued_priority = Priority::kLow;
  uint64_t seq = 0;  // matches the live entry in a ready deque; older entries are stale
  bool dirty = false;
  Priority dirty_priority = Priority::kLow;
  std::optional<TimePoint> due;
  int failures = 0;
};

}  // namespace

struct WorkQueue::Impl {
  Impl(std::shared_ptr<Clock> c, Backoff b) : clock(std::move(c)), backoff(std::move(b)) {}

  using Entries = std::unordered_map<api::Key, Entry, KeyHash>;

  // Moves every key due at `now` to the ready queues.
  void PromoteDueLocked(TimePoint now) {
    while (!delayed.empty() && delayed.begin()->first <= now) {
      api::Key key = delayed.begin()->second;
      delayed.erase(delayed.begin());
      auto it = entries.find(key);
      if (it == entries.end()) continue;
      it->second.due.reset();
      if (shutdown) {
        MaybeEraseLocked(it);
      } else {
        MakeReadyLocked(it, Priority::kLow);
      }
    }
  }

  void CancelDelayLocked(Entry& e, const api::Key& key) {
    if (!e.due) return;
    delayed.erase({*e.due, key});
    e.due.reset();
  }

  // Makes the key ready at `priority` now (or dirty if it is being processed).
  void MakeReadyLocked(Entries::iterator it, Priority priority) {
    const api::Key& key = it->first;
    Entry& e = it->second;
    CancelDelayLocked(e, key);
    if (e.processing) {
      if (!e.dirty) {
        e.dirty = true;
        e.dirty_priority = priority;
        ++dirty;
      } else if (priority == Priority::kHigh) {
        e.dirty_priority = Priority::kHigh;
      }
      return;
    }
    if (e.queued) {
      if (priority == Priority::kHigh && e.queued_priority == Priority::kLow) {
        e.queued_priority = Priority::kHigh;
        e.seq = next_seq++;
        high.emplace_back(key, e.seq);
      }
      return;
    }
    e.queued = true;
    e.queued_priority = priority;
    e.seq = next_seq++;
    (priority == Priority::kHigh ? high : low).emplace_back(key, e.seq);
    ++ready;
    cv.notify_one();
  }

  void AddAfterLocked(const api::Key& key, std::chrono::milliseconds delay) {
    if (delay <= std::chrono::milliseconds::zero()) {
      MakeReadyLocked(entries.try_emplace(key).first, Priority::kHigh);
      return;
    }
    auto it = entries.try_emplace(key).first;
    Entry& e = it->second;
    if (e.queued || e.dirty) return;
    const TimePoint due = clock->Now() + delay;
    if (e.due && *e.due <= due) return;
    CancelDelayLocked(e, key);
    e.due = due;
    delayed.emplace(due, key);
    cv.notify_all();  // a waiter may need to wake earlier than it planned
  }

  std::optional<api::Key> PopLocked() {
    for (auto* q : {&high, &low}) {
      while (!q->empty()) {
        auto [key, seq] = std::move(q->front());
        q->pop_front();
        auto it = entries.find(key);
        if (it == entries.end() || !it->second.queued || it->second.seq != seq) continue;
        it->second.queued = false;
        it->second.processing = true;
        --ready;
        ++processing;
        return key;
      }
    }
    return std::nullopt;
  }

  void MaybeEraseLocked(Entries::iterator it) {
    const Entry& e = it->second;
    if (!e.processing && !e.queued && !e.dirty && !e.due && e.failures == 0) entries.erase(it);
  }

  bool DueLocked(TimePoint now) const { return !delayed.empty() && delayed.begin()->first <= now; }

  bool IdleLocked() {
    PromoteDueLocked(clock->Now());
    return processing == 0 && (ready == 0 || shutdown);
  }

  std::mutex mu;
  std::condition_variable_any cv;       // Get waiters
  std::condition_variable_any idle_cv;  // WaitIdle waiters
  std::shared_ptr<Clock> clock;
  Backoff backoff;
  bool shutdown = false;
  Entries entries;
  std::deque<std::pair<api::Key, uint64_t>> high;
  std::deque<std::pair<api::Key, uint64_t>> low;
  std::set<std::pair<TimePoint, api::Key>> delayed;
  std::size_t ready = 0;
  std::size_t dirty = 0;
  std::size_t processing = 0;
  std::size_t waiting = 0;  // callers blocked in Get
  uint64_t next_seq = 1;
};

WorkQueue::WorkQueue(std::shared_ptr<Clock> clock, Backoff backoff)
    : impl_(std::make_shared<Impl>(clock, std::move(backoff))), clock_(std::move(clock)) {
  if (clock_->IsFake()) {
    std::weak_ptr<Impl> weak = impl_;
    subscription_ = clock_->Subscribe([weak] {
      auto impl = weak.lock();
      if (!impl) return;
      {
        std::lock_guard<std::mutex> lock(impl->mu);
        impl->PromoteDueLocked(impl->clock->Now());
      }
      impl->cv.notify_all();
      impl->idle_cv.notify_all();
    });
  }
}

WorkQueue::~WorkQueue() {
  if (subscription_ != 0) clock_->Unsubscribe(subscription_);
}

void WorkQueue::Add(const api::Key& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shutdown) return;
  impl_->MakeReadyLocked(impl_->entries.try_emplace(key).first, Priority::kHigh);
}

void WorkQueue::AddResync(const api::Key& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shutdown) return;
  auto it = impl_->entries.try_emplace(key).first;
  const Entry& e = it->second;
  if (e.queued || e.dirty || e.due) return;
  impl_->MakeReadyLocked(it, Priority::kLow);
}

void WorkQueue::AddAfter(const api::Key& key, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shutdown) return;
  impl_->AddAfterLocked(key, delay);
}

void WorkQueue::AddRateLimited(const api::Key& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shutdown) return;
  Entry& e = impl_->entries.try_emplace(key).first->second;
  const std::chrono::milliseconds delay = impl_->backoff.Delay(e.failures);
  if (e.failures < std::numeric_limits<int>::max()) ++e.failures;
  impl_->AddAfterLocked(key, delay);
}

void WorkQueue::RecordFailure(const api::Key& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Entry& e = impl_->entries.try_emplace(key).first->second;
  if (e.failures < std::numeric_limits<int>::max()) ++e.failures;
}

void WorkQueue::Forget(const api::Key& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->entries.find(key);
  if (it == impl_->entries.end()) return;
  it->second.failures = 0;
  impl_->MaybeEraseLocked(it);
}

int WorkQueue::NumFailures(const api::Key& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->entries.find(key);
  return it == impl_->entries.end() ? 0 : it->second.failures;
}

std::optional<api::Key> WorkQueue::Get(std::stop_token stop) {
  Impl& q = *impl_;
  std::unique_lock<std::mutex> lock(q.mu);
  while (true) {
    if (q.shutdown || stop.stop_requested()) return std::nullopt;
    const TimePoint now = clock_->Now();
    q.PromoteDueLocked(now);
    if (auto key = q.PopLocked()) return key;
    // Also wakes when a key due earlier than the one this wait was planned for is added (from
    // another thread): the wait is planned again for it.
    const TimePoint planned = q.delayed.empty() ? TimePoint::max() : q.delayed.begin()->first;
    auto wake = [&] {
      return q.shutdown || q.ready > 0 || q.DueLocked(clock_->Now()) ||
             (!q.delayed.empty() && q.delayed.begin()->first < planned);
    };
    ++q.waiting;
    if (clock_->IsFake() || planned == TimePoint::max()) {
      q.cv.wait(lock, stop, wake);
    } else {
      q.cv.wait_for(lock, stop, planned - now, wake);
    }
    --q.waiting;
  }
}

std::optional<api::Key> WorkQueue::TryGet() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shutdown) return std::nullopt;
  impl_->PromoteDueLocked(clock_->Now());
  return impl_->PopLocked();
}

void WorkQueue::Done(const api::Key& key) {
  Impl& q = *impl_;
  {
    std::lock_guard<std::mutex> lock(q.mu);
    auto it = q.entries.find(key);
    if (it == q.entries.end() || !it->second.processing) return;
    Entry& e = it->second;
    e.processing = false;
    --q.processing;
    if (e.dirty) {
      e.dirty = false;
      --q.dirty;
      if (!q.shutdown) {
        q.MakeReadyLocked(it, e.dirty_priority);
        return;
      }
    }
    if (e.due && q.shutdown) q.CancelDelayLocked(e, key);
    q.MaybeEraseLocked(it);
    if (q.processing != 0 || (q.ready != 0 && !q.shutdown)) return;
  }
  q.idle_cv.notify_all();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->shutdown = true;
  }
  impl_->cv.notify_all();
  impl_->idle_cv.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->shutdown;
}

std::size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ready + impl_->dirty + impl_->delayed.size();
}

std::size_t WorkQueue::ReadyLen() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->PromoteDueLocked(clock_->Now());
  return impl_->ready;
}

std::size_t WorkQueue::ProcessingLen() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->processing;
}

std::size_t WorkQueue::Waiting() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->waiting;
}

bool WorkQueue::WaitIdle(std::chrono::milliseconds timeout) const {
  Impl& q = *impl_;
  std::unique_lock<std::mutex> lock(q.mu);
  return q.idle_cv.wait_for(lock, timeout, [&] { return q.IdleLocked(); });
}

}  // namespace redisfleet::runtime
