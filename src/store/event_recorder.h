#pragma once
// Events: what the operator decided or what failed, told about a resource. In Kubernetes they
// are core/v1 Events (kubectl describe / get events); in standalone mode they are log lines.
// Recording never fails a reconcile: errors are logged and dropped.

#include <memory>
#include <string>

#include "api/types.h"
#include "common/logging.h"

namespace redisfleet::store {

// Kubernetes Event "type".
enum class Severity { kNormal, kWarning };

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `reason` is UpperCamelCase (Placed, Ready, Resized, StartFailed, ...); `message` is for
  // people and never holds a secret.
  virtual void Record(const api::ObjectMeta& regarding, api::Kind kind, Severity type,
                      const std::string& reason, const std::string& message) = 0;
};

// Standalone mode: one log line per event (info for Normal, warn for Warning).
class LogEventRecorder final : public EventRecorder {
 public:
  explicit LogEventRecorder(std::shared_ptr<Logger> logger) : logger_(std::move(logger)) {}
  void Record(const api::ObjectMeta& regarding, api::Kind kind, Severity type,
              const std::string& reason, const std::string& message) override;

 private:
  std::shared_ptr<Logger> logger_;
};

}  // namespace redisfleet::store
