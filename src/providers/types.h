#pragma once
// Values exchanged with host providers and container runtimes.

#include <cstdint>
#include <map>
#include <string>

#include "api/types.h"
#include "common/clock.h"

namespace redisfleet::providers {

// Identifies a HostPool; Id() is the "<ns>.<name>" used in labels.
struct PoolRef {
  std::string namespace_;
  std::string name;
  std::string Id() const { return namespace_ + "." + name; }
  friend bool operator==(const PoolRef&, const PoolRef&) = default;
};

// One machine that runs Redis servers.
struct Host {
  std::string name;         // unique in its pool, deterministic
  std::string provider_id;  // droplet id, static name, "local"
  std::string address;      // where clients reach its Redis servers
  std::string docker_endpoint;  // unix:///..., tcp://host:port; empty for process runtimes
  std::map<std::string, std::string> labels;  // kLabelPool = the owning pool's id (ListAll)
  bool ready = true;        // the provider reports it usable (droplet active, ...)
  TimePoint created{};      // when the machine was created (elastic providers)
  double monthly_cost = 0;  // what it costs per month (elastic providers; 0 = unknown/free)
};

struct HostSpec {
  PoolRef pool;
  std::string name;  // deterministic: creating the same name twice yields one host
  std::map<std::string, std::string> labels;
};

// Memory and connection limits of one Redis.
struct RedisResources {
  int64_t memory_mib = 0;
  int64_t max_clients = 0;
  friend bool operator==(const RedisResources&, const RedisResources&) = default;
};

// What a runtime needs to run one Redis.
struct RedisSpec {
  api::Key instance;
  std::string uid;
  PoolRef pool;
  RedisResources resources;
  api::Persistence persistence = api::Persistence::kAof;
  std::string password;    // never logged
  int64_t port = 0;        // 0 = the runtime picks; else keep this port
  std::map<std::string, std::string> labels;  // ownership labels, see api/types.h kLabel*
};

// A Redis the runtime observed, found by its labels.
struct RunningRedis {
  std::string id;          // container id, or process data dir
  api::Key instance;
  std::string uid;
  std::string pool_id;
  api::Endpoint endpoint;
  RedisResources resources;  // as configured
  bool running = false;      // false: exists (data kept) but its server is not up
  std::map<std::string, std::string> labels;
};

}  // namespace redisfleet::providers
