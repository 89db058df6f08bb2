#pragma once
// Parsing of the Redis INFO payload ("# Section" headers, "field:value" lines ending in \r\n)
// and a typed view of the fields the operator scales on. Pure functions, no I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redisfleet::redis {

// The fields of one INFO reply. Field names are unique across sections in every Redis version,
// so lookups are by field name alone; `sections` keeps which fields came under which header.
struct InfoMap {
  std::map<std::string, std::string, std::less<>> fields;        // "used_memory" -> "1024"
  std::map<std::string, std::vector<std::string>> sections;      // "Memory" -> field names, in order

  // The raw value of `field`, or nullptr when absent.
  const std::string* Find(std::string_view field) const;
  // The value of `field` as an integer; nullopt when absent or not entirely an integer.
  std::optional<int64_t> GetInt(std::string_view field) const;
  // The value of `field` as a floating-point number; nullopt when absent or malformed.
  std::optional<double> GetDouble(std::string_view field) const;
  bool empty() const { return fields.empty(); }
};

// Parses an INFO payload. Lines may end in \r\n or \n; values keep every ':' and ',' after the
// first ':'; lines that are neither headers nor "field:value" are ignored; never throws.
InfoMap ParseInfo(std::string_view text);

// Splits a "k1=v1,k2=v2" value (keyspace "db0:keys=1,expires=0,avg_ttl=0", errorstats, ...)
// into its pairs; items without '=' are ignored.
std::map<std::string, std::string> ParseInfoList(std::string_view value);

// Sum of keys=N over every db<N> field of the Keyspace; 0 when there are none.
int64_t TotalKeys(const InfoMap& info);

// The fields the autoscaler and status reporting use. -1 (or "") marks a field the server did
// not report or reported in a form that is not a number.
struct RedisStats {
  int64_t used_memory = -1;           // bytes
  int64_t used_memory_rss = -1;       // bytes
  int64_t maxmemory = -1;             // bytes, 0 = unlimited
  int64_t connected_clients = -1;
  int64_t maxclients = -1;
  int64_t evicted_keys = -1;
  int64_t rejected_connections = -1;
  int64_t instantaneous_ops_per_sec = -1;
  std::string maxmemory_policy;
};

RedisStats StatsFromInfo(const InfoMap& info);

}  // namespace redisfleet::redis
