#include "providers/static/static_host_provider.h"

#include <utility>

namespace redisfleet::providers {

StaticHostProvider::StaticHostProvider(std::vector<api::StaticHost> hosts, Ping ping,
                                       Heartbeats heartbeats)
    : hosts_(std::move(hosts)), ping_(std::move(ping)), heartbeats_(std::move(heartbeats)) {}

StatusOr<Host> StaticHostProvider::Create(const HostSpec& spec) {
  return UnimplementedError("a static pool cannot create hosts (asked for " + spec.name + ")");
}

StatusOr<std::vector<Host>> StaticHostProvider::List(const PoolRef& pool) {
  (void)pool;
  std::optional<std::set<std::string>> alive;
  if (heartbeats_) {
    auto beats = heartbeats_();
    if (beats.ok()) alive = std::move(*beats);
  }
  std::vector<Host> out;
  out.reserve(hosts_.size());
  for (const auto& h : hosts_) {
    Host host;
    host.name = h.name;
    host.provider_id = h.name;
    host.address = h.address;
    host.docker_endpoint = h.docker_endpoint;
    host.ready = (!alive || alive->count(h.name) != 0) && (!ping_ || ping_(host).ok());
    out.push_back(std::move(host));
  }
  return out;
}

Status StaticHostProvider::Delete(const Host& host) {
  (void)host;
  return Status::Ok();
}

}  // namespace redisfleet::providers
