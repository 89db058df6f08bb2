#include "runtime/requeue_policy.h"

namespace redisfleet::runtime {
namespace {

// base * 2^40 exceeds any sane cap, so Delay(kCapAttempt) is the cap (jittered when the backoff
// has a jitter source).
constexpr int kCapAttempt = 40;

}  // namespace

bool IsTerminalCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

RequeueDecision DecideRequeue(const StatusOr<Result>& r, int failures, const Backoff& backoff) {
  if (failures < 0) failures = 0;
  if (r.ok()) {
    if (r->requeue_after > std::chrono::milliseconds::zero()) {
      return {RequeueKind::kAfter, r->requeue_after, false};
    }
    return {RequeueKind::kForget, std::chrono::milliseconds::zero(), false};
  }
  const StatusCode code = r.error().code();
  if (code == StatusCode::kOk || code == StatusCode::kCancelled) {
    return {RequeueKind::kForget, std::chrono::milliseconds::zero(), false};
  }
  if (IsTerminalCode(code)) {
    return {RequeueKind::kAfter, backoff.Delay(kCapAttempt), false};
  }
  if (code == StatusCode::kConflict && failures < kMaxImmediateConflictRetries) {
    return {RequeueKind::kImmediately, std::chrono::milliseconds::zero(), true};
  }
  return {RequeueKind::kAfter, backoff.Delay(failures), true};
}

}  // namespace redisfleet::runtime
