#pragma once
// Heroku Platform API client for managed Redis add-ons (reference external-apis.md section 2):
// read an add-on, change its plan (PATCH) and wait until it is provisioned again, read the
// app's config vars, and list an add-on service's plans across Range pages.
//
// Every request sends `Accept: application/vnd.heroku+json; version=3`, `Authorization: Bearer`,
// a `User-Agent` and a fresh `Request-Id`. The API key is held only in the HTTP client options;
// it never appears in a Status message (nor do config-var values). RateLimit-Remaining is read
// from every response (rate_limit_remaining()); 429 and 5xx are retried a bounded number of
// times with backoff (Retry-After when the server sends one); below a configurable floor of
// remaining tokens the client slows down instead of burning the account's pool.
//
// Thread-safety: all methods may be called concurrently (counters are atomics; the HTTP client
// is thread-safe). Blocking waits use the injected Clock (a FakeClock wakes them through Subscribe).
// Starts no threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "http/http_client.h"

namespace redisfleet::heroku {

inline constexpr std::string_view kAcceptV3 = "application/vnd.heroku+json; version=3";
inline constexpr std::string_view kStateProvisioning = "provisioning";
inline constexpr std::string_view kStateProvisioned = "provisioned";
inline constexpr std::string_view kStateDeprovisioned = "deprovisioned";

struct RetryPolicy {
  // Attempts per request (first try included) for 429, 5xx and transport failures. A timeout
  // (kDeadlineExceeded) is never retried here: the caller's requeue decides.
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  // A Retry-After longer than this is cut to it.
  std::chrono::milliseconds max_retry_after{60000};
  // When the last RateLimit-Remaining seen is below this floor, each request first waits
  // low_remaining_delay * (floor - remaining) / floor. 0 disables the slow-down.
  int64_t rate_limit_floor = 100;
  std::chrono::milliseconds low_remaining_delay{5000};
};

struct HerokuClientOptions {
  std::string api_url = "https://api.heroku.com";
  std::string api_key;  // secret: never logged, never in a message
  std::chrono::milliseconds timeout{30000};  // per HTTP exchange
  std::chrono::milliseconds connect_timeout{5000};
  std::string user_agent = "redis-fleet/0.1 (heroku)";
  std::string ca_file;  // https: extra CA bundle (tests); empty = system store
  RetryPolicy retry;
  // WaitProvisioned polls with exponential backoff between these bounds.
  std::chrono::milliseconds poll_base{1000};
  std::chrono::milliseconds poll_cap{15000};
  // Range page size for lists (Heroku: default 200, max 1000).
  int page_size = 1000;
  // Service used to qualify a bare plan name ("premium-0" -> "heroku-redis:premium-0").
  std::string default_addon_service = "heroku-redis";
  // Polled while waiting; returning true ends the wait with kCancelled. May be empty.
  std::function<bool()> stop;
  // Called after every HTTP exchange with its status (0: no response), retries included; for
  // request metrics. May be empty.
  std::function<void(long status)> on_response;
};

// The add-on fields redis-fleet uses (HK-schema add-on).
struct Addon {
  std::string id;
  std::string name;
  std::string app;                       // app name
  std::string plan;                      // "<service>:<plan>", e.g. "heroku-redis:premium-0"
  std::string addon_service;             // "heroku-redis"
  std::string state;                     // provisioning | provisioned | deprovisioned
  std::vector<std::string> config_vars;  // config-var NAMES (never values)
  // The plan without the service prefix ("premium-0").
  std::string ShortPlan() const;
};

// A plan of an add-on service (HK-schema plan).
struct HerokuPlan {
  std::string id;
  std::string name;        // "heroku-redis:premium-0"
  std::string human_name;  // "Premium 0"
  int64_t price_cents = 0;
  std::string price_unit;  // "month"
  bool is_default = false;
};

// Memory and connection limits of a heroku-redis plan; Heroku's plan object has neither.
struct PlanCapacity {
  int64_t memory_mib = 0;
  int64_t max_clients = 0;
};

// Capacity of a heroku-redis plan ("premium-0" or "heroku-redis:premium-0"), from Heroku's
// documentation (see the table in heroku_client.cpp); nullopt for a plan not in the table.
std::optional<PlanCapacity> KnownPlanCapacity(std::string_view plan_name);

// "heroku-redis:premium-0" -> "premium-0"; a name without ':' is returned as is.
std::string ShortPlanName(std::string_view plan_name);

// Heroku plans as catalogue plans: name = short plan name, monthly_cost = cents/100 (unit
// "month"), memory/maxClients from KnownPlanCapacity. Plans with an unknown capacity or a
// non-monthly price are listed in `unknown` (with the reason) instead of being guessed.
struct CatalogFromHeroku {
  std::vector<api::Plan> plans;       // sorted by monthly cost, then name
  std::vector<std::string> unknown;   // "heroku-redis:foo (capacity unknown)"
};
CatalogFromHeroku ToCatalog(const std::vector<HerokuPlan>& plans);

class HerokuClient {
 public:
  // `clock` must outlive the client. `random` makes Request-Ids; nullptr = CryptoRandom.
  HerokuClient(HerokuClientOptions options, Clock& clock,
               std::shared_ptr<RandomSource> random = nullptr);

  // GET /apps/{app}/addons/{addon} (app empty: GET /addons/{addon}). Errors: see Status codes
  // in the file comment of heroku_client.cpp (404 kNotFound, 401 kUnauthenticated, ...).
  StatusOr<Addon> GetAddon(const std::string& app, const std::string& addon);

  // PATCH /apps/{app}/addons/{addon} with {"plan": "<service>:<plan>"}; a bare plan name is
  // qualified with default_addon_service. Returns the add-on as Heroku reports it (usually
  // provisioning). 422 (change not supported, unknown plan) is kInvalidArgument; a 2xx whose
  // add-on names another plan is kFailedPrecondition. Never reports success for a failure.
  StatusOr<Addon> ChangePlan(const std::string& app, const std::string& addon,
                             const std::string& plan);

  // Polls GetAddon (backoff poll_base..poll_cap) until state == provisioned and returns it.
  // deprovisioned is kFailedPrecondition; `deadline` reached is kDeadlineExceeded; stop is
  // kCancelled; GetAddon errors are returned as they are.
  StatusOr<Addon> WaitProvisioned(const std::string& app, const std::string& addon,
                                  TimePoint deadline);

  // GET /apps/{app}/config-vars and returns the value of `name` (a secret: the caller must not
  // log it). kNotFound when the app has no such var.
  StatusOr<std::string> GetConfigVar(const std::string& app, const std::string& name);

  // GET /addon-services/{service}/plans, every Range page (206 + Next-Range followed).
  StatusOr<std::vector<HerokuPlan>> ListPlans(const std::string& service);

  // GET /account/rate-limits: the remaining tokens (does not count against the limit).
  StatusOr<int64_t> GetRateLimitRemaining();

  // The RateLimit-Remaining of the last response that carried one; -1 before any.
  int64_t rate_limit_remaining() const { return rate_limit_remaining_.load(); }
  // Requests sent (attempts included) and 429s received, for metrics.
  int64_t requests_sent() const { return requests_sent_.load(); }
  int64_t rate_limited_total() const { return rate_limited_.load(); }

 private:
  struct Call {
    std::string method;
    std::string path;
    std::string body;
    std::string range;  // Range header, empty for none
  };
  // One logical request: rate-limit slow-down, retries on 429/5xx/transport errors. Returns
  // the final response when its status is < 400; otherwise the mapped error.
  StatusOr<http::HttpResponse> Send(const Call& call);
  Status ErrorFromResponse(const Call& call, const http::HttpResponse& response) const;
  Status SleepFor(std::chrono::milliseconds d);
  std::string NewRequestId();
  std::string Scrub(std::string text) const;

  HerokuClientOptions options_;
  Clock& clock_;
  std::shared_ptr<RandomSource> random_;
  http::HttpClient http_;
  std::atomic<int64_t> rate_limit_remaining_{-1};
  std::atomic<int64_t> requests_sent_{0};
  std::atomic<int64_t> rate_limited_{0};
};

}  // namespace redisfleet::heroku
