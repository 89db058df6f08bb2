#pragma once
// A fake of the DigitalOcean API v2 droplet endpoints for tests (reference external-apis.md
// section 1): POST /v2/droplets (single create, 202, status "new"), GET /v2/droplets (tag_name or
// name filter, page/per_page, links.pages + meta.total), GET/DELETE /v2/droplets/{id},
// DELETE /v2/droplets?tag_name=, GET /v2/sizes. Faithful where a client can tell: Bearer auth
// (401 unauthorized), {id,message[,request_id]} error bodies, ratelimit-* headers on every
// response, rolling per-token budgets (per minute and per hour) answering 429 too_many_requests
// (+ retry-after for the minute budget), 204 deletes with an empty body.
//
// A droplet becomes "active" `active_delay` after its creation (evaluated when read, steady
// clock); only then does networks.v4 hold its public and private address. Droplets can be backed
// by real Docker daemons the test started: a new droplet takes the first free backing slot and
// its public address is the slot's address; with no free slot it gets an unbacked 127.0.0.2xx
// address. Deleting a backed droplet removes every container on its daemon (force, volumes)
// before the 204, so the "machine" is really gone.
//
// Faults (settable at runtime, deterministic with the seed): a fraction of requests answered
// 500, dropped (headers, then the connection closes before the body: a transport error for the
// client), or slowed; creates that commit and then drop the connection (the ambiguous case);
// InjectNext for exact sequences.
//
// Thread-safety: every public method is thread-safe. Start() launches the server threads; Stop()
// joins them.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/status.h"

namespace redisfleet::fakes {

// A "machine" behind droplets: a Docker daemon the test started, addressed as `address`.
struct FakeBacking {
  std::string address;          // public ipv4 of the droplet that takes this slot
  std::string docker_endpoint;  // unix:///... or tcp://...
};

// A droplet as the fake holds it.
struct FakeDroplet {
  int64_t id = 0;
  std::string name;
  std::string status;  // "new" or "active" (as a reader would see it now)
  std::vector<std::string> tags;
  std::string region;
  std::string size_slug;
  std::string image;
  std::string user_data;
  std::string vpc_uuid;
  std::string public_ipv4;   // assigned at creation; shown in networks once active
  std::string private_ipv4;
  std::string created_at;    // RFC 3339
  int backing = -1;          // index into Options::backing, -1 unbacked
  std::chrono::steady_clock::time_point active_at{};
};

struct FakeSize {
  std::string slug;
  int64_t memory_mb = 0;
  int64_t vcpus = 0;
  int64_t disk_gb = 0;
  double transfer_tb = 0;
  double price_monthly = 0;
  std::string description;
};

class FakeDigitalOcean {
 public:
  struct Options {
    std::string token = "fake-do-token";
    std::chrono::milliseconds active_delay{500};
    int64_t per_minute = 250;  // rolling budgets per token
    int64_t per_hour = 5000;
    std::vector<FakeBacking> backing;
    double failure_rate = 0;  // fraction answered 500 server_error
    double drop_rate = 0;     // fraction whose connection is closed without a body
    double slow_rate = 0;     // fraction answered after slow_delay
    std::chrono::milliseconds slow_delay{200};
    uint64_t seed = 1;
    std::size_t worker_threads = 8;
  };

  struct LogEntry {
    std::string method;
    std::string path;   // with the query string
    std::string route;  // template: "/v2/droplets", "/v2/droplets/{id}", "/v2/sizes", "other"
    int status = 0;     // 0: connection dropped
    std::chrono::system_clock::time_point time{};
  };

  FakeDigitalOcean();
  explicit FakeDigitalOcean(Options options);
  ~FakeDigitalOcean();  // Stop()
  FakeDigitalOcean(const FakeDigitalOcean&) = delete;
  FakeDigitalOcean& operator=(const FakeDigitalOcean&) = delete;

  // Binds "HOST:PORT" (0 picks one) and serves until Stop. Unavailable on bind failure.
  Status Start(const std::string& addr = "127.0.0.1:0");
  void Stop();
  int port() const { return port_.load(); }
  std::string url() const;  // "http://HOST:PORT"

  static std::vector<FakeSize> DefaultSizes();

  // Runtime settings.
  void SetActiveDelay(std::chrono::milliseconds d);
  void SetRateLimits(int64_t per_minute, int64_t per_hour);
  void ResetRateLimitWindows();  // forgets every counted request
  void SetFailureRate(double r);
  void SetDropRate(double r);
  void SetSlow(double rate, std::chrono::milliseconds delay);
  // The next `count` creates commit the droplet, then drop the connection.
  void DropAfterCommitNext(int count);
  // The next `count` requests (after auth and rate limiting) answer `status` with its canonical
  // error body; status 0 drops the connection instead.
  void InjectNext(int status, int count);

  // Adds a droplet without an API call (no request counted); returns its id. For tests that need
  // many droplets. It takes a backing slot like a create.
  int64_t AddDroplet(const std::string& name, const std::vector<std::string>& tags,
                     const std::string& size = "s-1vcpu-1gb");

  // Inspection.
  std::vector<FakeDroplet> Droplets() const;
  int64_t requests_total() const;
  // Requests by method, route template and status; status -1 counts every status.
  int64_t RequestCount(const std::string& method, const std::string& route, int status = -1) const;
  int64_t created_total() const;
  int64_t deleted_total() const;
  int64_t rate_limited_total() const;  // 429s answered
  std::vector<LogEntry> RequestLog() const;
  void ClearLog();

 private:
  void Handle(const httplib::Request& req, httplib::Response& res);
  // Requires mu_. Routes an authenticated, admitted request; returns the status.
  void Route(const httplib::Request& req, httplib::Response& res, const std::string& route,
             bool drop_after_commit, std::vector<FakeDroplet>* to_delete);
  void Error(httplib::Response& res, int status, const std::string& id, const std::string& message,
             bool with_request_id = false);
  std::string NewRequestId();
  // Requires mu_.
  void SetRateHeadersLocked(httplib::Response& res, const std::string& token,
                            std::chrono::system_clock::time_point now);
  void PruneLocked(const std::string& token, std::chrono::system_clock::time_point now);
  FakeDroplet NewDropletLocked(const std::string& name, const std::vector<std::string>& tags,
                               const std::string& size, const std::string& region,
                               const std::string& image);
  nlohmann::json DropletJson(const FakeDroplet& d) const;
  nlohmann::json SizeJson(const FakeSize& s) const;
  nlohmann::json PageLinks(const std::string& path, const std::string& extra_query, int page,
                           int per_page, int64_t total) const;
  const FakeSize* FindSize(const std::string& slug) const;
  // Without mu_: removes every container on the droplet's backing daemon.
  Status WipeBacking(int backing) const;
  double Roll();  // requires mu_

  Options options_;
  httplib::Server server_;
  std::thread listener_;
  std::atomic<int> port_{0};
  std::string host_ = "127.0.0.1";
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};

  mutable std::mutex mu_;
  std::vector<FakeSize> sizes_;
  std::map<int64_t, FakeDroplet> droplets_;  // by id (ascending = creation order)
  std::set<int> busy_slots_;                 // backing slots of live or deleting droplets
  std::set<int64_t> deleting_;
  std::map<std::string, std::vector<std::chrono::system_clock::time_point>> windows_;  // token -> sends
  std::mt19937_64 rng_;
  int drop_after_commit_ = 0;
  int inject_status_ = 0;
  int inject_count_ = 0;
  int64_t next_id_ = 3164444;
  int64_t unbacked_n_ = 0;
  int64_t requests_total_ = 0;
  int64_t created_total_ = 0;
  int64_t deleted_total_ = 0;
  int64_t rate_limited_total_ = 0;
  uint64_t next_request_ = 1;
  std::map<std::tuple<std::string, std::string, int>, int64_t> counts_;
  std::vector<LogEntry> log_;
};

}  // namespace redisfleet::fakes
