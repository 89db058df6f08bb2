// CollectorUsage: what the ScalingPolicy reconciler asks for reaches the collector's connection
// (endpoint, ACL user, password, TLS and verification), a repeated Track is free, and samples come
// back as the engine's.

#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "controllers/scalingpolicy/collector_usage.h"
#include "unit/redis/fake_redis_server.h"

namespace redisfleet::controllers {
namespace {

TEST(CollectorUsage, TrackReachesTheConnectionAndWindowsComeBackAsSamples) {
  FakeClock clock;
  auto st = std::make_shared<redis::testing::FakeRedisState>();
  std::vector<redis::InfoSourceOptions> seen;
  auto collector = std::make_shared<redis::Collector>(
      clock, std::make_shared<prometheus::Registry>(), redis::Collector::Options{},
      [&](const redis::InfoSourceOptions& so, const Clock& c) {
        seen.push_back(so);
        return std::make_unique<redis::InfoSource>(so, c, redis::testing::FakeConnector(st));
      });
  CollectorUsage usage(collector);
  const api::Key key{"default", "cache"};
  UsageSource::Target target{{"127.0.0.1", 7001}, st->password, "metrics", std::chrono::seconds(1), 10};
  target.tls = true;
  target.tls_verify = false;
  ASSERT_TRUE(usage.Track(key, target).ok());
  ASSERT_TRUE(usage.Track(key, target).ok());  // unchanged: nothing rebuilt
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].connect.host, "127.0.0.1");
  EXPECT_EQ(seen[0].connect.port, 7001);
  EXPECT_EQ(seen[0].connect.username, "metrics");
  EXPECT_EQ(seen[0].connect.password, st->password);
  EXPECT_TRUE(seen[0].tls);
  EXPECT_FALSE(seen[0].tls_options.verify);

  ASSERT_EQ(collector->Tick(), 1u);
  auto window = usage.Window(key);
  ASSERT_EQ(window.size(), 1u);
  EXPECT_TRUE(window[0].ok);
  EXPECT_EQ(window[0].used_memory_bytes, 1000);
  EXPECT_EQ(window[0].connected_clients, 5);

  usage.Untrack(key);
  EXPECT_TRUE(usage.Window(key).empty());
  EXPECT_TRUE(collector->Keys().empty());
}

}  // namespace
}  // namespace redisfleet::controllers
