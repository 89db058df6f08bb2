// The INFO parser and the collector's field extractor on real payload formats (7.x, 6.x).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "redis/info.h"
#include "redis/info_source.h"

namespace redisfleet::redis {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(REDISFLEET_REDIS_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(InfoFixturesTest, Redis7MultiSectionPayload) {
  const std::string payload = Fixture("info_7.0_memory_clients_stats.txt");
  ASSERT_NE(payload.find("\r\n"), std::string::npos) << "fixture must keep CRLF line ends";
  InfoMap info = ParseInfo(payload);
  EXPECT_EQ(info.sections.count("Memory"), 1u);
  EXPECT_EQ(info.sections.count("Clients"), 1u);
  EXPECT_EQ(info.sections.count("Stats"), 1u);
  RedisStats stats = StatsFromInfo(info);
  EXPECT_GT(stats.used_memory, 0);
  EXPECT_EQ(stats.maxmemory, 100 * 1024 * 1024);
  EXPECT_EQ(stats.maxmemory_policy, "allkeys-lru");
  EXPECT_EQ(stats.maxclients, 10000);
  EXPECT_EQ(stats.connected_clients, 1);

  RedisSample s;
  SampleFromInfo(payload, &s);
  EXPECT_EQ(s.used_memory, stats.used_memory);
  EXPECT_EQ(s.maxmemory, stats.maxmemory);
  EXPECT_EQ(s.connected_clients, stats.connected_clients);
  EXPECT_EQ(s.maxclients, stats.maxclients);
  EXPECT_EQ(s.evicted_keys, stats.evicted_keys);
  EXPECT_EQ(s.rejected_connections, stats.rejected_connections);
  EXPECT_EQ(s.instantaneous_ops_per_sec, stats.instantaneous_ops_per_sec);
  EXPECT_GE(s.evicted_keys, 0);
  EXPECT_GE(s.instantaneous_ops_per_sec, 0);
}

TEST(InfoFixturesTest, Redis6OneSectionPerReply) {
  RedisSample s;
  InfoMap merged;
  for (const char* section : {"memory", "clients", "stats"}) {
    SCOPED_TRACE(section);
    const std::string payload = Fixture(std::string("info_6.0_") + section + ".txt");
    SampleFromInfo(payload, &s);
    InfoMap one = ParseInfo(payload);
    EXPECT_EQ(one.sections.size(), 1u);
    merged.fields.insert(one.fields.begin(), one.fields.end());
  }
  EXPECT_EQ(s.used_memory, 873224);
  EXPECT_EQ(s.maxmemory, 268435456);
  EXPECT_EQ(s.connected_clients, 3);
  EXPECT_EQ(s.maxclients, -1) << "6.0 has no maxclients in INFO: CONFIG GET is needed";
  EXPECT_EQ(s.evicted_keys, 118);
  EXPECT_EQ(s.rejected_connections, 2);
  EXPECT_EQ(s.instantaneous_ops_per_sec, 7);
  RedisStats stats = StatsFromInfo(merged);
  EXPECT_EQ(stats.used_memory, s.used_memory);
  EXPECT_EQ(stats.evicted_keys, s.evicted_keys);
  EXPECT_EQ(stats.maxclients, -1);
}

TEST(SampleFromInfoTest, ToleratesOddLines) {
  RedisSample s;
  SampleFromInfo("# Memory\nused_memory:12\nused_memory_human:12B\nmaxmemory:abc\n\nnot a field\n"
                 "connected_clients:4\r\nused_memory_rss:99\r\nevicted_keys:",
                 &s);
  EXPECT_EQ(s.used_memory, 12);
  EXPECT_EQ(s.maxmemory, -1);
  EXPECT_EQ(s.connected_clients, 4);
  EXPECT_EQ(s.evicted_keys, -1);
}

}  // namespace
}  // namespace redisfleet::redis
