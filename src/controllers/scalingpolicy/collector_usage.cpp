#include "controllers/scalingpolicy/collector_usage.h"

#include <utility>

namespace redisfleet::controllers {

Status CollectorUsage::Track(const api::Key& instance, const Target& target) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = targets_.find(instance);
  if (it != targets_.end() && it->second == target) return Status::Ok();
  redis::CollectorTarget t;
  t.key = instance.ToString();
  t.connect.host = target.endpoint.host;
  t.connect.port = static_cast<int>(target.endpoint.port);
  t.connect.password = target.password;
  t.connect.username = target.username;
  t.interval = target.interval;
  t.window = target.window;
  t.tls = target.tls;
  t.tls_options.verify = target.tls_verify;
  Status s = it == targets_.end() ? collector_->Add(t) : collector_->Update(t);
  if (s.code() == StatusCode::kAlreadyExists) s = collector_->Update(t);
  if (s.code() == StatusCode::kNotFound) s = collector_->Add(t);
  if (!s.ok()) return s;
  targets_[instance] = target;
  return Status::Ok();
}

void CollectorUsage::Untrack(const api::Key& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  collector_->Remove(instance.ToString());
  targets_.erase(instance);
}

std::vector<scaling::Sample> CollectorUsage::Window(const api::Key& instance) {
  std::vector<scaling::Sample> out;
  auto window = collector_->Window(instance.ToString());
  if (!window) return out;
  out.reserve(window->size());
  for (const redis::RedisSample& r : *window) {
    scaling::Sample s;
    s.time = r.time;
    s.ok = r.ok && r.used_memory >= 0 && r.connected_clients >= 0;
    s.used_memory_bytes = r.used_memory;
    s.connected_clients = r.connected_clients;
    s.evicted_keys_total = r.evicted_keys;
    s.rejected_connections_total = r.rejected_connections;
    out.push_back(s);
  }
  return out;
}

}  // namespace redisfleet::controllers
