#include "controllers/info_prober.h"

#include "redis/client.h"
#include "redis/info.h"

namespace redisfleet::controllers {

StatusOr<RedisProber::Usage> InfoProber::Probe(const api::Endpoint& endpoint,
                                               const std::string& password) {
  redis::ConnectOptions opts;
  opts.host = endpoint.host;
  opts.port = static_cast<int>(endpoint.port);
  opts.password = password;
  opts.timeout = timeout_;
  RF_ASSIGN_OR_RETURN(auto client, redis::RedisClient::Connect(opts));
  RF_ASSIGN_OR_RETURN(auto info, client->Info({"memory", "clients"}));
  redis::RedisStats stats = redis::StatsFromInfo(info);
  Usage u;
  u.used_memory_bytes = std::max<int64_t>(0, stats.used_memory);
  // Our own probe connection is not a user's.
  u.connected_clients = std::max<int64_t>(0, stats.connected_clients - 1);
  return u;
}

}  // namespace redisfleet::controllers
