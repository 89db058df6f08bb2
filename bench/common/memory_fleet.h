#pragma once
// What the reconcile benchmarks share: a pool registry serving every pool from N in-memory
// hosts and one MemoryRuntime, and a count of Ready instances that can be waited on.

#include <chrono>
#include <condition_variable>
#include <limits>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "providers/memory/memory_runtime.h"

namespace redisfleet::bench {

struct MemoryFleet {
  explicit MemoryFleet(int hosts) {
    std::vector<providers::Host> list;
    for (int h = 0; h < hosts; ++h) {
      list.push_back(providers::Host{fmt::format("host-{:04}", h), "", "127.0.0.1", "", {}, true});
    }
    host_provider = std::make_shared<providers::MemoryHostProvider>(list);
    pools = std::make_shared<controllers::PoolRegistry>(
        [hp = host_provider, rt = runtime](const api::HostPool&) -> StatusOr<controllers::PoolDrivers> {
          return controllers::PoolDrivers{hp, rt};
        });
  }
  std::shared_ptr<providers::MemoryRuntime> runtime = std::make_shared<providers::MemoryRuntime>();
  std::shared_ptr<providers::MemoryHostProvider> host_provider;
  std::shared_ptr<controllers::PoolRegistry> pools;
  std::shared_ptr<controllers::UsageLedger> ledger = std::make_shared<controllers::UsageLedger>();
};

// A PhaseCounter whose Ready count can be waited for.
class ReadyCounter {
 public:
  ReadyCounter()
      : phases_(std::make_shared<controllers::PhaseCounter>(
            [this](const std::map<std::string, int64_t>& counts) {
              auto it = counts.find("Ready");
              std::lock_guard<std::mutex> lock(mu_);
              ready_ = it == counts.end() ? 0 : it->second;
              // Only the waiter's goal wakes it: a wake-up per phase change would bill the
              // benchmark's own context switches to the operator.
              if (ready_ >= target_) cv_.notify_all();
            })) {}
  std::shared_ptr<controllers::PhaseCounter> phases() const { return phases_; }
  // True once at least `n` are Ready; false after `timeout`.
  bool WaitFor(int64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    target_ = n;
    const bool reached = cv_.wait_for(lock, timeout, [&] { return ready_ >= n; });
    target_ = std::numeric_limits<int64_t>::max();
    return reached;
  }
  int64_t ready() {
    std::lock_guard<std::mutex> lock(mu_);
    return ready_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t ready_ = 0;
  int64_t target_ = std::numeric_limits<int64_t>::max();  // what WaitFor waits for
  std::shared_ptr<controllers::PhaseCounter> phases_;
};

}  // namespace redisfleet::bench
