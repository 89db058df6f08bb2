#pragma once
// Structured logs: one line per event, text (key=value) or JSON. Values of secret-looking
// keys are replaced by [REDACTED] and every value passes through RedactSecrets, so a
// password can't reach a log line by accident. Thread-safe.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace redisfleet {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

bool ParseLogLevel(std::string_view s, LogLevel* out);
bool ParseLogFormat(std::string_view s, LogFormat* out);

struct LogField {
  std::string key;
  std::string value;
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, const char* v) : key(std::move(k)), value(v) {}
  LogField(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  LogField(std::string k, N v) : key(std::move(k)), value(std::to_string(v)) {}
};
using LogFields = std::vector<LogField>;

// Where finished lines go. The default writes to stderr.
using LogSink = std::function<void(const std::string& line)>;

class Logger {
 public:
  Logger(LogFormat format, LogLevel level, std::shared_ptr<const Clock> clock,
         LogSink sink = nullptr);

  // A logger that adds `fields` to every line (e.g. controller=redisinstance).
  std::shared_ptr<Logger> With(LogFields fields) const;

  void Log(LogLevel level, std::string_view msg, const LogFields& fields = {}) const;
  void Debug(std::string_view msg, const LogFields& fields = {}) const { Log(LogLevel::kDebug, msg, fields); }
  void Info(std::string_view msg, const LogFields& fields = {}) const { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, const LogFields& fields = {}) const { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, const LogFields& fields = {}) const { Log(LogLevel::kError, msg, fields); }
  bool Enabled(LogLevel level) const { return level >= level_; }

  // A logger that drops everything (for tests and benchmarks that don't read logs).
  static std::shared_ptr<Logger> Null();

 private:
  struct Shared {
    LogSink sink;
    std::mutex mu;
  };
  Logger(LogFormat format, LogLevel level, std::shared_ptr<const Clock> clock,
         std::shared_ptr<Shared> shared, LogFields bound);

  LogFormat format_;
  LogLevel level_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Shared> shared_;
  LogFields bound_;
};

}  // namespace redisfleet
