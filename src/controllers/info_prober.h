#pragma once
// RedisProber over redis/RedisClient: one short connection per probe, INFO memory + clients.

#include <algorithm>
#include <chrono>

#include "controllers/redisinstance/reconciler.h"

namespace redisfleet::controllers {

class InfoProber final : public RedisProber {
 public:
  explicit InfoProber(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000))
      : timeout_(timeout) {}
  StatusOr<Usage> Probe(const api::Endpoint& endpoint, const std::string& password) override;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace redisfleet::controllers
