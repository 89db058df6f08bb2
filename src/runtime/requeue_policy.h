#pragma once
// The one place where Status codes become retry behaviour (see shared/DESIGN.md "Conventions").

#include <chrono>

#include "common/backoff.h"
#include "common/status.h"
#include "runtime/reconciler.h"

namespace redisfleet::runtime {

enum class RequeueKind {
  kForget,       // nothing scheduled; the key runs again on the next edit or resync
  kAfter,        // run again after `delay`
  kImmediately,  // run again as soon as the current run is Done
};

struct RequeueDecision {
  RequeueKind kind = RequeueKind::kForget;
  std::chrono::milliseconds delay{0};  // meaningful for kAfter only
  // True: this run counts as one more consecutive failure of the key. False: the key's failure
  // count goes back to 0.
  bool count_failure = false;

  friend bool operator==(const RequeueDecision&, const RequeueDecision&) = default;
};

// Consecutive failures after which a kConflict stops being retried at once and backs off.
inline constexpr int kMaxImmediateConflictRetries = 3;

// Maps one reconcile outcome to its retry, given `failures` consecutive failures of the key
// before this run (its NumFailures) and the backoff (base..cap) to use:
//   OK, requeue_after > 0        -> After(requeue_after), failures reset
//   OK                           -> Forget, failures reset
//   kCancelled                   -> Forget, failures reset (shutdown: not a failure)
//   kConflict                    -> Immediately while failures < kMaxImmediateConflictRetries,
//                                   then After(backoff.Delay(failures)); counts a failure
//   kInvalidArgument, kPermissionDenied, kUnauthenticated, kUnimplemented
//                                -> terminal until the user edits: After(the cap), a slow safety
//                                   retry; failures reset so that the first run after the fix
//                                   backs off from the base again. The edit itself (an Add)
//                                   runs the key at once.
//   every other code (kUnavailable, kDeadlineExceeded, kResourceExhausted, kInternal,
//   kFailedPrecondition, kNotFound, kAlreadyExists)
//                                -> After(backoff.Delay(failures)); counts a failure
// Pure function; thread-safe.
RequeueDecision DecideRequeue(const StatusOr<Result>& r, int failures, const Backoff& backoff);

// True for the codes DecideRequeue treats as terminal until the next edit.
bool IsTerminalCode(StatusCode code);

}  // namespace redisfleet::runtime
