#pragma once
// One-click self-service: an HTTP API (and a small page) through which anyone who can reach it
// gets a short-lived RedisInstance of their own, owned by their IP address and bounded by the
// pool's per-requester quota.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <httplib.h>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "common/status.h"
#include "store/object_store.h"
#include "store/secrets.h"

namespace redisfleet::server {

// Label on every RedisInstance created here (value "true"). The API only ever shows or deletes
// instances that carry it.
inline constexpr std::string_view kLabelSelfService = "redisfleet.io/self-service";
// Largest request body accepted; larger ones get 413.
inline constexpr std::size_t kSelfServiceMaxBodyBytes = 4096;

// Where self-service RedisInstances are created/removed (standalone: YAML files in the state
// dir; Kubernetes: the API). Implementations must be thread-safe.
class InstanceRequests {
 public:
  virtual ~InstanceRequests() = default;
  virtual Status Create(const api::RedisInstance& ri) = 0;  // AlreadyExists when the name is taken
  virtual Status Delete(const api::Key& key) = 0;           // NotFound when absent
};

struct SelfServiceOptions {
  std::string namespace_ = "default";
  std::string pool = "local";  // HostPool the instances go to; its spec.quota applies
  int64_t memory_mib = 25, max_clients = 20;  // what one click gets (old system: 25 MB)
  std::string public_host;  // host shown in the connection line; empty = the instance's endpoint host
  // Who is asking: the quota owner and the only one who may see or delete the instance.
  // Empty (the default) = the peer address, req.remote_addr. Behind a trusted reverse proxy,
  // pass one that reads its header instead.
  std::function<std::string(const httplib::Request&)> requester_of;
};

// The routes (every JSON response has Content-Type application/json and Cache-Control
// no-store; error bodies are {"error": "..."}):
//   POST   /v1/instances       202 {"name","status":"Pending"} + Location; 429 over quota;
//                              503 when the pool is missing or the store is unavailable
//   GET    /v1/instances/NAME  202 {"name","phase"[,"message"]} until Ready, then 200
//                              {"name","phase","host","port","password","expiresAt","redisCli"}
//   DELETE /v1/instances/NAME  204
//   GET    /                   the page (HTML, no external resources)
// NAME is answered only to its requester; anyone else gets the same 404 as for an absent name.
// Other methods on these paths: 405 with Allow. Bodies over kSelfServiceMaxBodyBytes: 413.
// Passwords appear only in the 200 body: never in logs or error messages.
// Thread-safe: handlers may run concurrently; quota check and creation are serialised so that
// concurrent requests of one requester cannot overrun the quota (within this process).
class SelfService {
 public:
  SelfService(std::shared_ptr<store::ObjectStore> store,
              std::shared_ptr<store::SecretStore> secrets,
              std::shared_ptr<InstanceRequests> requests, std::shared_ptr<const Clock> clock,
              std::shared_ptr<RandomSource> random, std::shared_ptr<Logger> logger,
              SelfServiceOptions options);

  // Adds the routes above to `server` (call before it starts; `this` must outlive it). Also
  // caps every request body on `server` at 64 KiB, as a memory backstop for routes that do not
  // stream their body.
  void Register(httplib::Server& server);

 private:
  struct Reply {
    int status = 200;
    std::string body;  // JSON, or empty for 204
    std::string location;
  };

  std::string RequesterOf(const httplib::Request& req) const;
  Reply Create(const std::string& requester);
  Reply Show(const std::string& requester, const std::string& name);
  Reply Remove(const std::string& requester, const std::string& name);
  // The instance `name` if it exists, is self-service and belongs to `requester`; else NotFound.
  StatusOr<api::RedisInstance> Owned(const std::string& requester, const std::string& name);
  // 404 for NotFound (absent or not this requester's), else a logged backend error.
  Reply NotOwnedReply(const Status& error, const std::string& name) const;
  StatusOr<api::Quota> PoolQuota();
  std::string NewName();

  std::shared_ptr<store::ObjectStore> store_;
  std::shared_ptr<store::SecretStore> secrets_;
  std::shared_ptr<InstanceRequests> requests_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<RandomSource> random_;
  std::shared_ptr<Logger> logger_;
  SelfServiceOptions options_;
  std::mutex create_mu_;  // serialises quota check + Create
};

// The HTML page served at GET / (self_service_page.cpp).
std::string_view SelfServicePage();

}  // namespace redisfleet::server
