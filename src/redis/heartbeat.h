#pragma once
// The heartbeat registry: each Docker host's `redis-fleet agent` writes
// `SET <prefix><name> <json> EX <ttl>` into the discovery Redis every few seconds; the operator
// scans the prefix, and a host whose key expired is Lost. A value that does not parse is
// reported as unparsable, never as a host with nothing on it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "redis/client.h"

namespace redisfleet::redis {

struct HostBeat {
  std::string name, address, docker_endpoint;  // docker_endpoint: unix:///..., tcp://...
  int64_t containers = 0;        // Redis containers with our managed-by label
  int64_t memory_mib_used = 0;   // sum of those containers' memory limits
  int64_t memory_mib_total = 0;  // the daemon's MemTotal (GET /info)
  std::string agent_version;     // e.g. "redis-fleet 0.1"
  TimePoint at;                  // when the agent measured it (seconds precision on the wire)
  friend bool operator==(const HostBeat&, const HostBeat&) = default;
};

// {"name","address","dockerEndpoint","containers","memoryMiBUsed","memoryMiBTotal",
//  "agentVersion","at" (RFC 3339 UTC)}.
std::string EncodeBeat(const HostBeat& beat);
// The inverse of EncodeBeat; unknown fields are ignored. InvalidArgument naming the first bad
// field (missing, wrong type, empty name/address, negative count, unparsable time); the
// message never quotes the value. Never returns a partly filled beat.
StatusOr<HostBeat> DecodeBeat(std::string_view json);

// redis://[user[:password]@]host[:port][/db] (port 6379 and db 0 by default; user and password
// percent-decoded; IPv6 hosts in brackets). rediss:// is InvalidArgument("rediss not supported
// yet"): the hiredis here has no TLS. InvalidArgument for anything else; the message never
// contains the password (nor the URL, which may hold it).
StatusOr<ConnectOptions> ParseRedisUrl(const std::string& url);

// `prefix` with Redis glob metacharacters (* ? [ ] \) escaped, for SCAN MATCH.
std::string EscapeGlob(std::string_view prefix);

// The registry over one connection to the discovery Redis (the URL's db selected).
// Thread-safe (one internal mutex; calls are serialised). After a failed call (connection
// error or timeout) the connection is dropped and the next call reconnects. Errors:
// kUnavailable when Redis cannot be reached, kUnauthenticated for refused credentials,
// kInvalidArgument for a bad URL or argument; never the password in a message.
class HeartbeatRegistry {
 public:
  HeartbeatRegistry(std::string url, std::chrono::milliseconds timeout);

  // SET <prefix><beat.name> EncodeBeat(beat) EX ttl. InvalidArgument for an empty name or a
  // ttl under one second.
  Status Publish(const std::string& prefix, const HostBeat& beat, std::chrono::seconds ttl);

  struct ScanResult {
    std::map<std::string, HostBeat> hosts;          // by name (the key without the prefix)
    std::map<std::string, std::string> unparsable;  // name -> what was wrong (not the value)
  };
  // SCAN MATCH <escaped prefix>* COUNT 500, then MGET in batches. A key deleted in between is
  // absent; a value that does not decode, whose name differs from its key, or that is not a
  // string is in `unparsable`.
  StatusOr<ScanResult> Scan(const std::string& prefix);

  // DEL <prefix><name>; OK when it was already gone.
  Status Remove(const std::string& prefix, const std::string& name);

  // Keys per MGET in Scan.
  static constexpr std::size_t kMgetBatch = 500;

 private:
  // The connected client, connecting first when needed. Call with mu_ held.
  StatusOr<RedisClient*> ClientLocked();
  // Sends argv; drops the connection when the transport fails. Call with mu_ held.
  StatusOr<Reply> CommandLocked(const std::vector<std::string>& argv);

  StatusOr<ConnectOptions> options_;
  std::mutex mu_;
  std::unique_ptr<RedisClient> client_;
};

}  // namespace redisfleet::redis
