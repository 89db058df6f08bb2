#include "server/http_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "common/clock.h"
#include "common/logging.h"

namespace redisfleet::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kDeadline = std::chrono::seconds(10);

// Collects log lines; WaitFor blocks until one contains `needle` or the deadline passes.
class LogCapture {
 public:
  std::shared_ptr<Logger> logger(LogLevel level = LogLevel::kDebug) {
    return std::make_shared<Logger>(LogFormat::kText, level, std::make_shared<RealClock>(),
                                    [this](const std::string& line) {
                                      std::lock_guard<std::mutex> lock(mu_);
                                      lines_.push_back(line);
                                      cv_.notify_all();
                                    });
  }
  std::string WaitFor(const std::string& needle) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, kDeadline, [&] {
      for (const std::string& l : lines_) {
        if (l.find(needle) != std::string::npos) {
          found = l;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const std::string& l : lines_) out += l + "\n";
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

std::unique_ptr<httplib::Client> ClientFor(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(2, 0);
  c->set_read_timeout(5, 0);
  return c;
}

TEST(HttpServerTest, HealthAndReadinessFollowTheCallbacks) {
  std::atomic<bool> alive{true};
  std::atomic<bool> ready{false};
  HttpServer s("probes", Logger::Null());
  AddHealthRoutes(s, [&] { return alive.load(); }, [&] { return ready.load(); });
  ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
  ASSERT_GT(s.port(), 0);
  auto client = ClientFor(s.port());

  struct Step {
    std::string name;
    bool alive;
    bool ready;
    std::string path;
    int want_status;
    std::string want_body;
  };
  const std::vector<Step> steps = {
      {"alive", true, false, "/healthz", 200, "ok"},
      {"not ready yet", true, false, "/readyz", 503, "not ready"},
      {"ready", true, true, "/readyz", 200, "ready"},
      {"not alive", false, true, "/healthz", 503, "not ok"},
      {"ready again false", false, false, "/readyz", 503, "not ready"},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.name);
    alive = step.alive;
    ready = step.ready;
    auto res = client->Get(step.path.c_str());
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, step.want_status);
    EXPECT_EQ(res->body, step.want_body);
  }
  auto missing = client->Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpServerTest, ThrowingProbeCountsAsFalse) {
  HttpServer s("probes", Logger::Null());
  AddHealthRoutes(s, []() -> bool { throw std::runtime_error("boom"); }, nullptr);
  ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
  auto client = ClientFor(s.port());
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  auto ready = client->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

TEST(HttpServerTest, MetricsRouteServesTextFormat) {
  std::atomic<int> calls{0};
  HttpServer s("metrics", Logger::Null());
  AddMetricsRoute(s, [&] {
    ++calls;
    return std::string("# TYPE redisfleet_leader gauge\nredisfleet_leader 1\n");
  });
  ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
  auto res = ClientFor(s.port())->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, "# TYPE redisfleet_leader gauge\nredisfleet_leader 1\n");
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, ThrowingHandlerAnswers500WithoutDetails) {
  LogCapture logs;
  HttpServer s("api", logs.logger());
  AddMetricsRoute(s, []() -> std::string { throw std::runtime_error("password=hunter2"); });
  s.raw().Get("/raw", [](const httplib::Request&, httplib::Response&) {
    throw std::runtime_error("token hunter2");
  });
  ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
  auto client = ClientFor(s.port());
  for (const char* path : {"/metrics", "/raw"}) {
    SCOPED_TRACE(path);
    auto res = client->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 500);
    EXPECT_THAT(res->body, Not(HasSubstr("hunter2")));
    for (const auto& [key, value] : res->headers) EXPECT_THAT(value, Not(HasSubstr("hunter2")));
  }
  EXPECT_NE(logs.WaitFor("path=/raw"), "");
  EXPECT_THAT(logs.All(), Not(HasSubstr("hunter2")));
}

TEST(HttpServerTest, BadAddressesAreInvalidArgument) {
  const std::vector<std::string> bad = {"",           "127.0.0.1",       "127.0.0.1:",
                                        "127.0.0.1:x", "127.0.0.1:70000", "127.0.0.1:-1",
                                        "127.0.0.1:80a", "[::1",          "[::1]",
                                        "::1:80",     "[]:80",           "127.0.0.1:000080000"};
  for (const std::string& addr : bad) {
    SCOPED_TRACE(addr);
    HttpServer s("bad", Logger::Null());
    const Status st = s.Start(addr);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_EQ(s.port(), 0);
  }
}

TEST(HttpServerTest, BindFailureIsUnavailableAndNamesTheAddress) {
  HttpServer first("first", Logger::Null());
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  struct Case {
    std::string name;
    std::string addr;
  };
  const std::vector<Case> cases = {
      {"port in use", taken},
      {"address not on this machine", "203.0.113.5:0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpServer s("second", Logger::Null());
    const Status st = s.Start(c.addr);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    EXPECT_THAT(st.message(), HasSubstr(c.addr));
  }
  // The first server is unaffected.
  auto res = ClientFor(first.port())->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(HttpServerTest, TwoServersOnDifferentPorts) {
  HttpServer a("a", Logger::Null());
  HttpServer b("b", Logger::Null());
  AddMetricsRoute(a, [] { return std::string("from a"); });
  AddMetricsRoute(b, [] { return std::string("from b"); });
  ASSERT_TRUE(a.Start("127.0.0.1:0").ok());
  ASSERT_TRUE(b.Start("127.0.0.1:0").ok());
  ASSERT_NE(a.port(), b.port());
  auto ra = ClientFor(a.port())->Get("/metrics");
  auto rb = ClientFor(b.port())->Get("/metrics");
  ASSERT_TRUE(ra);
  ASSERT_TRUE(rb);
  EXPECT_EQ(ra->body, "from a");
  EXPECT_EQ(rb->body, "from b");
}

TEST(HttpServerTest, StopIsPromptAndAFreshServerReusesThePort) {
  int port = 0;
  {
    HttpServer s("first", Logger::Null());
    AddHealthRoutes(s, [] { return true; }, [] { return true; });
    ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
    port = s.port();
    // A keep-alive client holding its connection open must not hold Stop up.
    httplib::Client keep("127.0.0.1", port);
    keep.set_keep_alive(true);
    auto res = keep.Get("/healthz");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);

    const auto before = std::chrono::steady_clock::now();
    s.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
    s.Stop();  // idempotent
    EXPECT_EQ(s.Start("127.0.0.1:0").code(), StatusCode::kFailedPrecondition);
    auto after = ClientFor(port)->Get("/healthz");
    EXPECT_FALSE(after) << "still serving after Stop";
  }
  HttpServer again("again", Logger::Null());
  AddHealthRoutes(again, [] { return true; }, [] { return false; });
  ASSERT_TRUE(again.Start("127.0.0.1:" + std::to_string(port)).ok());
  EXPECT_EQ(again.port(), port);
  auto res = ClientFor(port)->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
}

TEST(HttpServerTest, StartThenStopRightAwayNeverHangs) {
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    HttpServer s("churn", Logger::Null());
    ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
    const auto before = std::chrono::steady_clock::now();
    s.Stop();
    ASSERT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
  }
}

TEST(HttpServerTest, DestructorWithoutStartIsFine) {
  HttpServer s("never", Logger::Null());
  EXPECT_EQ(s.port(), 0);
}

TEST(HttpServerTest, RequestsAreLoggedAtDebugWithoutQueryStrings) {
  LogCapture logs;
  HttpServer s("logged", logs.logger(LogLevel::kDebug));
  AddHealthRoutes(s, [] { return true; }, [] { return true; });
  ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
  auto res = ClientFor(s.port())->Get("/healthz?token=s3cr3t-value");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string line = logs.WaitFor("path=/healthz");
  ASSERT_NE(line, "") << logs.All();
  EXPECT_THAT(line, HasSubstr("status=200"));
  EXPECT_THAT(line, HasSubstr("duration_ms="));
  EXPECT_THAT(line, HasSubstr("server=logged"));
  EXPECT_THAT(logs.All(), Not(HasSubstr("s3cr3t")));
}

TEST(HttpServerTest, RequestsAreNotLoggedAboveDebug) {
  LogCapture logs;
  {
    HttpServer s("quiet", logs.logger(LogLevel::kInfo));
    AddHealthRoutes(s, [] { return true; }, [] { return true; });
    ASSERT_TRUE(s.Start("127.0.0.1:0").ok());
    auto res = ClientFor(s.port())->Get("/healthz");
    ASSERT_TRUE(res);
  }
  // Stop joined every worker, so any request line would already be there.
  EXPECT_NE(logs.WaitFor("http server stopped"), "");
  EXPECT_THAT(logs.All(), Not(HasSubstr("path=/healthz")));
}

}  // namespace
}  // namespace redisfleet::server
