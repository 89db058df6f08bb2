#pragma once
// What the runtime reports about its work; metrics/ implements it, so runtime/ does not
// depend on prometheus. Implementations must be thread-safe and cheap.

#include <cstddef>
#include <string_view>

namespace redisfleet::runtime {

enum class ReconcileOutcome { kSuccess, kError, kRequeue };

class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  // One reconcile of `controller` ("redisinstance", "hostpool", "scalingpolicy") finished.
  virtual void ReconcileDone(std::string_view controller, ReconcileOutcome outcome,
                             double seconds) = 0;
  // The number of keys waiting (ready or delayed) in the controller's queue changed.
  virtual void QueueDepth(std::string_view controller, std::size_t depth) = 0;
};

}  // namespace redisfleet::runtime
