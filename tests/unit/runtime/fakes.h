#pragma once
// Test doubles for the runtime tests: a scripted Reconciler, a recording observer, and a
// wait-until-with-deadline helper.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "runtime/observer.h"
#include "runtime/reconciler.h"
#include "support/wait.h"

namespace redisfleet::runtime::testing {

// Polls `pred` until it holds or `timeout` passes; true if it held.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return redisfleet::testing::WaitUntil(pred, timeout, std::chrono::milliseconds(1));
}

// Returns scripted results per key (OK once the script is exhausted, or `fallback` if set),
// records each call with the fake time, and can hold a key's calls at a gate. Thread-safe.
class FakeReconciler final : public Reconciler {
 public:
  struct Call {
    api::Key key;
    TimePoint at;
  };
  using Step = std::function<StatusOr<Result>()>;

  explicit FakeReconciler(std::shared_ptr<Clock> clock) : clock_(std::move(clock)) {}

  StatusOr<Result> Reconcile(const api::Key& key) override {
    Step step;
    {
      std::unique_lock<std::mutex> lock(mu_);
      calls_.push_back({key, clock_->Now()});
      cv_.notify_all();
      cv_.wait(lock, [&] { return !gated_.count(key.ToString()); });
      auto& script = scripts_[key.ToString()];
      if (!script.empty()) {
        step = std::move(script.front());
        script.pop_front();
      } else if (fallback_.count(key.ToString())) {
        step = fallback_[key.ToString()];
      }
    }
    auto r = step ? step() : StatusOr<Result>(Result{});
    std::lock_guard<std::mutex> lock(mu_);
    ++returned_;
    cv_.notify_all();
    return r;
  }

  void Script(const api::Key& key, std::vector<Step> steps) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : steps) scripts_[key.ToString()].push_back(std::move(s));
  }
  void Always(const api::Key& key, Step step) {
    std::lock_guard<std::mutex> lock(mu_);
    fallback_[key.ToString()] = std::move(step);
  }
  void Gate(const api::Key& key) {
    std::lock_guard<std::mutex> lock(mu_);
    gated_.insert(key.ToString());
  }
  void Release(const api::Key& key) {
    std::lock_guard<std::mutex> lock(mu_);
    gated_.erase(key.ToString());
    cv_.notify_all();
  }
  // Waits until at least `n` calls were made.
  bool WaitCalls(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::string> CalledKeys() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : calls_) out.push_back(c.key.ToString());
    return out;
  }
  std::size_t NumCalls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.size();
  }
  std::size_t NumReturned() const {
    std::lock_guard<std::mutex> lock(mu_);
    return returned_;
  }

 private:
  std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::size_t returned_ = 0;
  std::map<std::string, std::deque<Step>> scripts_;
  std::map<std::string, Step> fallback_;
  std::set<std::string> gated_;
};

// Records what a Controller reports. Thread-safe.
class RecordingObserver final : public ReconcileObserver {
 public:
  void ReconcileDone(std::string_view controller, ReconcileOutcome outcome, double) override {
    std::lock_guard<std::mutex> lock(mu_);
    controllers_.emplace_back(controller);
    outcomes_.push_back(outcome);
  }
  void QueueDepth(std::string_view, std::size_t depth) override {
    std::lock_guard<std::mutex> lock(mu_);
    depths_.push_back(depth);
  }
  std::vector<ReconcileOutcome> outcomes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_;
  }
  std::vector<std::string> controllers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return controllers_;
  }
  std::vector<std::size_t> depths() const {
    std::lock_guard<std::mutex> lock(mu_);
    return depths_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> controllers_;
  std::vector<ReconcileOutcome> outcomes_;
  std::vector<std::size_t> depths_;
};

inline api::Key K(const std::string& name) { return api::Key{"default", name}; }

}  // namespace redisfleet::runtime::testing
