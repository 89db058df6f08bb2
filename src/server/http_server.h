#pragma once
// HTTP serving on cpp-httplib: a server with an explicit Start/Stop lifecycle, and the
// /healthz, /readyz and /metrics routes.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"

namespace redisfleet::server {

// One listening address served by cpp-httplib. Threads: Start() launches one listener thread,
// which runs a pool of kWorkerThreads request workers; Stop() (and the destructor) stops and
// joins them all. Start/Stop/port are thread-safe. Each request is logged at debug level with
// its path (never the query string), status and duration. A handler that throws answers 500
// "internal error" without revealing the exception.
class HttpServer {
 public:
  static constexpr std::size_t kWorkerThreads = 4;
  // Idle keep-alive connections and silent clients are dropped after this, bounding Stop().
  static constexpr int kIdleTimeoutSeconds = 1;

  // `clock` times requests for the debug log; RealClock when null.
  HttpServer(std::string name, std::shared_ptr<Logger> logger,
             std::shared_ptr<const Clock> clock = nullptr);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register routes here before Start. The pre-routing handler, logger and exception handler
  // are this class's; do not replace them.
  httplib::Server& raw() { return server_; }

  // Binds `addr` ("127.0.0.1:9090", "[::1]:0", ":9090" for every interface; port 0 picks a free
  // port) and serves until Stop. Returns once the socket is bound and accepting connections.
  // InvalidArgument on a malformed address, Unavailable when the bind fails (the message names
  // the address), FailedPrecondition when this object was already started.
  Status Start(const std::string& addr);
  // The bound port after a successful Start, else 0.
  int port() const;
  // Stops listening, waits for in-flight requests and joins all threads. Idempotent.
  void Stop();

 private:
  void LogRequest(const httplib::Request& req, const httplib::Response& res);

  const std::string name_;
  std::shared_ptr<Logger> logger_;
  std::shared_ptr<const Clock> clock_;
  httplib::Server server_;

  mutable std::mutex mu_;  // serialises Start/Stop
  bool started_ = false;   // guarded by mu_
  std::thread listener_;   // guarded by mu_
  std::atomic<int> port_{0};
  std::atomic<bool> listener_done_{false};

  std::mutex starts_mu_;
  std::map<const httplib::Request*, TimePoint> starts_;  // guarded by starts_mu_; debug only
};

// GET /healthz: 200 "ok" while `alive()` is true, else 503 "not ok".
// GET /readyz: 200 "ready" while `ready()` is true, else 503 "not ready".
// A callback that throws counts as false.
void AddHealthRoutes(HttpServer& s, std::function<bool()> alive, std::function<bool()> ready);

// GET /metrics: 200, Content-Type "text/plain; version=0.0.4; charset=utf-8", body = text().
// 500 if text() throws.
void AddMetricsRoute(HttpServer& s, std::function<std::string()> text);

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace redisfleet::server
