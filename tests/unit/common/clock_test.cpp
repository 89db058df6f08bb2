#include "common/clock.h"

#include <gtest/gtest.h>

#include "common/backoff.h"

namespace redisfleet {
namespace {

TEST(Clock, FakeClockAdvancesAndNotifies) {
  FakeClock clock;
  int notified = 0;
  auto id = clock.Subscribe([&] { ++notified; });
  auto t0 = clock.Now();
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(notified, 1);
  clock.Unsubscribe(id);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(notified, 1);
}

TEST(Clock, TimeFormatRoundTrips) {
  TimePoint t = std::chrono::system_clock::from_time_t(1'795'000'000);
  EXPECT_EQ(FormatTime(t), "2026-11-18T11:06:40Z");
  EXPECT_EQ(ParseTime("2026-11-18T11:06:40Z"), t);
  EXPECT_EQ(ParseTime("2026-11-18T11:06:40.123456Z"), t);
  EXPECT_EQ(ParseTime("2026-11-18T11:06:40+00:00"), t);
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2026-11-18T11:06:40+02:00").has_value());
}

TEST(Backoff, GrowsAndCaps) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  EXPECT_EQ(b.Delay(0).count(), 100);
  EXPECT_EQ(b.Delay(1).count(), 200);
  EXPECT_EQ(b.Delay(3).count(), 800);
  EXPECT_EQ(b.Delay(4).count(), 1000);
  EXPECT_EQ(b.Delay(60).count(), 1000);
  Backoff jittered(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), [] { return 0.5; });
  EXPECT_EQ(jittered.Delay(2).count(), 300);  // in [200, 400)
}

}  // namespace
}  // namespace redisfleet
