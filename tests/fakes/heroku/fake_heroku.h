#pragma once
// A fake of the Heroku Platform API for tests (reference external-apis.md section 2): add-ons
// (GET/PATCH by app + add-on name or id, GET /addons/{addon}), app config vars, add-on service
// plans with Range paging (206 + Next-Range), /account/rate-limits. Faithful where clients can
// tell: 406 without the v3 Accept header, 401 without or with a wrong Bearer, {id,message,url}
// error bodies, RateLimit-Remaining on every response and a token pool that answers 429
// rate_limit when empty. A PATCH leaves the add-on `provisioning` for a configurable time; when
// it becomes `provisioned` the fake applies the plan's capacity to the add-on's REAL
// redis-server (CONFIG SET maxmemory/maxclients over its plain admin port) and, with
// rotate_url_on_change, rotates the password (CONFIG SET requirepass) and REDIS_URL.
//
// Heroku's `Range: id ..; max=N;` is not an HTTP byte range, and cpp-httplib answers 416 to any
// Range it cannot parse before a handler runs. So the public port is a small TCP front that
// renames the request header to X-Heroku-Range and relays to the cpp-httplib server on an
// internal loopback port; responses pass through unchanged.
//
// Thread-safety: every public method is thread-safe. Start() launches the listener threads (and
// one relay thread per client connection); Stop() joins them.

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace redisfleet::fakes {

// A redis-server started by the test that backs an add-on.
struct FakeRedisBackend {
  std::string host = "127.0.0.1";
  int tls_port = 0;     // what REDIS_URL points at (rediss://)
  int admin_port = 0;   // plain port the fake uses for CONFIG SET
  std::string password;
};

struct FakeHerokuPlan {
  std::string name;  // short, e.g. "premium-0"
  std::string human_name;
  int64_t cents = 0;  // per month
  int64_t memory_mib = 0;
  int64_t max_clients = 0;
};

struct FakeAddonSetup {
  std::string app;
  std::string name;
  std::string id;  // empty: generated
  std::string service = "heroku-redis";
  std::string plan = "mini";  // short plan name; must be a plan of `service`
  std::string config_var = "REDIS_URL";
  std::optional<FakeRedisBackend> backend;  // none: plan changes only change the record
  bool rotate_url_on_change = false;
  bool plan_change_supported = true;  // false: PATCH answers 422
  std::string state = "provisioned";
};

class FakeHeroku {
 public:
  struct Options {
    std::string api_key = "fake-heroku-key";
    int64_t rate_limit_pool = 4500;       // tokens (also the starting amount)
    double refill_per_second = 75.0 / 60;  // Heroku: ~75 per minute
    std::chrono::milliseconds provisioning_time{300};
    // Sent as Retry-After (seconds) with 429s when > 0; Heroku itself sends none.
    int retry_after_seconds = 0;
    std::size_t worker_threads = 8;
  };

  struct LogEntry {
    std::string method;
    std::string path;
    int status = 0;
    std::string request_id;  // as the client sent it
    std::string user_agent;
  };

  FakeHeroku();
  explicit FakeHeroku(Options options);
  ~FakeHeroku();  // Stop()
  FakeHeroku(const FakeHeroku&) = delete;
  FakeHeroku& operator=(const FakeHeroku&) = delete;

  // Binds "127.0.0.1:PORT" (0 picks one) and serves until Stop. Unavailable on bind failure.
  Status Start(const std::string& addr = "127.0.0.1:0");
  void Stop();
  int port() const { return port_.load(); }
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Replaces the plans of `service`. The fake starts with DefaultRedisPlans() for heroku-redis.
  void SetPlans(const std::string& service, std::vector<FakeHerokuPlan> plans);
  static std::vector<FakeHerokuPlan> DefaultRedisPlans();

  // Adds an add-on (and sets its config var to the backend's rediss:// URL when it has one).
  // Returns the add-on id. InvalidArgument for an unknown plan or a duplicate name.
  StatusOr<std::string> AddAddon(FakeAddonSetup setup);
  Status SetAddonState(const std::string& addon, const std::string& state);
  void SetConfigVar(const std::string& app, const std::string& name, const std::string& value);
  std::optional<std::string> ConfigVar(const std::string& app, const std::string& name) const;
  // The backend password as the fake last set it (after rotations).
  std::optional<std::string> BackendPassword(const std::string& addon) const;
  std::optional<std::string> AddonPlan(const std::string& addon) const;  // short name

  // Fault injection. The next `n` requests (after auth and rate limiting) answer `status`
  // with {id, message}.
  void FailNext(int n, int status, std::string id, std::string message);
  // The next `n` requests are answered after `delay`.
  void SlowNext(int n, std::chrono::milliseconds delay);
  // Rate limiter: tokens now and the refill rate.
  void SetRateLimit(double remaining, double refill_per_second);

  std::vector<LogEntry> RequestLog() const;
  void ClearLog();

 private:
  struct Addon {
    FakeAddonSetup setup;
    std::string id;
    std::string plan;  // short
    std::string state;
    std::string pending_plan;  // set while provisioning
    std::chrono::steady_clock::time_point ready_at{};
    std::string created_at;
  };

  void AcceptLoop();
  void RelayConnection(int client_fd);
  void Handle(const httplib::Request& req, httplib::Response& res);
  void Route(const httplib::Request& req, httplib::Response& res);
  void Error(httplib::Response& res, int status, const std::string& id, const std::string& message);
  // Requires mu_. Finishes a due provisioning (backend CONFIG SET, rotation).
  void Settle(Addon& a);
  Addon* FindLocked(const std::string& app, const std::string& addon);
  nlohmann::json AddonJson(const Addon& a) const;
  void RefillLocked();
  std::string NewPassword();

  Options options_;
  httplib::Server server_;
  std::thread listener_;
  std::atomic<int> port_{0};
  int internal_port_ = 0;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::mutex relays_mu_;
  std::condition_variable relays_cv_;
  int active_relays_ = 0;  // guarded by relays_mu_
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::map<std::string, std::vector<FakeHerokuPlan>> plans_;  // service -> plans
  std::vector<Addon> addons_;
  std::map<std::string, std::map<std::string, std::string>> config_vars_;  // app -> vars
  std::map<std::string, std::string> backend_passwords_;  // "host:admin_port" -> password
  double tokens_ = 0;
  double refill_per_second_ = 0;
  std::chrono::steady_clock::time_point last_refill_;
  int fail_n_ = 0;
  int fail_status_ = 500;
  std::string fail_id_, fail_message_;
  int slow_n_ = 0;
  std::chrono::milliseconds slow_delay_{0};
  std::vector<LogEntry> log_;
  uint64_t next_id_ = 1;
};

}  // namespace redisfleet::fakes
