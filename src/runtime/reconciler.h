#pragma once
// The reconciler contract (see shared/DESIGN.md "The flow").

#include <chrono>

#include "api/types.h"
#include "common/status.h"

namespace redisfleet::runtime {

struct Result {
  // Run again after this long even if nothing changes (0 = only on events / resync).
  std::chrono::milliseconds requeue_after{0};
};

// Reads desired state for `key`, observes the world, acts to converge, writes status only.
// Must be idempotent and safe after a crash at any line. An error's code decides the retry
// (runtime/requeue_policy.h). Called from one worker at a time per key.
class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual StatusOr<Result> Reconcile(const api::Key& key) = 0;
};

}  // namespace redisfleet::runtime
