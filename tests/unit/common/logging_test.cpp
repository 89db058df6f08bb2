#include "common/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Captured {
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](const std::string& l) { lines.push_back(l); };
  }
};

TEST(Logging, TextLinesAreKeyValueAndRedacted) {
  Captured cap;
  auto clock = std::make_shared<FakeClock>();
  Logger log(LogFormat::kText, LogLevel::kInfo, clock, cap.sink());
  auto child = log.With({{"controller", "redisinstance"}});
  child->Info("instance ready", {{"key", "default/cache"},
                                 {"password", "hunter2"},
                                 {"url", "redis://:hunter2@127.0.0.1:1"},
                                 {"port", 6379}});
  child->Debug("not shown");
  ASSERT_EQ(cap.lines.size(), 1u);
  const auto& line = cap.lines[0];
  EXPECT_THAT(line, HasSubstr("level=info msg=\"instance ready\" controller=redisinstance key=default/cache"));
  EXPECT_THAT(line, HasSubstr("password=[REDACTED]"));
  EXPECT_THAT(line, HasSubstr("port=6379"));
  EXPECT_THAT(line, Not(HasSubstr("hunter2")));
  EXPECT_THAT(line, HasSubstr("ts=" + FormatTime(clock->Now())));
}

TEST(Logging, JsonLinesParse) {
  Captured cap;
  Logger log(LogFormat::kJson, LogLevel::kDebug, std::make_shared<FakeClock>(), cap.sink());
  log.Warn("a \"quoted\" message", {{"key", "ns/n"}, {"apiKey", "k-123"}});
  ASSERT_EQ(cap.lines.size(), 1u);
  auto j = nlohmann::json::parse(cap.lines[0]);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "a \"quoted\" message");
  EXPECT_EQ(j["key"], "ns/n");
  EXPECT_EQ(j["apiKey"], "[REDACTED]");
}

TEST(Logging, ParseFlags) {
  LogLevel l;
  LogFormat f;
  EXPECT_TRUE(ParseLogLevel("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace redisfleet
