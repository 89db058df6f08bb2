#include "http/http_client.h"

#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include "support/wait.h"

namespace redisfleet::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Polls `cond` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  return redisfleet::testing::WaitUntil(cond, timeout);
}

// A cpp-httplib server on 127.0.0.1:0 (or a unix socket) run by one thread, stopped and joined
// on destruction.
class TestServer {
 public:
  httplib::Server server;

  void StartTcp() {
    port_ = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    Run();
  }
  void StartUnix(const std::string& path) {
    ::unlink(path.c_str());
    server.set_address_family(AF_UNIX);
    ASSERT_TRUE(server.bind_to_port(path, 80));
    Run();
  }
  ~TestServer() {
    server.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Run() {
    thread_ = std::thread([this] { server.listen_after_bind(); });
    ASSERT_TRUE(WaitFor([this] { return server.is_running(); }, std::chrono::seconds(5)));
  }
  int port_ = 0;
  std::thread thread_;
};

// A port on 127.0.0.1 with nothing listening.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

void EchoHandler(const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Method", req.method);
  res.set_header("X-Content-Type", req.has_header("Content-Type") ? req.get_header_value("Content-Type") : "<none>");
  res.set_header("X-Custom", req.get_header_value("X-Custom"));
  res.set_header("X-Auth", req.get_header_value("Authorization"));
  res.set_header("X-Query", req.get_param_value("q"));
  res.set_header("Set-Cookie", "a=1");
  res.set_header("Set-Cookie", "b=2");
  if (req.method != "HEAD") res.set_content("body=" + req.body, "text/plain");
}

void RegisterEcho(httplib::Server& server) {
  server.Get("/echo", EchoHandler);
  server.Post("/echo", EchoHandler);
  server.Put("/echo", EchoHandler);
  server.Patch("/echo", EchoHandler);
  server.Delete("/echo", EchoHandler);
  server.Options("/echo", EchoHandler);
}

TEST(PercentEncode, KeepsUnreservedAndEncodesEverythingElse) {
  EXPECT_EQ(PercentEncode("redisfleet-pool:default:a_b.c~d"), "redisfleet-pool%3Adefault%3Aa_b.c~d");
  EXPECT_EQ(PercentEncode("a b&c=d/e?\xff"), "a%20b%26c%3Dd%2Fe%3F%FF");
  EXPECT_EQ(PercentEncode("app:name~x", "-_.:"), "app:name%7Ex");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(HttpClientTest, MethodsBodiesAndHeaders) {
  TestServer ts;
  RegisterEcho(ts.server);
  ts.StartTcp();
  HttpClient client({.base_url = ts.base() + "/"});

  struct Case {
    std::string method;
    std::string body;
    std::string want_body;
  };
  const Case cases[] = {
      {"GET", "", "body="},
      {"POST", R"({"a":1})", R"(body={"a":1})"},
      {"POST", "", "body="},
      {"PUT", "x", "body=x"},
      {"PATCH", "y", "body=y"},
      {"DELETE", "", "body="},
      {"HEAD", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " body=" + c.body);
    HttpRequest req{.method = c.method,
                    .path_and_query = "/echo?q=v%201",
                    .headers = {{"X-Custom", "hello"}},
                    .body = c.body};
    auto res = client.Do(req);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, c.want_body);
    EXPECT_EQ(res->Header("x-method"), c.method);
    EXPECT_EQ(res->Header("X-Custom"), "hello");
    EXPECT_EQ(res->Header("x-query"), "v 1");
    // A body without an explicit type is not turned into a form post by curl.
    EXPECT_EQ(res->Header("x-content-type"), "<none>");
    EXPECT_EQ(res->headers.count("set-cookie"), 2u);
    EXPECT_EQ(res->Header("X-Auth"), "");
  }
}

TEST(HttpClientTest, ContentTypeIsSentWhenGiven) {
  TestServer ts;
  RegisterEcho(ts.server);
  ts.StartTcp();
  HttpClient client({.base_url = ts.base()});
  auto res = client.Do({.method = "POST",
                        .path_and_query = "echo",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = "{}"});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->Header("x-content-type"), "application/json");
  EXPECT_EQ(res->body, "body={}");
}

TEST(HttpClientTest, NonSuccessStatusIsAResponse) {
  TestServer ts;
  ts.server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"message":"No such container: x"})", "application/json");
  });
  ts.server.Get("/broken", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  ts.StartTcp();
  HttpClient client({.base_url = ts.base()});
  for (auto [path, want] : {std::pair<std::string, long>{"/missing", 404}, {"/broken", 503}}) {
    SCOPED_TRACE(path);
    auto res = client.Do({.path_and_query = path});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, want);
  }
}

TEST(HttpClientTest, BasicAuthAndBearerTokenAreSent) {
  TestServer ts;
  RegisterEcho(ts.server);
  ts.StartTcp();
  {
    HttpClient client({.base_url = ts.base(), .basic_auth = "alice:s3cret-pw"});
    auto res = client.Do({.path_and_query = "/echo"});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->Header("x-auth"), "Basic YWxpY2U6czNjcmV0LXB3");  // base64("alice:s3cret-pw")
  }
  {
    HttpClient client({.base_url = ts.base(), .bearer_token = "tok-123"});
    auto res = client.Do({.path_and_query = "/echo"});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->Header("x-auth"), "Bearer tok-123");
  }
}

TEST(HttpClientTest, TimeoutIsDeadlineExceeded) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  TestServer ts;
  ts.server.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    res.set_content("late", "text/plain");
  });
  ts.StartTcp();
  HttpClient client({.base_url = ts.base()});
  auto res = client.Do({.path_and_query = "/slow", .timeout = std::chrono::milliseconds(200)});
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), StatusCode::kDeadlineExceeded) << res.error().ToString();
  EXPECT_THAT(res.error().message(), HasSubstr("GET " + ts.base() + "/slow"));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  const std::string base = "http://127.0.0.1:" + std::to_string(ClosedPort());
  HttpClient client({.base_url = base});
  auto res = client.Do({.method = "DELETE", .path_and_query = "/containers/x?force=1"});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(res.error().message(), HasSubstr("DELETE " + base + "/containers/x?force=1"));
}

TEST(HttpClientTest, ErrorsNeverContainCredentials) {
  const std::string port = std::to_string(ClosedPort());
  struct Case {
    std::string name;
    HttpClientOptions options;
    std::string secret;
  };
  const Case cases[] = {
      {"basic auth", {.base_url = "http://127.0.0.1:" + port, .basic_auth = "bob:pw-Zq81xx"}, "pw-Zq81xx"},
      {"bearer", {.base_url = "http://127.0.0.1:" + port, .bearer_token = "tok-Zq81yy"}, "tok-Zq81yy"},
      {"userinfo in URL", {.base_url = "http://bob:url-Zq81zz@127.0.0.1:" + port}, "url-Zq81zz"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpClient client(c.options);
    auto res = client.Do({.path_and_query = "/x"});
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().code(), StatusCode::kUnavailable);
    EXPECT_THAT(res.error().message(), Not(HasSubstr(c.secret)));
    EXPECT_THAT(client.display_base(), Not(HasSubstr(c.secret)));
  }
}

TEST(HttpClientTest, UnixSocket) {
  const std::string path = "/tmp/rf-http-test-" + std::to_string(::getpid()) + ".sock";
  {
    TestServer ts;
    RegisterEcho(ts.server);
    ts.StartUnix(path);
    HttpClient client({.base_url = "unix://" + path});
    auto res = client.Do({.method = "POST", .path_and_query = "/echo", .body = "over-unix"});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "body=over-unix");
  }
  ::unlink(path.c_str());
  HttpClient gone({.base_url = "unix://" + path});
  auto res = gone.Do({.path_and_query = "/_ping"});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(res.error().message(), HasSubstr("GET unix://" + path + "/_ping"));
}

TEST(HttpClientTest, MalformedRequestsAreInvalidArgument) {
  HttpClient client({.base_url = "http://127.0.0.1:1"});
  struct Case {
    std::string name;
    HttpRequest request;
  };
  const Case cases[] = {
      {"header injection", {.path_and_query = "/", .headers = {{"X-A", "v\r\nX-B: w"}}}},
      {"header name with colon", {.path_and_query = "/", .headers = {{"X:A", "v"}}}},
      {"path with space", {.path_and_query = "/a b"}},
      {"empty method", {.method = "", .path_and_query = "/"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto res = client.Do(c.request);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().code(), StatusCode::kInvalidArgument);
  }
  HttpClient no_base({.base_url = ""});
  auto res = no_base.Do({});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, StatusFromHttp) {
  struct Case {
    long status;
    StatusCode want;
  };
  const Case cases[] = {
      {200, StatusCode::kOk},
      {204, StatusCode::kOk},
      {304, StatusCode::kOk},
      {400, StatusCode::kInvalidArgument},
      {401, StatusCode::kUnauthenticated},
      {403, StatusCode::kPermissionDenied},
      {404, StatusCode::kNotFound},
      {408, StatusCode::kDeadlineExceeded},
      {409, StatusCode::kConflict},
      {412, StatusCode::kFailedPrecondition},
      {418, StatusCode::kInvalidArgument},
      {429, StatusCode::kResourceExhausted},
      {500, StatusCode::kUnavailable},
      {502, StatusCode::kUnavailable},
      {503, StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    Status s = HttpClient::StatusFromHttp(c.status, "why");
    EXPECT_EQ(s.code(), c.want);
    if (!s.ok()) {
      EXPECT_EQ(s.message(), "HTTP " + std::to_string(c.status) + ": why");
    }
  }
}

}  // namespace
}  // namespace redisfleet::http
