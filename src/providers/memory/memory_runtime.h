#pragma once
// An in-memory ContainerRuntime and HostProvider: no processes, no I/O. For controller unit
// tests and benchmarks. Records calls and can inject the next error. Thread-safe.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
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

// Machines created and deleted on demand, like droplets: Create makes a host that is not ready
// until SetReady (or at once with `ready_on_create`). Records calls, can inject the next error.
class ElasticMemoryHostProvider final : public HostProvider {
 public:
  ElasticMemoryHostProvider(std::shared_ptr<const Clock> clock, bool ready_on_create = false)
      : clock_(std::move(clock)), ready_on_create_(ready_on_create) {}
  StatusOr<Host> Create(const HostSpec& spec) override;
  StatusOr<std::vector<Host>> List(const PoolRef& pool) override;
  Status Delete(const Host& host) override;
  bool Elastic() const override { return true; }
  StatusOr<std::vector<Host>> ListAll() override;

  void SetReady(const std::string& name, bool ready);
  // Adds a machine as if an earlier run (or another pool `pool_id`) had created it.
  void Inject(Host host, const std::string& pool_id);
  // The next call of `method` ("Create", "List", "Delete", "ListAll") fails with `status`.
  void FailNext(const std::string& method, Status status);
  int64_t Calls(const std::string& method) const;
  std::vector<std::string> Names() const;

 private:
  std::optional<Status> TakeFailure(const std::string& method);
  std::shared_ptr<const Clock> clock_;
  bool ready_on_create_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Host>> hosts_;  // {pool id, host}
  std::map<std::string, Status> fail_next_;
  std::map<std::string, int64_t> calls_;
  int64_t next_id_ = 1;
};

}  // namespace redisfleet::providers
