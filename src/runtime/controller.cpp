#include "runtime/controller.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <stop_token>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/backoff.h"
#include "runtime/requeue_policy.h"
#include "runtime/work_queue.h"

namespace redisfleet::runtime {
namespace {

constexpr std::chrono::milliseconds kDestructorDrain{10000};

std::string FormatSeconds(double seconds) { return fmt::format("{:.3f}s", seconds); }

std::string_view KindName(RequeueKind kind) {
  switch (kind) {
    case RequeueKind::kForget:
      return "none";
    case RequeueKind::kAfter:
      return "after";
    case RequeueKind::kImmediately:
      return "immediately";
  }
  return "none";
}

}  // namespace

// State shared by the Controller and its threads; a detached worker keeps it alive.
struct Controller::Core {
  Core(std::string n, std::shared_ptr<Reconciler> r, ControllerOptions o, std::shared_ptr<Clock> c,
       std::shared_ptr<Logger> l, ReconcileObserver* obs)
      : name(std::move(n)),
        reconciler(std::move(r)),
        options(std::move(o)),
        clock(std::move(c)),
        log(l ? std::move(l) : Logger::Null()),
        backoff(options.backoff_base, options.backoff_cap, options.jitter),
        queue(clock, backoff),
        observer(obs) {}

  ~Core() {
    if (clock_subscription != 0) clock->Unsubscribe(clock_subscription);
  }

  void WorkerLoop() {
    while (auto key = queue.Get(stop.get_token())) {
      ProcessOne(*key);
      queue.Done(*key);
      ReportDepth();
    }
  }

  StatusOr<Result> RunReconciler(const api::Key& key, const std::string& key_str, uint64_t id) {
    try {
      return reconciler->Reconcile(key);
    } catch (...) {
      // The exception's text is not logged: library messages may quote secret-bearing input.
      log->Error("reconciler threw an exception; treated as an internal error",
                 {{"key", key_str}, {"reconcile_id", id}, {"controller", name}});
      return InternalError("reconciler threw an exception");
    }
  }

  void ProcessOne(const api::Key& key) {
    const uint64_t id = next_id.fetch_add(1) + 1;
    const std::string key_str = key.ToString();
    const bool debug = log->Enabled(LogLevel::kDebug);
    if (debug) {
      log->Debug("reconcile start", {{"key", key_str}, {"reconcile_id", id}, {"controller", name}});
    }
    const TimePoint start = clock->Now();
    StatusOr<Result> r = RunReconciler(key, key_str, id);
    const double seconds = std::chrono::duration<double>(clock->Now() - start).count();

    const int failures = queue.NumFailures(key);
    const RequeueDecision d = DecideRequeue(r, failures, backoff);
    if (d.count_failure) {
      queue.RecordFailure(key);
    } else {
      queue.Forget(key);
    }
    switch (d.kind) {
      case RequeueKind::kForget:
        break;
      case RequeueKind::kAfter:
        queue.AddAfter(key, d.delay);
        break;
      case RequeueKind::kImmediately:
        queue.Add(key);  // the key is processing: it runs again right after Done
        break;
    }

    ReconcileOutcome outcome = ReconcileOutcome::kSuccess;
    if (r.ok()) {
      if (r->requeue_after > std::chrono::milliseconds::zero()) outcome = ReconcileOutcome::kRequeue;
      if (debug) {
        log->Debug("reconcile done",
                   {{"key", key_str},
                    {"reconcile_id", id},
                    {"controller", name},
                    {"duration", FormatSeconds(seconds)},
                    {"requeue_after_ms", static_cast<int64_t>(r->requeue_after.count())}});
      }
    } else {
      outcome = ReconcileOutcome::kError;
      const Status& s = r.error();
      LogFields fields{{"key", key_str},
                       {"reconcile_id", id},
                       {"controller", name},
                       {"duration", FormatSeconds(seconds)},
                       {"error", s.ToString()},
                       {"retry", KindName(d.kind)},
                       {"retry_after_ms", static_cast<int64_t>(d.delay.count())},
                       {"failures", d.count_failure ? failures + 1 : 0}};
      if (s.code() == StatusCode::kCancelled) {
        log->Debug("reconcile cancelled", fields);
      } else {
        log->Warn("reconcile failed", fields);
      }
    }
    std::lock_guard<std::mutex> lock(observer_mu);
    if (observer != nullptr) observer->ReconcileDone(name, outcome, seconds);
  }

  void ResyncLoop(const std::function<std::vector<api::Key>()>& source, TimePoint first) {
    const auto period = options.resync_period;
    TimePoint next = first;
    std::stop_token st = stop.get_token();
    std::unique_lock<std::mutex> lock(resync_mu);
    while (!st.stop_requested()) {
      const TimePoint now = clock->Now();
      if (now < next) {
        auto due = [&] { return clock->Now() >= next; };
        if (clock->IsFake()) {
          resync_cv.wait(lock, st, due);
        } else {
          resync_cv.wait_for(lock, st, next - now, due);
        }
        continue;
      }
      lock.unlock();
      std::vector<api::Key> keys;
      try {
        keys = source();
      } catch (...) {
        log->Error("resync source threw an exception; skipping this resync", {{"controller", name}});
      }
      for (const auto& key : keys) queue.AddResync(key);
      log->Debug("resync", {{"controller", name}, {"keys", keys.size()}});
      ReportDepth();
      next = now + period;
      lock.lock();
    }
  }

  void ReportDepth() {
    const std::size_t depth = queue.Len();
    std::lock_guard<std::mutex> lock(observer_mu);
    if (observer != nullptr) observer->QueueDepth(name, depth);
  }

  // Called by each thread as its last act.
  void MarkExited(std::size_t index) {
    {
      std::lock_guard<std::mutex> lock(threads_mu);
      exited[index] = true;
      --running;
    }
    threads_cv.notify_all();
  }

  const std::string name;
  const std::shared_ptr<Reconciler> reconciler;
  const ControllerOptions options;
  const std::shared_ptr<Clock> clock;
  const std::shared_ptr<Logger> log;
  const Backoff backoff;
  WorkQueue queue;
  std::atomic<uint64_t> next_id{0};
  std::stop_source stop;

  std::mutex observer_mu;
  ReconcileObserver* observer;  // guarded by observer_mu; null once a Stop gave up waiting

  std::mutex threads_mu;
  std::condition_variable threads_cv;
  std::vector<bool> exited;  // guarded by threads_mu, one per started thread
  int running = 0;           // guarded by threads_mu

  std::mutex resync_mu;
  std::condition_variable_any resync_cv;
  std::size_t clock_subscription = 0;
};

Controller::Controller(std::string name, std::shared_ptr<Reconciler> reconciler,
                       ControllerOptions options, std::shared_ptr<Clock> clock,
                       std::shared_ptr<Logger> log, ReconcileObserver* observer)
    : name_(name),
      core_(std::make_shared<Core>(std::move(name), std::move(reconciler), std::move(options),
                                   std::move(clock), std::move(log), observer)) {}

Controller::~Controller() {
  bool running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = state_ == State::kRunning;
  }
  if (running) {
    (void)Stop(kDestructorDrain);
  } else {
    core_->queue.ShutDown();
  }
}

void Controller::Enqueue(const api::Key& key) {
  core_->queue.Add(key);
  core_->ReportDepth();
}

void Controller::EnqueueAfter(const api::Key& key, std::chrono::milliseconds delay) {
  core_->queue.AddAfter(key, delay);
  core_->ReportDepth();
}

void Controller::SetResyncSource(std::function<std::vector<api::Key>()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  resync_source_ = std::move(source);
}

Status Controller::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kNew) {
    return FailedPreconditionError(fmt::format("controller {} was already started", name_));
  }
  const ControllerOptions& o = core_->options;
  if (o.workers < 1) {
    return InvalidArgumentError(fmt::format("controller {}: workers must be at least 1", name_));
  }
  if (o.backoff_base <= std::chrono::milliseconds::zero() || o.backoff_cap < o.backoff_base) {
    return InvalidArgumentError(
        fmt::format("controller {}: need 0 < backoff_base <= backoff_cap", name_));
  }
  if (o.resync_period < std::chrono::milliseconds::zero()) {
    return InvalidArgumentError(
        fmt::format("controller {}: resync_period must not be negative", name_));
  }

  const bool resync = resync_source_ && o.resync_period > std::chrono::milliseconds::zero();
  if (resync && core_->clock->IsFake()) {
    std::weak_ptr<Core> weak = core_;
    core_->clock_subscription = core_->clock->Subscribe([weak] {
      auto core = weak.lock();
      if (!core) return;
      { std::lock_guard<std::mutex> l(core->resync_mu); }
      core->resync_cv.notify_all();
    });
  }

  auto spawn = [this](std::function<void(Core&)> body) {
    std::size_t index;
    {
      std::lock_guard<std::mutex> l(core_->threads_mu);
      index = core_->exited.size();
      core_->exited.push_back(false);
      ++core_->running;
    }
    try {
      threads_.emplace_back([core = core_, index, body = std::move(body)] {
        body(*core);
        core->MarkExited(index);
      });
    } catch (const std::system_error&) {
      std::lock_guard<std::mutex> l(core_->threads_mu);
      core_->exited.pop_back();
      --core_->running;
      return false;
    }
    return true;
  };

  bool ok = true;
  for (int i = 0; i < o.workers && ok; ++i) ok = spawn([](Core& c) { c.WorkerLoop(); });
  if (ok && resync) {
    const TimePoint first = core_->clock->Now() + o.resync_period;
    ok = spawn([source = resync_source_, first](Core& c) { c.ResyncLoop(source, first); });
  }
  if (!ok) {
    core_->queue.ShutDown();
    core_->stop.request_stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    state_ = State::kStopped;
    return UnavailableError(fmt::format("controller {}: cannot start a thread", name_));
  }
  state_ = State::kRunning;
  core_->log->Info("controller started", {{"controller", name_},
                                          {"workers", o.workers},
                                          {"resync_period_ms",
                                           static_cast<int64_t>(o.resync_period.count())}});
  return Status::Ok();
}

bool Controller::Stop(std::chrono::milliseconds drain_timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kStopped) return true;
  const bool was_running = state_ == State::kRunning;
  state_ = State::kStopped;
  core_->queue.ShutDown();
  core_->stop.request_stop();
  if (!was_running) return true;
  core_->log->Info("controller stopping",
                   {{"controller", name_},
                    {"drain_timeout_ms", static_cast<int64_t>(drain_timeout.count())}});

  // Real time on purpose: a drain bounds how long the process takes to exit, also under a
  // FakeClock.
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::vector<bool> exited;
  int still_running;
  {
    std::unique_lock<std::mutex> l(core_->threads_mu);
    core_->threads_cv.wait_until(l, deadline, [&] { return core_->running == 0; });
    exited = core_->exited;
    still_running = core_->running;
  }
  if (still_running != 0) {
    std::lock_guard<std::mutex> l(core_->observer_mu);
    core_->observer = nullptr;
  }
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (exited[i]) {
      threads_[i].join();
    } else {
      threads_[i].detach();
    }
  }
  threads_.clear();
  if (still_running != 0) {
    core_->log->Warn("controller stopped before in-flight reconciles finished",
                     {{"controller", name_}, {"still_running", still_running}});
    return false;
  }
  core_->log->Info("controller stopped", {{"controller", name_}});
  return true;
}

bool Controller::WaitIdle(std::chrono::milliseconds timeout) const {
  return core_->queue.WaitIdle(timeout);
}

std::size_t Controller::QueueLen() const { return core_->queue.Len(); }

int Controller::NumFailures(const api::Key& key) const { return core_->queue.NumFailures(key); }

}  // namespace redisfleet::runtime
