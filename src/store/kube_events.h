#pragma once
// Kubernetes mode: core/v1 Events (reference 4.15), named like client-go's recorder
// (<object>.<hex nanoseconds>), count 1, first/lastTimestamp now, source component
// "redis-fleet". A repeat of the same object+reason+message within `dedup_window` is not
// posted again (one Event per episode, not one per reconcile).

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "common/clock.h"
#include "kube/client.h"
#include "store/event_recorder.h"

namespace redisfleet::store {

class KubeEventRecorder final : public EventRecorder {
 public:
  KubeEventRecorder(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<const Clock> clock,
                    std::shared_ptr<Logger> logger, std::string instance,
                    std::chrono::seconds dedup_window = std::chrono::minutes(10));
  void Record(const api::ObjectMeta& regarding, api::Kind kind, Severity type,
              const std::string& reason, const std::string& message) override;

 private:
  std::shared_ptr<kube::KubeClient> client_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Logger> logger_;
  std::string instance_;
  std::chrono::seconds dedup_window_;
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, TimePoint> recent_;  // uid, reason, message
};

}  // namespace redisfleet::store
