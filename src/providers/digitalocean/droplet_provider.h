#pragma once
// HostPool provider `digitalocean`: the pool's hosts are droplets carrying our ownership tags
// (ManagedByTag, PoolTag), each a Docker host reached at tcp://<public ipv4>:<dockerPort>.
//
// Calls are spent sparingly: the droplet list is fetched at most every `idle_refresh` while
// every droplet is active, every `busy_refresh` while one is still being built, and at once
// after a create or delete; List() between fetches answers from that cache (and from the last
// good list when a fetch fails), so placing instances costs no API call. Sizes (for prices) are
// fetched once per `sizes_refresh`.
//
// Create is idempotent by name: it lists the pool's droplets first and returns the one with that
// name; only when there is none does it create one. A create whose answer was lost is found by
// the next list, never made twice by this provider.
//
// Thread-safe. Starts no threads.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "providers/digitalocean/client.h"
#include "providers/host_provider.h"

namespace redisfleet::digitalocean {

struct DropletProviderOptions {
  std::string operator_id = "redis-fleet";
  std::string region = "nyc3";
  std::string size = "s-1vcpu-1gb";
  std::string image = "docker-20-04";
  std::vector<std::string> ssh_keys;
  std::vector<std::string> tags;  // the user's, added to ours
  std::string vpc_uuid;
  int64_t docker_port = 2376;
  // The cloud-init user-data of a new host, by its name; may be empty (no user-data).
  std::function<StatusOr<std::string>(const std::string& host_name)> user_data;
  // OK when the host's Docker daemon answers; may be empty (then active = usable).
  std::function<Status(const providers::Host&)> ping;
  // Names of hosts with a live heartbeat; empty when the pool has no discovery. An error means
  // the registry could not be read: hosts are then judged without it.
  std::function<StatusOr<std::set<std::string>>()> heartbeats;
  std::chrono::milliseconds idle_refresh{120000};
  std::chrono::milliseconds busy_refresh{5000};
  std::chrono::milliseconds sizes_refresh{24 * 3600 * 1000};
  std::chrono::milliseconds ping_cache{2000};
};

class DropletHostProvider final : public providers::HostProvider {
 public:
  DropletHostProvider(std::shared_ptr<Client> client, DropletProviderOptions options,
                      std::shared_ptr<const Clock> clock);

  StatusOr<providers::Host> Create(const providers::HostSpec& spec) override;
  StatusOr<std::vector<providers::Host>> List(const providers::PoolRef& pool) override;
  Status Delete(const providers::Host& host) override;
  bool Elastic() const override { return true; }
  StatusOr<std::vector<providers::Host>> ListAll() override;

 private:
  struct Cache {
    std::vector<Droplet> droplets;
    TimePoint fetched{};
    bool valid = false;
    bool stale = false;  // a create/delete happened, or a create's answer was lost
  };
  // Refreshes the pool's droplet list when due (or `force`); a failed fetch keeps the old list
  // and returns the error only when there is none.
  Status Refresh(const providers::PoolRef& pool, bool force);
  void RefreshPrices();
  std::vector<providers::Host> Hosts(const std::vector<Droplet>& droplets, bool probe);
  bool Usable(const providers::Host& host, const std::optional<std::set<std::string>>& alive);
  // The heartbeat registry's live hosts (nullopt when it cannot be read), cached for ping_cache.
  std::optional<std::set<std::string>> Heartbeats();

  std::shared_ptr<Client> client_;
  DropletProviderOptions options_;
  std::shared_ptr<const Clock> clock_;

  std::mutex fetch_mu_;  // one fetch at a time; held during the HTTP call
  mutable std::mutex mu_;
  std::map<std::string, Cache> cache_;  // pool id -> droplets
  std::map<std::string, double> prices_;
  TimePoint prices_fetched_{};
  std::map<std::string, std::pair<TimePoint, bool>> pings_;  // provider id -> {when, ok}
  std::optional<std::set<std::string>> beats_;
  TimePoint beats_at_{};
};

// "redisfleet-pool:<ns>:<name>" -> "<ns>.<name>"; "" for any other tag.
std::string PoolIdFromTag(const std::string& tag);

}  // namespace redisfleet::digitalocean
