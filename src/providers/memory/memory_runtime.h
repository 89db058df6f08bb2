#pragma once
// An in-memory ContainerRuntime and HostProvider: no processes, no I/O. For controller unit
// tests and benchmarks. Records calls and can inject the next error. Thread-safe.

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "providers/container_runtime.h"
#include "providers/host_provider.h"

namespace redisfleet::providers {

class MemoryRuntime final : public ContainerRuntime {
 public:
  StatusOr<api::Endpoint> Ensure(const Host& host, const RedisSpec& spec) override;
  StatusOr<std::vector<RunningRedis>> List(const Host& host) override;
  Status Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) override;
  Status Remove(const Host& host, const RunningRedis& redis) override;

  // The next call of `method` ("Ensure", "List", "Resize", "Remove") fails with `status`.
  void FailNext(const std::string& method, Status status);
  // Memory "in use" reported for an instance (Resize refuses to go below it).
  void SetUsedMemoryMiB(const api::Key& instance, int64_t mib);
  // Marks an instance's server as stopped (as if it crashed).
  void Crash(const api::Key& instance);
  int64_t Calls(const std::string& method) const;
  std::size_t Count() const;
  // Adds a Redis that no reconciler created (an orphan, or one left by a crashed operator).
  void Inject(const Host& host, RunningRedis redis);

 private:
  struct Entry {
    std::string host;
    RunningRedis redis;
    int64_t used_mib = 0;
  };
  std::optional<Status> TakeFailure(const std::string& method);

  mutable std::mutex mu_;
  std::map<std::string, Entry> by_id_;  // id = "<host>/<ns>.<name>.<uid>"
  std::map<std::string, Status> fail_next_;
  std::map<std::string, int64_t> calls_;
  int64_t next_port_ = 20000;
};

// A fixed set of hosts, all Ready.
class MemoryHostProvider final : public HostProvider {
 public:
  explicit MemoryHostProvider(std::vector<Host> hosts) : hosts_(std::move(hosts)) {}
  StatusOr<Host> Create(const HostSpec& spec) override;
  StatusOr<std::vector<Host>> List(const PoolRef& pool) override;
  Status Delete(const Host& host) override;
  // Marks a host (not) ready, as a failed ping or an expired heartbeat would.
  void SetReady(const std::string& name, bool ready);

 private:
  mutable std::mutex mu_;
  std::vector<Host> hosts_;
};

}  // namespace redisfleet::providers
