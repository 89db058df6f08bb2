#include "providers/digitalocean/droplet_provider.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "api/types.h"

namespace redisfleet::digitalocean {
namespace {

constexpr std::string_view kPoolTagPrefix = "redisfleet-pool:";
constexpr std::string_view kManagedTagPrefix = "redisfleet-managed-by:";

std::optional<int64_t> DropletId(const std::string& provider_id) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(provider_id.data(), provider_id.data() + provider_id.size(), id);
  if (ec != std::errc() || end != provider_id.data() + provider_id.size() || id < 1) return std::nullopt;
  return id;
}

bool Building(const Droplet& d) { return d.status == "new" || d.public_ipv4.empty(); }

}  // namespace

std::string PoolIdFromTag(const std::string& tag) {
  if (tag.rfind(kPoolTagPrefix, 0) != 0) return "";
  std::string rest = tag.substr(kPoolTagPrefix.size());
  const auto colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return "";
  std::string ns = rest.substr(0, colon), name = rest.substr(colon + 1);
  std::replace(ns.begin(), ns.end(), '_', '.');
  std::replace(name.begin(), name.end(), '_', '.');
  return ns + "." + name;
}

DropletHostProvider::DropletHostProvider(std::shared_ptr<Client> client, DropletProviderOptions options,
                                         std::shared_ptr<const Clock> clock)
    : client_(std::move(client)), options_(std::move(options)), clock_(std::move(clock)) {}

Status DropletHostProvider::Refresh(const providers::PoolRef& pool, bool force) {
  const std::string id = pool.Id();
  auto due = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    const Cache& c = cache_[id];
    if (force || !c.valid || c.stale) return true;
    const bool building = std::any_of(c.droplets.begin(), c.droplets.end(), Building);
    return clock_->Now() - c.fetched >= (building ? options_.busy_refresh : options_.idle_refresh);
  };
  if (!due()) return Status::Ok();
  // One fetch at a time; others answer from the cache meanwhile (or wait when there is none).
  std::unique_lock<std::mutex> fetching(fetch_mu_, std::defer_lock);
  if (!fetching.try_lock()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cache_[id].valid && !force) return Status::Ok();
    }
    fetching.lock();
  }
  if (!due()) return Status::Ok();
  auto got = client_->ListDroplets(PoolTag(pool.namespace_, pool.name));
  std::lock_guard<std::mutex> lock(mu_);
  Cache& c = cache_[id];
  if (!got.ok()) {
    if (c.valid && !force) return Status::Ok();
    return got.error();
  }
  c.droplets = std::move(*got);
  c.fetched = clock_->Now();
  c.valid = true;
  c.stale = false;
  return Status::Ok();
}

void DropletHostProvider::RefreshPrices() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto every = prices_.empty() ? options_.busy_refresh * 12 : options_.sizes_refresh;
    if (prices_fetched_ != TimePoint{} && clock_->Now() - prices_fetched_ < every) return;
    prices_fetched_ = clock_->Now();  // also on failure: no retry storm
  }
  auto sizes = client_->ListSizes();
  if (!sizes.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : *sizes) prices_[s.slug] = s.price_monthly;
}

bool DropletHostProvider::Usable(const providers::Host& host,
                                 const std::optional<std::set<std::string>>& alive) {
  if (alive && alive->count(host.name) == 0) return false;
  if (!options_.ping) return true;
  const TimePoint now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pings_.find(host.provider_id);
    if (it != pings_.end() && now - it->second.first < options_.ping_cache) return it->second.second;
  }
  const bool ok = options_.ping(host).ok();
  std::lock_guard<std::mutex> lock(mu_);
  pings_[host.provider_id] = {now, ok};
  return ok;
}

std::optional<std::set<std::string>> DropletHostProvider::Heartbeats() {
  // Every instance reconcile lists its pool's hosts: the registry is scanned at most once per
  // ping_cache, like the Docker pings, not once per List.
  const TimePoint now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (beats_at_ != TimePoint{} && now - beats_at_ < options_.ping_cache) return beats_;
  }
  std::optional<std::set<std::string>> alive;
  if (auto beats = options_.heartbeats(); beats.ok()) alive = std::move(*beats);
  std::lock_guard<std::mutex> lock(mu_);
  beats_ = alive;
  beats_at_ = now;
  return alive;
}

std::vector<providers::Host> DropletHostProvider::Hosts(const std::vector<Droplet>& droplets, bool probe) {
  std::optional<std::set<std::string>> alive;
  if (probe && options_.heartbeats) alive = Heartbeats();
  std::map<std::string, double> prices;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prices = prices_;
  }
  // Oldest first, so a duplicate name (two droplets created for one name) keeps the name on
  // the older one; the younger is listed under a name of its own and scaled in as surplus.
  std::vector<const Droplet*> sorted;
  for (const auto& d : droplets) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(), [](const Droplet* a, const Droplet* b) { return a->id < b->id; });
  std::set<std::string> names;
  std::vector<providers::Host> out;
  for (const Droplet* d : sorted) {
    providers::Host h;
    h.name = names.insert(d->name).second ? d->name : fmt::format("{}-dup-{}", d->name, d->id);
    h.provider_id = std::to_string(d->id);
    h.address = d->public_ipv4;
    if (!h.address.empty()) h.docker_endpoint = fmt::format("tcp://{}:{}", h.address, options_.docker_port);
    for (const auto& t : d->tags) {
      if (std::string pool = PoolIdFromTag(t); !pool.empty()) h.labels[std::string(api::kLabelPool)] = pool;
      if (t.rfind(kManagedTagPrefix, 0) == 0)
        h.labels[std::string(api::kLabelManagedBy)] = t.substr(kManagedTagPrefix.size());
    }
    h.created = d->created_at;
    auto price = prices.find(d->size_slug);
    h.monthly_cost = price == prices.end() ? 0.0 : price->second;
    h.ready = probe && d->status == "active" && !h.address.empty() && Usable(h, alive);
    out.push_back(std::move(h));
  }
  return out;
}

StatusOr<std::vector<providers::Host>> DropletHostProvider::List(const providers::PoolRef& pool) {
  RF_RETURN_IF_ERROR(Refresh(pool, false));
  RefreshPrices();
  std::vector<Droplet> droplets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    droplets = cache_[pool.Id()].droplets;
  }
  return Hosts(droplets, true);
}

StatusOr<providers::Host> DropletHostProvider::Create(const providers::HostSpec& spec) {
  // Never a second droplet for a name: look first (fresh), create only when it is not there.
  RF_RETURN_IF_ERROR(Refresh(spec.pool, true));
  {
    std::vector<Droplet> droplets;
    {
      std::lock_guard<std::mutex> lock(mu_);
      droplets = cache_[spec.pool.Id()].droplets;
    }
    for (const auto& h : Hosts(droplets, false))
      if (h.name == spec.name) return h;
  }
  CreateDropletRequest req;
  req.name = spec.name;
  req.region = options_.region;
  req.size = options_.size;
  req.image = options_.image;
  req.ssh_keys = options_.ssh_keys;
  req.vpc_uuid = options_.vpc_uuid;
  req.tags = {ManagedByTag(options_.operator_id), PoolTag(spec.pool.namespace_, spec.pool.name)};
  for (const auto& t : options_.tags)
    if (std::find(req.tags.begin(), req.tags.end(), t) == req.tags.end()) req.tags.push_back(t);
  if (options_.user_data) {
    auto ud = options_.user_data(spec.name);
    if (!ud.ok()) return ud.error().WithContext("user-data of " + spec.name);
    req.user_data = std::move(*ud);
  }
  auto created = client_->CreateDroplet(req);
  std::lock_guard<std::mutex> lock(mu_);
  Cache& c = cache_[spec.pool.Id()];
  c.stale = true;  // look again soon whatever happened (a lost answer may hide a droplet)
  if (!created.ok()) return created.error();
  c.droplets.push_back(*created);
  providers::Host h;
  h.name = created->name;
  h.provider_id = std::to_string(created->id);
  h.created = created->created_at;
  h.ready = false;
  return h;
}

Status DropletHostProvider::Delete(const providers::Host& host) {
  auto id = DropletId(host.provider_id);
  if (!id) return Status::Ok();  // never created
  Status s = client_->DeleteDroplet(*id);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [pool, c] : cache_) {
    c.stale = true;
    if (s.ok())
      c.droplets.erase(std::remove_if(c.droplets.begin(), c.droplets.end(),
                                      [&](const Droplet& d) { return d.id == *id; }),
                       c.droplets.end());
  }
  pings_.erase(host.provider_id);
  return s;
}

StatusOr<std::vector<providers::Host>> DropletHostProvider::ListAll() {
  RF_ASSIGN_OR_RETURN(auto droplets, client_->ListDroplets(ManagedByTag(options_.operator_id)));
  return Hosts(droplets, false);
}

}  // namespace redisfleet::digitalocean
