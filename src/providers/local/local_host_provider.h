#pragma once
// HostProvider for standalone mode: this machine is the pool's only host.

#include <string>
#include <vector>

#include "providers/host_provider.h"

namespace redisfleet::providers {

// Thread-safe (immutable after construction).
class LocalHostProvider final : public HostProvider {
 public:
  explicit LocalHostProvider(std::string address = "127.0.0.1", std::string docker_endpoint = "");

  // Unimplemented: the local host is fixed.
  StatusOr<Host> Create(const HostSpec& spec) override;
  // One Host{name "local", provider_id "local", address, docker_endpoint, ready}.
  StatusOr<std::vector<Host>> List(const PoolRef& pool) override;
  // OK and does nothing: this machine is not deleted.
  Status Delete(const Host& host) override;

 private:
  std::string address_;
  std::string docker_endpoint_;
};

}  // namespace redisfleet::providers
