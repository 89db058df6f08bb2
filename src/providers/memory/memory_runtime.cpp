#include "providers/memory/memory_runtime.h"

#include <algorithm>

namespace redisfleet::providers {
namespace {
std::string IdOf(const std::string& host, const api::Key& instance, const std::string& uid) {
  return host + "/" + instance.Dotted() + "." + uid;
}
}  // namespace

std::optional<Status> MemoryRuntime::TakeFailure(const std::string& method) {
  ++calls_[method];
  auto it = fail_next_.find(method);
  if (it == fail_next_.end()) return std::nullopt;
  Status s = it->second;
  fail_next_.erase(it);
  return s;
}

StatusOr<api::Endpoint> MemoryRuntime::Ensure(const Host& host, const RedisSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("Ensure")) return *f;
  std::string id = IdOf(host.name, spec.instance, spec.uid);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    Entry e;
    e.host = host.name;
    e.redis.id = id;
    e.redis.instance = spec.instance;
    e.redis.uid = spec.uid;
    e.redis.pool_id = spec.pool.Id();
    e.redis.endpoint = {host.address, spec.port != 0 ? spec.port : next_port_++};
    e.redis.resources = spec.resources;
    e.redis.running = true;
    e.redis.labels = spec.labels;
    it = by_id_.emplace(id, std::move(e)).first;
  }
  Entry& e = it->second;
  e.redis.running = true;
  if (e.redis.resources != spec.resources) {
    if (spec.resources.memory_mib < e.used_mib) {
      return FailedPreconditionError("memory in use exceeds the requested size");
    }
    e.redis.resources = spec.resources;
  }
  return e.redis.endpoint;
}

StatusOr<std::vector<RunningRedis>> MemoryRuntime::List(const Host& host) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("List")) return *f;
  std::vector<RunningRedis> out;
  for (const auto& [id, e] : by_id_)
    if (e.host == host.name) out.push_back(e.redis);
  return out;
}

Status MemoryRuntime::Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) {
  (void)host;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("Resize")) return *f;
  auto it = by_id_.find(redis.id);
  if (it == by_id_.end()) return NotFoundError("no such redis");
  if (to.memory_mib < it->second.used_mib) {
    return FailedPreconditionError("memory in use exceeds the requested size");
  }
  it->second.redis.resources = to;
  return Status::Ok();
}

Status MemoryRuntime::Remove(const Host& host, const RunningRedis& redis) {
  (void)host;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("Remove")) return *f;
  by_id_.erase(redis.id);
  return Status::Ok();
}

void MemoryRuntime::FailNext(const std::string& method, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_[method] = std::move(status);
}

void MemoryRuntime::SetUsedMemoryMiB(const api::Key& instance, int64_t mib) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : by_id_)
    if (e.redis.instance == instance) e.used_mib = mib;
}

void MemoryRuntime::Crash(const api::Key& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : by_id_)
    if (e.redis.instance == instance) e.redis.running = false;
}

int64_t MemoryRuntime::Calls(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::size_t MemoryRuntime::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_id_.size();
}

void MemoryRuntime::Inject(const Host& host, RunningRedis redis) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = IdOf(host.name, redis.instance, redis.uid);
  redis.id = id;
  by_id_[id] = Entry{host.name, std::move(redis), 0};
}

StatusOr<Host> MemoryHostProvider::Create(const HostSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& h : hosts_)
    if (h.name == spec.name) return h;
  Host h;
  h.name = spec.name;
  h.provider_id = spec.name;
  h.address = "127.0.0.1";
  h.labels = spec.labels;
  hosts_.push_back(h);
  return h;
}

StatusOr<std::vector<Host>> MemoryHostProvider::List(const PoolRef& pool) {
  (void)pool;
  std::lock_guard<std::mutex> lock(mu_);
  return hosts_;
}

void MemoryHostProvider::SetReady(const std::string& name, bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& h : hosts_)
    if (h.name == name) h.ready = ready;
}

Status MemoryHostProvider::Delete(const Host& host) {
  std::lock_guard<std::mutex> lock(mu_);
  hosts_.erase(std::remove_if(hosts_.begin(), hosts_.end(),
                              [&](const Host& h) { return h.name == host.name; }),
               hosts_.end());
  return Status::Ok();
}

std::optional<Status> ElasticMemoryHostProvider::TakeFailure(const std::string& method) {
  ++calls_[method];
  auto it = fail_next_.find(method);
  if (it == fail_next_.end()) return std::nullopt;
  Status s = it->second;
  fail_next_.erase(it);
  return s;
}

StatusOr<Host> ElasticMemoryHostProvider::Create(const HostSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("Create")) return *f;
  const std::string pool_id = spec.pool.Id();
  for (const auto& [pool, h] : hosts_)
    if (pool == pool_id && h.name == spec.name) return h;
  Host h;
  h.name = spec.name;
  h.provider_id = std::to_string(next_id_++);
  h.address = "127.0.0.1";
  h.labels = spec.labels;
  h.labels[std::string(api::kLabelPool)] = pool_id;
  h.ready = ready_on_create_;
  h.created = clock_->Now();
  h.monthly_cost = 6.0;
  hosts_.emplace_back(pool_id, h);
  return h;
}

StatusOr<std::vector<Host>> ElasticMemoryHostProvider::List(const PoolRef& pool) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("List")) return *f;
  std::vector<Host> out;
  for (const auto& [id, h] : hosts_)
    if (id == pool.Id()) out.push_back(h);
  return out;
}

StatusOr<std::vector<Host>> ElasticMemoryHostProvider::ListAll() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("ListAll")) return *f;
  std::vector<Host> out;
  for (const auto& [id, h] : hosts_) out.push_back(h);
  return out;
}

Status ElasticMemoryHostProvider::Delete(const Host& host) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto f = TakeFailure("Delete")) return *f;
  hosts_.erase(std::remove_if(hosts_.begin(), hosts_.end(),
                              [&](const auto& e) { return e.second.provider_id == host.provider_id; }),
               hosts_.end());
  return Status::Ok();
}

void ElasticMemoryHostProvider::SetReady(const std::string& name, bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, h] : hosts_)
    if (h.name == name) h.ready = ready;
}

void ElasticMemoryHostProvider::Inject(Host host, const std::string& pool_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (host.provider_id.empty()) host.provider_id = std::to_string(next_id_++);
  host.labels[std::string(api::kLabelPool)] = pool_id;
  hosts_.emplace_back(pool_id, std::move(host));
}

void ElasticMemoryHostProvider::FailNext(const std::string& method, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_[method] = std::move(status);
}

int64_t ElasticMemoryHostProvider::Calls(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<std::string> ElasticMemoryHostProvider::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, h] : hosts_) out.push_back(h.name);
  return out;
}

}  // namespace redisfleet::providers
