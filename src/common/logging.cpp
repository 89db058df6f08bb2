#include "common/logging.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/redact.h"

namespace redisfleet {
namespace {

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string SafeValue(const LogField& f) {
  if (IsSecretKey(f.key)) return std::string(kRedacted);
  return RedactSecrets(f.value);
}

std::string QuoteIfNeeded(const std::string& v) {
  bool needs = v.empty() || v.find_first_of(" \t\"=\n\r") != std::string::npos;
  if (!needs) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  if (s == "debug") *out = LogLevel::kDebug;
  else if (s == "info") *out = LogLevel::kInfo;
  else if (s == "warn" || s == "warning") *out = LogLevel::kWarn;
  else if (s == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

bool ParseLogFormat(std::string_view s, LogFormat* out) {
  if (s == "text") *out = LogFormat::kText;
  else if (s == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

Logger::Logger(LogFormat format, LogLevel level, std::shared_ptr<const Clock> clock, LogSink sink)
    : format_(format), level_(level), clock_(std::move(clock)), shared_(std::make_shared<Shared>()) {
  shared_->sink = sink ? std::move(sink) : [](const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
  };
}

Logger::Logger(LogFormat format, LogLevel level, std::shared_ptr<const Clock> clock,
               std::shared_ptr<Shared> shared, LogFields bound)
    : format_(format), level_(level), clock_(std::move(clock)), shared_(std::move(shared)),
      bound_(std::move(bound)) {}

std::shared_ptr<Logger> Logger::With(LogFields fields) const {
  LogFields all = bound_;
  for (auto& f : fields) all.push_back(std::move(f));
  return std::shared_ptr<Logger>(new Logger(format_, level_, clock_, shared_, std::move(all)));
}

std::shared_ptr<Logger> Logger::Null() {
  return std::make_shared<Logger>(LogFormat::kText, LogLevel::kError,
                                  std::make_shared<RealClock>(), [](const std::string&) {});
}

void Logger::Log(LogLevel level, std::string_view msg, const LogFields& fields) const {
  if (!Enabled(level)) return;
  std::string ts = FormatTime(clock_->Now());
  std::string line;
  std::string safe_msg = RedactSecrets(msg);
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = LevelName(level);
    j["msg"] = safe_msg;
    for (const auto& f : bound_) j[f.key] = SafeValue(f);
    for (const auto& f : fields) j[f.key] = SafeValue(f);
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("ts={} level={} msg={}", ts, LevelName(level), QuoteIfNeeded(safe_msg));
    for (const auto* list : {&bound_, &fields}) {
      for (const auto& f : *list) {
        line += ' ';
        line += f.key;
        line += '=';
        line += QuoteIfNeeded(SafeValue(f));
      }
    }
  }
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->sink(line);
}

}  // namespace redisfleet
