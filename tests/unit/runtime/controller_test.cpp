#include "runtime/controller.h"

#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "runtime/requeue_policy.h"
#include "unit/runtime/fakes.h"

namespace redisfleet::runtime {
namespace {

using std::chrono::milliseconds;
using testing::FakeReconciler;
using testing::K;
using testing::RecordingObserver;
using testing::WaitFor;

constexpr auto kDeadline = std::chrono::seconds(10);

StatusOr<Result> Ok(milliseconds after = milliseconds(0)) { return Result{after}; }

ControllerOptions Workers(int n) {
  ControllerOptions o;
  o.workers = n;
  return o;
}

class ControllerTest : public ::testing::Test {
 protected:
  std::shared_ptr<Controller> Make(ControllerOptions o = {}) {
    o.backoff_base = milliseconds(100);
    o.backoff_cap = milliseconds(1000);
    return std::make_shared<Controller>("things", reconciler_, o, clock_, log_, &observer_);
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(lines_mu_);
    return lines_;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<FakeReconciler> reconciler_ = std::make_shared<FakeReconciler>(clock_);
  RecordingObserver observer_;
  std::mutex lines_mu_;
  std::vector<std::string> lines_;
  std::shared_ptr<Logger> log_ = std::make_shared<Logger>(
      LogFormat::kText, LogLevel::kDebug, clock_, [this](const std::string& line) {
        std::lock_guard<std::mutex> lock(lines_mu_);
        lines_.push_back(line);
      });
};

TEST_F(ControllerTest, RetriesUnavailableWithGrowingDelays) {
  reconciler_->Always(K("a"), [] { return StatusOr<Result>(UnavailableError("host down")); });
  auto c = Make(Workers(2));
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("a"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  const std::vector<int> delays_ms = {100, 200, 400, 800, 1000, 1000};
  for (std::size_t i = 0; i < delays_ms.size(); ++i) {
    SCOPED_TRACE(fmt::format("retry {}", i + 1));
    EXPECT_EQ(c->NumFailures(K("a")), static_cast<int>(i + 1));
    clock_->Advance(milliseconds(delays_ms[i] - 1));
    ASSERT_TRUE(c->WaitIdle(kDeadline));
    EXPECT_EQ(reconciler_->NumCalls(), i + 1) << "retried before the backoff elapsed";
    clock_->Advance(milliseconds(1));
    ASSERT_TRUE(reconciler_->WaitCalls(i + 2));
    ASSERT_TRUE(c->WaitIdle(kDeadline));
  }
  // Recovery resets the failure count and stops the retries.
  reconciler_->Always(K("a"), [] { return Ok(); });
  clock_->Advance(milliseconds(1000));
  ASSERT_TRUE(reconciler_->WaitCalls(delays_ms.size() + 2));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(c->NumFailures(K("a")), 0);
  clock_->Advance(std::chrono::hours(1));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(reconciler_->NumCalls(), delays_ms.size() + 2);
  EXPECT_EQ(c->QueueLen(), 0u);
  EXPECT_TRUE(c->Stop(kDeadline));
}

TEST_F(ControllerTest, HonoursRequeueAfter) {
  reconciler_->Always(K("a"), [] { return Ok(milliseconds(30000)); });
  auto c = Make();
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("a"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(c->QueueLen(), 1u) << "the requeue is scheduled";
  clock_->Advance(milliseconds(29999));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(reconciler_->NumCalls(), 1u);
  clock_->Advance(milliseconds(1));
  ASSERT_TRUE(reconciler_->WaitCalls(2));
  const auto calls = reconciler_->calls();
  EXPECT_EQ(calls[1].at - calls[0].at, milliseconds(30000));
  EXPECT_TRUE(c->Stop(kDeadline));
  const auto outcomes = observer_.outcomes();
  ASSERT_GE(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], ReconcileOutcome::kRequeue);
}

TEST_F(ControllerTest, ConflictRetriesAtOnceThenBacksOff) {
  reconciler_->Always(K("a"), [] { return StatusOr<Result>(ConflictError("stale")); });
  auto c = Make(Workers(1));
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("a"));
  ASSERT_TRUE(reconciler_->WaitCalls(1 + kMaxImmediateConflictRetries));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(reconciler_->NumCalls(), 1u + kMaxImmediateConflictRetries);
  const auto calls = reconciler_->calls();
  EXPECT_EQ(calls.back().at, calls.front().at) << "immediate retries take no fake time";
  clock_->Advance(milliseconds(799));  // Delay(3) with base 100 ms
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(reconciler_->NumCalls(), 1u + kMaxImmediateConflictRetries);
  clock_->Advance(milliseconds(1));
  ASSERT_TRUE(reconciler_->WaitCalls(2 + kMaxImmediateConflictRetries));
  EXPECT_TRUE(c->Stop(kDeadline));
}

TEST_F(ControllerTest, TerminalErrorRetriesOnlyAtTheCapButAnEditRunsAtOnce) {
  reconciler_->Always(K("a"), [] { return StatusOr<Result>(InvalidArgumentError("bad spec")); });
  auto c = Make(Workers(1));
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("a"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  clock_->Advance(milliseconds(999));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(reconciler_->NumCalls(), 1u);
  c->Enqueue(K("a"));  // the user edits
  ASSERT_TRUE(reconciler_->WaitCalls(2));
  EXPECT_TRUE(c->Stop(kDeadline));
}

TEST_F(ControllerTest, ResyncEnqueuesAllKeysButEditsGoFirst) {
  ControllerOptions o;
  o.workers = 1;
  o.resync_period = milliseconds(10000);
  auto c = Make(o);
  std::vector<api::Key> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(K(fmt::format("r{}", i)));
  keys.push_back(K("e1"));
  c->SetResyncSource([keys] { return keys; });
  reconciler_->Gate(K("gate"));
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("gate"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));  // the only worker is busy
  clock_->Advance(milliseconds(9999));
  clock_->Advance(milliseconds(1));
  ASSERT_TRUE(WaitFor([&] { return c->QueueLen() == keys.size(); }));
  c->Enqueue(K("e1"));  // also in the resync: promoted, not duplicated
  c->Enqueue(K("e2"));
  reconciler_->Release(K("gate"));
  ASSERT_TRUE(reconciler_->WaitCalls(1 + keys.size() + 1));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  std::vector<std::string> want = {"default/gate", "default/e1", "default/e2"};
  for (int i = 0; i < 10; ++i) want.push_back(fmt::format("default/r{}", i));
  EXPECT_EQ(reconciler_->CalledKeys(), want);

  // The next period resyncs every key again.
  clock_->Advance(milliseconds(10000));
  ASSERT_TRUE(reconciler_->WaitCalls(want.size() + keys.size()));
  EXPECT_TRUE(c->Stop(kDeadline));
}

TEST_F(ControllerTest, StopDrainsAnInFlightReconcile) {
  reconciler_->Gate(K("slow"));
  auto c = Make();
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("slow"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));
  auto stopped = std::async(std::launch::async, [&] { return c->Stop(kDeadline); });
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& line : Lines()) {
      if (line.find("controller stopping") != std::string::npos) return true;
    }
    return false;
  }));
  EXPECT_EQ(stopped.wait_for(milliseconds(0)), std::future_status::timeout)
      << "Stop must wait for the in-flight reconcile";
  reconciler_->Release(K("slow"));
  ASSERT_EQ(stopped.wait_for(kDeadline + std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(stopped.get());
  EXPECT_EQ(reconciler_->NumReturned(), 1u);
  EXPECT_EQ(observer_.outcomes().size(), 1u) << "the drained reconcile was reported";

  // Stopped: later keys are ignored, Stop is idempotent, no restart.
  c->Enqueue(K("late"));
  EXPECT_EQ(c->QueueLen(), 0u);
  EXPECT_EQ(reconciler_->CalledKeys(), (std::vector<std::string>{"default/slow"}));
  EXPECT_TRUE(c->Stop(kDeadline));
  EXPECT_EQ(c->Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ControllerTest, StopGivesUpAfterTheDrainTimeout) {
  reconciler_->Gate(K("stuck"));
  auto c = Make();
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("stuck"));
  ASSERT_TRUE(reconciler_->WaitCalls(1));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(c->Stop(milliseconds(50)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  c.reset();
  // The detached worker finishes once the reconcile returns, then releases everything it held.
  reconciler_->Release(K("stuck"));
  ASSERT_TRUE(WaitFor([&] { return reconciler_.use_count() == 1; }));
  EXPECT_TRUE(observer_.outcomes().empty()) << "no reports after Stop returned";
}

TEST_F(ControllerTest, AThrowingReconcilerDoesNotKillTheWorker) {
  reconciler_->Always(K("boom"), []() -> StatusOr<Result> {
    throw std::runtime_error("parse error near password=hunter2");
  });
  reconciler_->Always(K("weird"), []() -> StatusOr<Result> { throw 42; });
  auto c = Make(Workers(1));
  ASSERT_TRUE(c->Start().ok());
  c->Enqueue(K("boom"));
  c->Enqueue(K("weird"));
  c->Enqueue(K("fine"));
  ASSERT_TRUE(reconciler_->WaitCalls(3));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_EQ(c->NumFailures(K("boom")), 1) << "treated as kInternal: backoff";
  EXPECT_EQ(c->NumFailures(K("fine")), 0);
  clock_->Advance(milliseconds(100));
  ASSERT_TRUE(reconciler_->WaitCalls(5)) << "the worker lives on and retries";
  EXPECT_TRUE(c->Stop(kDeadline));
  int threw = 0;
  for (const auto& line : Lines()) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    if (line.find("level=error") != std::string::npos &&
        line.find("reconciler threw") != std::string::npos) {
      ++threw;
    }
  }
  EXPECT_GE(threw, 2);
}

TEST_F(ControllerTest, LogsAndReportsEachReconcile) {
  reconciler_->Script(K("a"), {[] { return Ok(); }});
  reconciler_->Script(K("b"), {[] { return StatusOr<Result>(UnavailableError("try later")); }});
  auto c = Make(Workers(1));
  c->Enqueue(K("a"));  // before Start: waits
  c->Enqueue(K("b"));
  ASSERT_TRUE(c->Start().ok());
  ASSERT_TRUE(reconciler_->WaitCalls(2));
  ASSERT_TRUE(c->WaitIdle(kDeadline));
  EXPECT_TRUE(c->Stop(kDeadline));

  EXPECT_EQ(observer_.outcomes(),
            (std::vector<ReconcileOutcome>{ReconcileOutcome::kSuccess, ReconcileOutcome::kError}));
  EXPECT_EQ(observer_.controllers(), (std::vector<std::string>{"things", "things"}));
  const auto depths = observer_.depths();
  ASSERT_FALSE(depths.empty());
  EXPECT_EQ(depths.back(), 1u) << "b waits for its retry";

  struct Want {
    std::string what;
    std::vector<std::string> parts;
  };
  const std::vector<Want> wants = {
      {"start a", {"level=debug", "msg=\"reconcile start\"", "key=default/a", "reconcile_id=1",
                   "controller=things"}},
      {"done a", {"level=debug", "msg=\"reconcile done\"", "key=default/a", "reconcile_id=1",
                  "duration="}},
      {"failed b", {"level=warn", "msg=\"reconcile failed\"", "key=default/b", "reconcile_id=2",
                    "controller=things", "UNAVAILABLE: try later", "retry_after_ms=100"}},
  };
  const auto lines = Lines();
  for (const auto& w : wants) {
    SCOPED_TRACE(w.what);
    bool found = false;
    for (const auto& line : lines) {
      bool all = true;
      for (const auto& p : w.parts) all = all && line.find(p) != std::string::npos;
      found = found || all;
    }
    EXPECT_TRUE(found);
  }
}

TEST_F(ControllerTest, StartRejectsBadOptions) {
  struct Row {
    std::string name;
    ControllerOptions options;
    bool resync;
  };
  ControllerOptions no_workers;
  no_workers.workers = 0;
  ControllerOptions negative_resync;
  negative_resync.resync_period = milliseconds(-1);
  const std::vector<Row> rows = {{"no workers", no_workers, false},
                                 {"negative resync", negative_resync, true}};
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto c = Make(row.options);
    if (row.resync) c->SetResyncSource([] { return std::vector<api::Key>{}; });
    EXPECT_EQ(c->Start().code(), StatusCode::kInvalidArgument);
  }
  ControllerOptions bad_backoff;
  bad_backoff.backoff_base = milliseconds(0);
  Controller c("x", reconciler_, bad_backoff, clock_, log_, nullptr);
  EXPECT_EQ(c.Start().code(), StatusCode::kInvalidArgument);

  auto ok = Make();
  ASSERT_TRUE(ok->Start().ok());
  EXPECT_EQ(ok->Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ok->Stop(kDeadline));
}

TEST_F(ControllerTest, RealClockRetryHappensAfterTheBackoff) {
  auto real = std::make_shared<RealClock>();
  auto rec = std::make_shared<FakeReconciler>(real);
  rec->Script(K("a"), {[] { return StatusOr<Result>(UnavailableError("not yet")); }});
  ControllerOptions o;
  o.backoff_base = milliseconds(30);
  Controller c("things", rec, o, real, Logger::Null(), nullptr);
  ASSERT_TRUE(c.Start().ok());
  c.Enqueue(K("a"));
  ASSERT_TRUE(rec->WaitCalls(2));
  const auto calls = rec->calls();
  EXPECT_GE(calls[1].at - calls[0].at, milliseconds(30));
  EXPECT_TRUE(c.Stop(kDeadline));
}

}  // namespace
}  // namespace redisfleet::runtime
