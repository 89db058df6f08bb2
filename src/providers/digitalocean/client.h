#pragma once
// DigitalOcean API v2 client for the droplets a HostPool owns (reference external-apis.md
// section 1): create, list by tag (every page), get, delete droplets; list sizes.
//
// Auth: `Authorization: Bearer <token>`. The token lives only in the HTTP client options; it
// never appears in a Status message. Error bodies {id, message, request_id} become Status codes
// (http::HttpClient::StatusFromHttp), the message carrying `id`, `message` and the request id.
//
// Rate limits: every response's ratelimit-limit/-remaining/-reset headers are read. The client
// also counts its own calls in rolling windows and never sends more than `per_minute` in any 60 s
// nor `per_hour` in any hour. A call that would exceed a budget, and every call while the API
// has said "wait" (429 with retry-after, or remaining 0 until ratelimit-reset), fails at once with
// kResourceExhausted and sends nothing; RetryAfter() says when calling again makes sense. So a
// caller that retries on error can never hot-loop against the API.
//
// Retries: idempotent calls (GET, DELETE) are retried on 5xx, transport errors and timeouts
// with jittered exponential backoff, at most `max_attempts` in all. CreateDroplet is never
// retried once the request may have reached the server (it is not idempotent: DigitalOcean
// allows two droplets with one name); the caller lists by tag before creating again.
//
// Thread-safety: all methods may be called concurrently. Waits use the injected Clock and
// sleep function. Starts no threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"

namespace redisfleet::digitalocean {

struct Droplet {
  int64_t id = 0;
  std::string name;
  std::string status;  // new | active | off | archive
  std::vector<std::string> tags;
  std::string public_ipv4;   // networks.v4[type=public].ip_address; "" until assigned
  std::string private_ipv4;  // networks.v4[type=private].ip_address
  std::string size_slug;
  std::string region;  // region.slug
  TimePoint created_at{};
  bool locked = false;
};

struct Size {
  std::string slug;
  int64_t memory_mb = 0;
  int64_t vcpus = 0;
  int64_t disk_gb = 0;
  double price_monthly = 0;
  double price_hourly = 0;
  bool available = true;
  std::vector<std::string> regions;
};

struct CreateDropletRequest {
  std::string name;
  std::string region;
  std::string size;
  std::string image;  // a slug, or a numeric id (sent as a JSON integer)
  std::vector<std::string> ssh_keys;  // ids (digits, sent as integers) or fingerprints
  std::vector<std::string> tags;
  std::string user_data;  // cloud-config, <= 64 KiB; may hold host credentials: never logged
  std::string vpc_uuid;   // "" = omitted (the region's default VPC)
  bool monitoring = false;
  bool ipv6 = false;
};

// What the last response said about the account's budget.
struct RateLimit {
  int64_t limit = -1;      // -1: not seen yet
  int64_t remaining = -1;
  TimePoint reset{};
};

struct ClientOptions {
  std::string api_url = "https://api.digitalocean.com";
  std::string token;  // secret
  std::string ca_file;  // https: extra CA bundle (tests); empty = system store
  std::chrono::milliseconds timeout{30000};  // per HTTP exchange
  std::chrono::milliseconds connect_timeout{5000};
  std::string user_agent = "redis-fleet/0.1 (digitalocean)";
  int max_attempts = 4;  // idempotent calls, first try included
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  int64_t per_minute = 250;  // own rolling budgets (the API's limits)
  int64_t per_hour = 5000;
  // A 429 without retry-after or reset is treated as "wait this long".
  std::chrono::milliseconds default_retry_after{30000};
  int per_page = 200;
};

// Observers for metrics; may be empty. Called on the calling thread after every response.
struct ClientObserver {
  std::function<void(long http_status)> on_response;  // 0 for a transport failure
  std::function<void(const RateLimit&)> on_rate_limit;
};

class Client {
 public:
  // `clock` must outlive the client. `sleep` blocks the caller for a backoff (nullptr: a real
  // sleep; tests pass one that advances a FakeClock). `random` jitters backoffs (nullptr:
  // CryptoRandom).
  Client(ClientOptions options, std::shared_ptr<const Clock> clock,
         std::function<void(std::chrono::milliseconds)> sleep = nullptr,
         std::shared_ptr<RandomSource> random = nullptr, ClientObserver observer = {});
  ~Client();

  // POST /v2/droplets (202): the droplet as created (status "new"). Not retried; see above.
  StatusOr<Droplet> CreateDroplet(const CreateDropletRequest& request);
  // GET /v2/droplets?tag_name=TAG, every page (per_page from the options), in the API's order.
  StatusOr<std::vector<Droplet>> ListDroplets(const std::string& tag);
  // GET /v2/droplets/{id}; NotFound when it does not exist.
  StatusOr<Droplet> GetDroplet(int64_t id);
  // DELETE /v2/droplets/{id} (204); a droplet that is already gone (404) is OK.
  Status DeleteDroplet(int64_t id);
  // GET /v2/sizes, every page.
  StatusOr<std::vector<Size>> ListSizes();

  RateLimit rate_limit() const;
  // When a call may next be sent (now when nothing holds it back).
  TimePoint RetryAfter() const;
  // Requests sent (each HTTP exchange, retries included), for benchmarks and tests.
  int64_t requests_sent() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// DigitalOcean tags allow letters, digits, '-', '_' and ':' (<= 255 characters). Kubernetes
// names hold letters, digits, '-' and '.': '.' becomes '_', and ':' separates parts, so the
// mapping is one-to-one.
std::string TagPart(const std::string& s);
// "redisfleet-managed-by:<operator id>"
std::string ManagedByTag(const std::string& operator_id);
// "redisfleet-pool:<namespace>:<name>"
std::string PoolTag(const std::string& namespace_, const std::string& name);

}  // namespace redisfleet::digitalocean
