#include "redis/info.h"

#include <string>

#include <gtest/gtest.h>

namespace redisfleet::redis {
namespace {

// Redis terminates every INFO line with \r\n; the fixtures are written with \n for legibility.
std::string Crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// Shape of `INFO` from redis-server 7.0.15 (trimmed), with a replica and two databases.
constexpr std::string_view kRedis70 = R"(# Server
redis_version:7.0.15
redis_mode:standalone
os:Linux 6.1.0-18-amd64 x86_64
multiplexing_api:epoll
process_id:14962
run_id:ff7208100288d37de28e1215c573891c825cf3d0
tcp_port:6379
executable:/usr/bin/redis-server
config_file:/var/lib/redis-fleet/default.cache.u1/redis.conf

# Clients
connected_clients:7
cluster_connections:0
maxclients:100
blocked_clients:0

# Memory
used_memory:941744
used_memory_human:919.67K
used_memory_rss:12423168
used_memory_rss_human:11.85M
used_memory_peak_perc:100.25%
maxmemory:67108864
maxmemory_human:64.00M
maxmemory_policy:allkeys-lru
mem_fragmentation_ratio:13.79
mem_allocator:jemalloc-5.3.0

# Persistence
loading:0
aof_enabled:1
rdb_last_bgsave_time_sec:-1

# Stats
total_connections_received:3
instantaneous_ops_per_sec:12
instantaneous_input_kbps:0.02
rejected_connections:4
expired_keys:0
evicted_keys:17

# Replication
role:master
connected_slaves:1
slave0:ip=::1,port=6380,state=online,offset=1234,lag=0
master_replid:2225c8789dd35bcf05da6eb2703a116aca8173db

# CPU
used_cpu_sys:0.018101

# Modules

# Errorstats
errorstat_ERR:count=2
errorstat_NOAUTH:count=1

# Cluster
cluster_enabled:0

# Keyspace
db0:keys=2,expires=1,avg_ttl=99815
db3:keys=40,expires=0,avg_ttl=0
)";

// Shape of `INFO` from redis-server 6.0: no maxclients in Clients, older field set.
constexpr std::string_view kRedis60 = R"(# Server
redis_version:6.0.16
redis_mode:standalone
os:Linux 5.10.0-8-amd64 x86_64
tcp_port:6379
executable:/usr/bin/redis-server
config_file:

# Clients
connected_clients:1
client_recent_max_input_buffer:2
blocked_clients:0
tracking_clients:0

# Memory
used_memory:866232
used_memory_human:845.93K
used_memory_rss:9502720
maxmemory:0
maxmemory_human:0B
maxmemory_policy:noeviction

# Stats
total_connections_received:1
instantaneous_ops_per_sec:0
rejected_connections:0
evicted_keys:0

# Keyspace
db0:keys=5,expires=0,avg_ttl=0
)";

TEST(ParseInfoTest, Redis70Payload) {
  InfoMap info = ParseInfo(Crlf(kRedis70));
  ASSERT_NE(info.Find("redis_version"), nullptr);
  EXPECT_EQ(*info.Find("redis_version"), "7.0.15");
  // Values keep every ':' and ',' after the first ':'.
  EXPECT_EQ(*info.Find("executable"), "/usr/bin/redis-server");
  EXPECT_EQ(*info.Find("slave0"), "ip=::1,port=6380,state=online,offset=1234,lag=0");
  EXPECT_EQ(*info.Find("db0"), "keys=2,expires=1,avg_ttl=99815");
  EXPECT_EQ(*info.Find("errorstat_NOAUTH"), "count=1");
  // No '\r' leaks into values.
  EXPECT_EQ(*info.Find("maxmemory_policy"), "allkeys-lru");
  EXPECT_EQ(info.GetDouble("mem_fragmentation_ratio"), 13.79);
  EXPECT_EQ(info.GetInt("rdb_last_bgsave_time_sec"), -1);
  EXPECT_EQ(info.GetInt("used_memory_human"), std::nullopt);

  ASSERT_TRUE(info.sections.count("Memory"));
  EXPECT_EQ(info.sections.at("Memory").front(), "used_memory");
  EXPECT_EQ(info.sections.at("Keyspace"), (std::vector<std::string>{"db0", "db3"}));
  EXPECT_FALSE(info.sections.count("Modules"));  // an empty section holds no fields

  EXPECT_EQ(TotalKeys(info), 42);
  auto replica = ParseInfoList(*info.Find("slave0"));
  EXPECT_EQ(replica["ip"], "::1");
  EXPECT_EQ(replica["port"], "6380");

  RedisStats s = StatsFromInfo(info);
  EXPECT_EQ(s.used_memory, 941744);
  EXPECT_EQ(s.used_memory_rss, 12423168);
  EXPECT_EQ(s.maxmemory, 67108864);
  EXPECT_EQ(s.connected_clients, 7);
  EXPECT_EQ(s.maxclients, 100);
  EXPECT_EQ(s.evicted_keys, 17);
  EXPECT_EQ(s.rejected_connections, 4);
  EXPECT_EQ(s.instantaneous_ops_per_sec, 12);
  EXPECT_EQ(s.maxmemory_policy, "allkeys-lru");
}

TEST(ParseInfoTest, Redis60PayloadWithoutMaxclients) {
  InfoMap info = ParseInfo(Crlf(kRedis60));
  EXPECT_EQ(*info.Find("config_file"), "");
  RedisStats s = StatsFromInfo(info);
  EXPECT_EQ(s.used_memory, 866232);
  EXPECT_EQ(s.maxmemory, 0);
  EXPECT_EQ(s.connected_clients, 1);
  EXPECT_EQ(s.maxclients, -1);
  EXPECT_EQ(s.maxmemory_policy, "noeviction");
  EXPECT_EQ(TotalKeys(info), 5);
}

TEST(ParseInfoTest, LineEndingsDoNotMatter) {
  InfoMap lf = ParseInfo(kRedis70);
  InfoMap crlf = ParseInfo(Crlf(kRedis70));
  EXPECT_EQ(lf.fields, crlf.fields);
  EXPECT_EQ(lf.sections, crlf.sections);
}

TEST(ParseInfoTest, MissingFieldsAreMinusOne) {
  struct Case {
    std::string name;
    std::string text;
  };
  const Case cases[] = {
      {"empty", ""},
      {"headers only", "# Server\r\n\r\n# Memory\r\n"},
      {"only unrelated fields", "# Server\r\nredis_version:7.0.15\r\nfoo_bar:1\r\n"},
      {"human-readable fields only", "# Memory\r\nused_memory_human:1M\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RedisStats s = StatsFromInfo(ParseInfo(c.text));
    EXPECT_EQ(s.used_memory, -1);
    EXPECT_EQ(s.used_memory_rss, -1);
    EXPECT_EQ(s.maxmemory, -1);
    EXPECT_EQ(s.connected_clients, -1);
    EXPECT_EQ(s.maxclients, -1);
    EXPECT_EQ(s.evicted_keys, -1);
    EXPECT_EQ(s.rejected_connections, -1);
    EXPECT_EQ(s.instantaneous_ops_per_sec, -1);
    EXPECT_EQ(s.maxmemory_policy, "");
  }
}

TEST(ParseInfoTest, GarbageIsToleratedAndIgnored) {
  static constexpr char kBinary[] = "\x00\xff\x01:\x02\r\nused_memory:7\r\n";
  struct Case {
    std::string name;
    std::string text;
    int64_t used_memory;  // what StatsFromInfo reports
    std::size_t fields;   // how many fields survive
  };
  const Case cases[] = {
      {"no colon", "used_memory 12\r\nhello\r\n", -1, 0},
      {"empty field name", ":12\r\n", -1, 0},
      {"not a number", "used_memory:lots\r\n", -1, 1},
      {"trailing junk", "used_memory:12abc\r\n", -1, 1},
      {"overflow", "used_memory:99999999999999999999999\r\n", -1, 1},
      {"number with spaces", "used_memory: 12 \r\n", 12, 1},
      {"bare CR lines and a lone '#'", "\r\r\n#\r\nused_memory:5\r\r\n", 5, 1},
      {"binary bytes", std::string(kBinary, sizeof(kBinary) - 1), 7, 2},
      {"no final newline", "# Memory\r\nused_memory:9", 9, 1},
      {"duplicate keeps the last", "used_memory:1\r\nused_memory:2\r\n", 2, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    InfoMap info = ParseInfo(c.text);
    EXPECT_EQ(StatsFromInfo(info).used_memory, c.used_memory);
    EXPECT_EQ(info.fields.size(), c.fields);
  }
}

TEST(ParseInfoListTest, SplitsPairs) {
  struct Case {
    std::string value;
    std::map<std::string, std::string> want;
  };
  const Case cases[] = {
      {"keys=1,expires=0,avg_ttl=0", {{"keys", "1"}, {"expires", "0"}, {"avg_ttl", "0"}}},
      {"keys=3,expires=1,avg_ttl=5,subexpiry=0",
       {{"keys", "3"}, {"expires", "1"}, {"avg_ttl", "5"}, {"subexpiry", "0"}}},
      {"ip=::1,port=6380", {{"ip", "::1"}, {"port", "6380"}}},
      {"", {}},
      {"junk,=x,a=", {{"a", ""}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(ParseInfoList(c.value), c.want);
  }
}

TEST(TotalKeysTest, IgnoresFieldsThatAreNotDatabases) {
  InfoMap info = ParseInfo("db0:keys=3,expires=0\r\ndbsize:keys=100\r\ndb1:expires=2\r\ndb2:keys=x\r\n");
  EXPECT_EQ(TotalKeys(info), 3);
}

}  // namespace
}  // namespace redisfleet::redis
