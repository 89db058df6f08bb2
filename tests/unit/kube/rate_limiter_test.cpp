#include "kube/rate_limiter.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/wait.h"

namespace redisfleet::kube {
namespace {

using redisfleet::testing::WaitUntil;

TEST(TokenBucketTest, BurstIsImmediateThenOnePerInterval) {
  FakeClock clock;
  const TimePoint t0 = clock.Now();
  TokenBucket bucket(/*qps=*/4, /*burst=*/2, clock);
  std::vector<TimePoint> granted;
  std::atomic<bool> done{false};
  std::thread t([&] {
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(bucket.Wait().ok());
      granted.push_back(clock.Now());
    }
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] {
    if (!done) clock.Advance(std::chrono::milliseconds(25));
    return done.load();
  }, std::chrono::seconds(60), std::chrono::milliseconds(1)));
  t.join();
  ASSERT_EQ(granted.size(), 6u);
  EXPECT_EQ(bucket.taken(), 6);
  // Token k (k >= burst) is due at t0 + (k - burst + 1) / qps.
  for (int k = 2; k < 6; ++k) EXPECT_GE(granted[k] - t0, std::chrono::milliseconds(250 * (k - 1)));
}

TEST(TokenBucketTest, UnlimitedNeverWaits) {
  FakeClock clock;  // never advanced
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.Wait().ok());
  EXPECT_EQ(bucket.taken(), 1000);
}

TEST(TokenBucketTest, StopEndsAWait) {
  FakeClock clock;  // never advanced: the second token never comes
  TokenBucket bucket(0.001, 1, clock);
  ASSERT_TRUE(bucket.Wait().ok());
  std::atomic<bool> stop{false};
  std::atomic<bool> returned{false};
  Status status;
  std::thread t([&] {
    status = bucket.Wait([&] { return stop.load(); });
    returned = true;
  });
  stop = true;
  const bool ended = WaitUntil([&] { return returned.load(); }, std::chrono::seconds(5));
  t.join();
  ASSERT_TRUE(ended);
  EXPECT_EQ(status.code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace redisfleet::kube
