#include "runtime/requeue_policy.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace redisfleet::runtime {
namespace {

using std::chrono::milliseconds;

StatusOr<Result> Ok(milliseconds requeue_after = milliseconds(0)) { return Result{requeue_after}; }
StatusOr<Result> Err(StatusCode code) { return Status(code, "boom"); }

TEST(RequeuePolicy, EveryOutcome) {
  const Backoff backoff(milliseconds(100), milliseconds(1000));
  struct Row {
    std::string name;
    StatusOr<Result> result;
    int failures;
    RequeueDecision want;
  };
  const RequeueDecision forget{RequeueKind::kForget, milliseconds(0), false};
  auto after = [](int ms, bool count) { return RequeueDecision{RequeueKind::kAfter, milliseconds(ms), count}; };
  const RequeueDecision now{RequeueKind::kImmediately, milliseconds(0), true};
  const std::vector<Row> rows = {
      {"ok forgets and resets", Ok(), 4, forget},
      {"ok with requeue_after", Ok(milliseconds(30000)), 4, after(30000, false)},
      {"cancelled forgets", Err(StatusCode::kCancelled), 2, forget},
      {"conflict first retry at once", Err(StatusCode::kConflict), 0, now},
      {"conflict still at once", Err(StatusCode::kConflict), kMaxImmediateConflictRetries - 1, now},
      {"conflict then backs off", Err(StatusCode::kConflict), kMaxImmediateConflictRetries, after(800, true)},
      {"unavailable first", Err(StatusCode::kUnavailable), 0, after(100, true)},
      {"unavailable second", Err(StatusCode::kUnavailable), 1, after(200, true)},
      {"unavailable capped", Err(StatusCode::kUnavailable), 30, after(1000, true)},
      {"unavailable huge failures", Err(StatusCode::kUnavailable), 1 << 30, after(1000, true)},
      {"negative failures as zero", Err(StatusCode::kUnavailable), -5, after(100, true)},
      {"deadline exceeded", Err(StatusCode::kDeadlineExceeded), 2, after(400, true)},
      {"resource exhausted", Err(StatusCode::kResourceExhausted), 0, after(100, true)},
      {"internal", Err(StatusCode::kInternal), 0, after(100, true)},
      {"failed precondition", Err(StatusCode::kFailedPrecondition), 0, after(100, true)},
      {"not found", Err(StatusCode::kNotFound), 0, after(100, true)},
      {"already exists", Err(StatusCode::kAlreadyExists), 1, after(200, true)},
      {"invalid argument terminal", Err(StatusCode::kInvalidArgument), 0, after(1000, false)},
      {"permission denied terminal", Err(StatusCode::kPermissionDenied), 3, after(1000, false)},
      {"unauthenticated terminal", Err(StatusCode::kUnauthenticated), 0, after(1000, false)},
      {"unimplemented terminal", Err(StatusCode::kUnimplemented), 0, after(1000, false)},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    const RequeueDecision got = DecideRequeue(row.result, row.failures, backoff);
    EXPECT_EQ(got.kind, row.want.kind);
    EXPECT_EQ(got.delay, row.want.delay);
    EXPECT_EQ(got.count_failure, row.want.count_failure);
  }
}

// Every code has a deliberate decision: a new StatusCode must be added to one of these sets.
TEST(RequeuePolicy, EveryCodeIsClassified) {
  const std::set<StatusCode> forget = {StatusCode::kCancelled};
  const std::set<StatusCode> terminal = {StatusCode::kInvalidArgument, StatusCode::kPermissionDenied,
                                         StatusCode::kUnauthenticated, StatusCode::kUnimplemented};
  const std::set<StatusCode> backoff_codes = {
      StatusCode::kNotFound,          StatusCode::kAlreadyExists, StatusCode::kResourceExhausted,
      StatusCode::kFailedPrecondition, StatusCode::kUnavailable,  StatusCode::kDeadlineExceeded,
      StatusCode::kInternal};
  const Backoff backoff(milliseconds(100), milliseconds(5000));
  for (int c = static_cast<int>(StatusCode::kCancelled); c <= static_cast<int>(StatusCode::kUnimplemented);
       ++c) {
    const auto code = static_cast<StatusCode>(c);
    SCOPED_TRACE(std::string(StatusCodeName(code)));
    const RequeueDecision d = DecideRequeue(Err(code), 1, backoff);
    EXPECT_EQ(IsTerminalCode(code), terminal.count(code) == 1);
    if (forget.count(code)) {
      EXPECT_EQ(d.kind, RequeueKind::kForget);
    } else if (terminal.count(code)) {
      EXPECT_EQ(d, (RequeueDecision{RequeueKind::kAfter, milliseconds(5000), false}));
    } else if (backoff_codes.count(code)) {
      EXPECT_EQ(d, (RequeueDecision{RequeueKind::kAfter, milliseconds(200), true}));
    } else {
      EXPECT_EQ(code, StatusCode::kConflict) << "unclassified code";
      EXPECT_EQ(d.kind, RequeueKind::kImmediately);
    }
  }
}

TEST(RequeuePolicy, JitteredTerminalRetryStaysNearTheCap) {
  const Backoff backoff(milliseconds(100), milliseconds(300000), [] { return 0.999; });
  const RequeueDecision d = DecideRequeue(Err(StatusCode::kInvalidArgument), 0, backoff);
  EXPECT_EQ(d.kind, RequeueKind::kAfter);
  EXPECT_GE(d.delay, milliseconds(150000));
  EXPECT_LE(d.delay, milliseconds(300000));
}

}  // namespace
}  // namespace redisfleet::runtime
