#pragma once
// UsageSource over redis::Collector: one persistent INFO connection per instance, scraped on
// the policy's interval by the collector's own loop (which main runs).

#include <map>
#include <memory>
#include <mutex>

#include "controllers/scalingpolicy/reconciler.h"
#include "redis/collector.h"

namespace redisfleet::controllers {

// Thread-safe.
class CollectorUsage final : public UsageSource {
 public:
  explicit CollectorUsage(std::shared_ptr<redis::Collector> collector) : collector_(std::move(collector)) {}

  // Adds the target, or updates it when the endpoint, password, interval or window changed.
  Status Track(const api::Key& instance, const Target& target) override;
  void Untrack(const api::Key& instance) override;
  std::vector<scaling::Sample> Window(const api::Key& instance) override;

 private:
  std::shared_ptr<redis::Collector> collector_;
  std::mutex mu_;
  std::map<api::Key, Target> targets_;
};

}  // namespace redisfleet::controllers
