#include "store/event_recorder.h"

namespace redisfleet::store {

void LogEventRecorder::Record(const api::ObjectMeta& regarding, api::Kind kind, Severity type,
                              const std::string& reason, const std::string& message) {
  logger_->Log(type == Severity::kWarning ? LogLevel::kWarn : LogLevel::kInfo, "event",
               {{"kind", api::EnumName(kind)},
                {"object", regarding.key().ToString()},
                {"reason", reason},
                {"message", message}});
}

}  // namespace redisfleet::store
