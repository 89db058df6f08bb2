#pragma once
// A scriptable cpp-httplib server on 127.0.0.1 for the kube client tests: each test installs
// the handler it needs; every request is recorded with the FakeClock time it arrived at.
// Started once per test binary (see Stub()).

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "support/wait.h"

namespace redisfleet::kube::testing {

struct Recorded {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string authorization;
  std::string content_type;
  std::string body;
  TimePoint at;  // the test clock's time when it arrived

  std::string Param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? "" : it->second;
  }
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

class StubServer {
 public:
  StubServer() {
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        Recorded r{req.method, req.path, {}, req.get_header_value("Authorization"),
                   req.get_header_value("Content-Type"), req.body,
                   clock_ ? clock_->Now() : TimePoint()};
        for (const auto& [k, v] : req.params) r.params.emplace(k, v);
        requests_.push_back(std::move(r));
        handler = handler_;
      }
      if (handler) handler(req, res);
    };
    server_.Get(".*", dispatch);
    server_.Post(".*", dispatch);
    server_.Put(".*", dispatch);
    server_.Patch(".*", dispatch);
    server_.Delete(".*", dispatch);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    redisfleet::testing::WaitUntil([this] { return server_.is_running(); });
  }
  ~StubServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Installs `handler` and the clock requests are stamped with; forgets earlier requests.
  void Reset(Handler handler, const Clock* clock = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
    clock_ = clock;
    ++generation_;
    requests_.clear();
  }
  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  // Changes on every Reset: long-running handlers (idle watch streams) end when it does.
  int generation() const { return generation_.load(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool running() const { return port_ > 0 && server_.is_running(); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  Handler handler_;
  const Clock* clock_ = nullptr;
  std::vector<Recorded> requests_;
  std::atomic<int> generation_{0};
};

}  // namespace redisfleet::kube::testing
