#pragma once
// Redis servers on one host: Docker containers or local redis-server processes.

#include <vector>

#include "common/status.h"
#include "providers/types.h"

namespace redisfleet::providers {

// Thread-safe; calls for different instances may run concurrently.
class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // Makes the Redis of `spec` exist and run on `host` with spec's resources, password and
  // persistence (starting it again from its data when it stopped). Idempotent: an existing
  // one (found by spec.instance + spec.uid labels) is reused, never duplicated. Returns where
  // clients reach it.
  virtual StatusOr<api::Endpoint> Ensure(const Host& host, const RedisSpec& spec) = 0;
  // Every Redis on `host` carrying our managed-by label, running or not.
  virtual StatusOr<std::vector<RunningRedis>> List(const Host& host) = 0;
  // Changes memory and maxclients in place: no restart, same port, password and data.
  // FailedPrecondition (no change made) when the new memory is below what is in use.
  virtual Status Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) = 0;
  // Stops it and removes its data. OK if already gone.
  virtual Status Remove(const Host& host, const RunningRedis& redis) = 0;
};

}  // namespace redisfleet::providers
