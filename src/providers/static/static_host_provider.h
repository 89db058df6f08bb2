#pragma once
// HostPool provider `static` (a fixed list of Docker hosts) and `local` with runtime docker
// (this machine's daemon as the one host): the hosts are given, only their health is observed.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/status.h"
#include "providers/host_provider.h"

namespace redisfleet::providers {

// Thread-safe (immutable after construction; the callbacks must be thread-safe).
class StaticHostProvider final : public HostProvider {
 public:
  // OK when the host's Docker daemon answers (GET /_ping).
  using Ping = std::function<Status(const Host&)>;
  // The names of hosts with a live heartbeat in the discovery registry. An error means the
  // registry could not be read: hosts are then judged by their ping alone, never all lost at
  // once because the registry is down.
  using Heartbeats = std::function<StatusOr<std::set<std::string>>()>;

  // `heartbeats` is empty when the pool has no spec.discovery.
  StaticHostProvider(std::vector<api::StaticHost> hosts, Ping ping, Heartbeats heartbeats = {});

  // Unimplemented: the hosts are fixed.
  StatusOr<Host> Create(const HostSpec& spec) override;
  // Every listed host, in list order; ready = its daemon answers and (with discovery) its
  // heartbeat is live. Never fails: an unreachable host is listed not ready.
  StatusOr<std::vector<Host>> List(const PoolRef& pool) override;
  // OK and does nothing: static hosts are not deleted.
  Status Delete(const Host& host) override;

 private:
  std::vector<api::StaticHost> hosts_;
  Ping ping_;
  Heartbeats heartbeats_;
};

}  // namespace redisfleet::providers
