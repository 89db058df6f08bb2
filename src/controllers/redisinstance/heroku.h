#pragma once
// The Heroku side of the controllers: a small seam over heroku::HerokuClient (HerokuApi, built
// per apiURL and API key by a HerokuApiFactory), and the HerokuActuator that converges a
// RedisInstance with spec.heroku on its add-on. We do not own the add-on: the actuator changes
// its plan and follows its connection URL, and never creates or deletes it.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "providers/heroku/heroku_client.h"
#include "runtime/reconciler.h"
#include "store/secrets.h"

namespace redisfleet::controllers {

// The Heroku Platform API calls the controllers make (heroku::HerokuClient in production, a fake
// in unit tests). Errors as heroku::HerokuClient's. Thread-safe.
class HerokuApi {
 public:
  virtual ~HerokuApi() = default;
  virtual StatusOr<heroku::Addon> GetAddon(const std::string& app, const std::string& addon) = 0;
  virtual StatusOr<heroku::Addon> ChangePlan(const std::string& app, const std::string& addon,
                                             const std::string& plan) = 0;
  // The value is a secret (the URL carries the password): never log it.
  virtual StatusOr<std::string> GetConfigVar(const std::string& app, const std::string& name) = 0;
  virtual StatusOr<std::vector<heroku::HerokuPlan>> ListPlans(const std::string& service) = 0;
};

// Builds (or reuses) the API of one account. Thread-safe.
class HerokuApiFactory {
 public:
  virtual ~HerokuApiFactory() = default;
  virtual StatusOr<std::shared_ptr<HerokuApi>> For(const std::string& api_url, const std::string& api_key) = 0;
};

// The API for `ref`: its key read through `secrets` (standalone: <dir>/secrets/<name>/<key>).
// The secret's errors as they are (kNotFound names the ref, never a value); an empty key is
// kInvalidArgument.
StatusOr<std::shared_ptr<HerokuApi>> HerokuApiFor(HerokuApiFactory& factory, store::SecretStore& secrets,
                                                  const std::string& namespace_, const api::HerokuRef& ref);

// Production factory: one heroku::HerokuClient per (apiURL, API key), kept for the process's
// life (a rotated key gets a new client). `on_rate_limit` (may be empty) is called with the
// RateLimit-Remaining seen after each call (e.g. for redisfleet_api_ratelimit_remaining).
class HerokuClientFactory final : public HerokuApiFactory {
 public:
  HerokuClientFactory(std::shared_ptr<Clock> clock, heroku::HerokuClientOptions base = {},
                      std::function<void(int64_t)> on_rate_limit = {});
  StatusOr<std::shared_ptr<HerokuApi>> For(const std::string& api_url, const std::string& api_key) override;

 private:
  std::shared_ptr<Clock> clock_;
  heroku::HerokuClientOptions base_;
  std::function<void(int64_t)> on_rate_limit_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<HerokuApi>> clients_;
};

struct HerokuActuatorOptions {
  // Requeue while a plan change is provisioning.
  std::chrono::milliseconds resizing_poll{3000};
  // Re-check of a Ready add-on (plan, URL rotation) without any event.
  std::chrono::milliseconds health_interval{30000};
  // Retry of an instance that cannot be served yet (missing key, unknown add-on).
  std::chrono::milliseconds pending_retry{10000};
};

// Converges one Heroku RedisInstance per call, never waiting on provisioning (level-triggered):
//   GetAddon; the plan in effect and its capacity (KnownPlanCapacity; unknown: 0 and the Placed
//   condition says so, reason CapacityUnknown); a wanted plan that differs -> ChangePlan, phase
//   Resizing, Scaled Unknown (Resizing); provisioning -> Resizing; provisioned -> the config var
//   re-read, endpoint/url (rediss://host:port, never the password) and the connection secret
//   (host, port, password, url) updated when they changed, phase Ready; at the wanted plan
//   Scaled True (Resized when the plan changed since the last look).
// A refused change (422, deprovisioned, other non-retryable errors) is Scaled False reason
// PlanChangeFailed with Heroku's message, a fresh transition each time, kept until a later
// change succeeds; the phase stays Ready while the add-on serves. Transient errors
// (kUnavailable, kDeadlineExceeded, kResourceExhausted, kConflict) are returned for backoff.
// Secrets (API key, password) never reach a log or a status.
// Thread-safe (no state of its own).
class HerokuActuator {
 public:
  HerokuActuator(std::shared_ptr<HerokuApiFactory> factory, std::shared_ptr<store::SecretStore> secrets,
                 std::shared_ptr<const Clock> clock, std::shared_ptr<Logger> logger,
                 HerokuActuatorOptions options = {});

  // `wanted_plan`: the plan the instance should run (short name, e.g. "premium-0"); empty = the
  // plan in effect. Fills `st` (the caller writes it); a returned error leaves `st` as far as it
  // got (the caller writes it too).
  StatusOr<runtime::Result> Reconcile(const api::RedisInstance& ri, const std::string& wanted_plan,
                                      api::RedisInstanceStatus& st);

 private:
  void Set(api::RedisInstanceStatus& st, const std::string& type, bool ok, std::string reason,
           std::string message, int64_t generation) const;

  std::shared_ptr<HerokuApiFactory> factory_;
  std::shared_ptr<store::SecretStore> secrets_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Logger> log_;
  HerokuActuatorOptions options_;
};

// True for the error codes a Heroku call may succeed on later without anyone changing anything.
bool IsTransientHerokuError(const Status& s);

}  // namespace redisfleet::controllers
