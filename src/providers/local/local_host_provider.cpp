#include "providers/local/local_host_provider.h"

#include <utility>

namespace redisfleet::providers {

LocalHostProvider::LocalHostProvider(std::string address, std::string docker_endpoint)
    : address_(std::move(address)), docker_endpoint_(std::move(docker_endpoint)) {}

StatusOr<Host> LocalHostProvider::Create(const HostSpec& spec) {
  return UnimplementedError("the local host provider cannot create hosts (asked for " + spec.name +
                            ")");
}

StatusOr<std::vector<Host>> LocalHostProvider::List(const PoolRef& pool) {
  (void)pool;
  Host host;
  host.name = "local";
  host.provider_id = "local";
  host.address = address_;
  host.docker_endpoint = docker_endpoint_;
  host.ready = true;
  return std::vector<Host>{host};
}

Status LocalHostProvider::Delete(const Host& host) {
  (void)host;
  return Status::Ok();
}

}  // namespace redisfleet::providers
