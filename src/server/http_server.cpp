#include "server/http_server.h"

#include <charconv>
#include <chrono>
#include <exception>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <sys/socket.h>

namespace redisfleet::server {
namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

// "host:port", "[v6]:port" or ":port" (every IPv4 interface).
std::optional<HostPort> ParseAddress(std::string_view addr) {
  HostPort out;
  std::string_view port;
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return std::nullopt;
    }
    out.host = std::string(addr.substr(1, close - 1));
    port = addr.substr(close + 2);
    if (out.host.empty()) return std::nullopt;
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = std::string(addr.substr(0, colon));
    port = addr.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return std::nullopt;  // unbracketed IPv6
    if (out.host.empty()) out.host = "0.0.0.0";
  }
  if (port.empty() || port.size() > 5) return std::nullopt;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || end != port.data() + port.size() || out.port < 0 || out.port > 65535) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

HttpServer::HttpServer(std::string name, std::shared_ptr<Logger> logger,
                       std::shared_ptr<const Clock> clock)
    : name_(std::move(name)),
      logger_(logger ? std::move(logger) : Logger::Null()),
      clock_(clock ? std::move(clock) : std::make_shared<RealClock>()) {
  // SO_REUSEADDR (restart while old connections linger) but not httplib's default SO_REUSEPORT,
  // which would let a second server silently share the port.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server_.set_keep_alive_timeout(kIdleTimeoutSeconds);
  server_.set_read_timeout(kIdleTimeoutSeconds, 0);
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    if (logger_->Enabled(LogLevel::kDebug)) {
      const TimePoint now = clock_->Now();
      std::lock_guard<std::mutex> lock(starts_mu_);
      starts_[&req] = now;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { LogRequest(req, res); });
  server_.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        logger_->Error("http handler failed", {{"server", name_}, {"path", req.path}});
        res.status = 500;
        res.set_content("internal error", "text/plain");
      });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::LogRequest(const httplib::Request& req, const httplib::Response& res) {
  std::optional<TimePoint> start;
  {
    std::lock_guard<std::mutex> lock(starts_mu_);
    auto it = starts_.find(&req);
    if (it != starts_.end()) {
      start = it->second;
      starts_.erase(it);
    }
  }
  if (!logger_->Enabled(LogLevel::kDebug)) return;
  LogFields fields = {{"server", name_}, {"method", req.method}, {"path", req.path},
                      {"status", res.status}};
  if (start) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - *start).count();
    fields.emplace_back("duration_ms", static_cast<double>(micros) / 1000.0);
  }
  logger_->Debug("http request", fields);
}

Status HttpServer::Start(const std::string& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return FailedPreconditionError("http server " + name_ + " was already started");
  const std::optional<HostPort> hp = ParseAddress(addr);
  if (!hp) {
    return InvalidArgumentError("http server " + name_ + ": bad listen address \"" + addr +
                                "\" (want host:port)");
  }
  int bound = hp->port;
  if (hp->port == 0) {
    bound = server_.bind_to_any_port(hp->host);
  } else if (!server_.bind_to_port(hp->host, hp->port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return UnavailableError("http server " + name_ + ": cannot listen on " + addr);
  }
  listener_done_ = false;
  try {
    listener_ = std::thread([this] {
      server_.listen_after_bind();
      listener_done_ = true;
    });
  } catch (const std::system_error& e) {
    return InternalError("http server " + name_ + ": cannot start listener thread: " + e.what());
  }
  // stop() is a no-op until the listener has entered its accept loop, so wait for that.
  while (!server_.is_running() && !listener_done_) std::this_thread::yield();
  started_ = true;
  port_ = bound;
  logger_->Info("http server listening", {{"server", name_}, {"addr", addr}, {"port", bound}});
  return Status::Ok();
}

int HttpServer::port() const { return port_; }

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!listener_.joinable()) return;
  server_.stop();
  listener_.join();
  logger_->Info("http server stopped", {{"server", name_}});
}

void AddHealthRoutes(HttpServer& s, std::function<bool()> alive, std::function<bool()> ready) {
  auto probe = [](const std::function<bool()>& fn) {
    try {
      return fn && fn();
    } catch (...) {
      return false;
    }
  };
  s.raw().Get("/healthz", [alive = std::move(alive), probe](const httplib::Request&,
                                                           httplib::Response& res) {
    const bool ok = probe(alive);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok" : "not ok", "text/plain");
  });
  s.raw().Get("/readyz", [ready = std::move(ready), probe](const httplib::Request&,
                                                          httplib::Response& res) {
    const bool ok = probe(ready);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready" : "not ready", "text/plain");
  });
}

void AddMetricsRoute(HttpServer& s, std::function<std::string()> text) {
  s.raw().Get("/metrics", [text = std::move(text)](const httplib::Request&,
                                                  httplib::Response& res) {
    std::string body;
    try {
      if (text) body = text();
    } catch (...) {
      res.status = 500;
      res.set_content("internal error", "text/plain");
      return;
    }
    res.status = 200;
    res.set_content(body, std::string(kMetricsContentType));
  });
}

}  // namespace redisfleet::server
