#include "server/self_service.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "server/http_server.h"
#include "store/file_secrets.h"
#include "store/memory_store.h"

namespace redisfleet::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kPassword[] = "Zq8pW3nR5tY7uI9oP1aS";

// Creates/deletes straight in the MemoryStore, records calls and can fail the next call.
class FakeRequests final : public InstanceRequests {
 public:
  explicit FakeRequests(std::shared_ptr<store::MemoryStore> store) : store_(std::move(store)) {}

  Status Create(const api::RedisInstance& ri) override {
    std::lock_guard<std::mutex> lock(mu_);
    created_.push_back(ri.metadata.name);
    if (next_error_) return TakeError();
    if (store_->Get(api::Kind::kRedisInstance, ri.metadata.key())) {
      return AlreadyExistsError(ri.metadata.key().ToString() + " exists");
    }
    return store_->Apply(ri);
  }
  Status Delete(const api::Key& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    deleted_.push_back(key);
    if (next_error_) return TakeError();
    return store_->Delete(api::Kind::kRedisInstance, key);
  }

  void FailNext(Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    next_error_ = std::move(st);
  }
  std::vector<std::string> created() {
    std::lock_guard<std::mutex> lock(mu_);
    return created_;
  }
  std::vector<api::Key> deleted() {
    std::lock_guard<std::mutex> lock(mu_);
    return deleted_;
  }

 private:
  Status TakeError() {
    Status st = std::move(*next_error_);
    next_error_.reset();
    return st;
  }
  std::shared_ptr<store::MemoryStore> store_;
  std::mutex mu_;
  std::optional<Status> next_error_;
  std::vector<std::string> created_;
  std::vector<api::Key> deleted_;
};

class LogLines {
 public:
  std::shared_ptr<Logger> logger() {
    return std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug,
                                    std::make_shared<RealClock>(), [this](const std::string& line) {
                                      std::lock_guard<std::mutex> lock(mu_);
                                      lines_.push_back(line);
                                    });
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const std::string& l : lines_) out += l + "\n";
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

api::HostPool Pool(const std::string& name, int64_t max_per_requester, int64_t ttl) {
  api::HostPool p;
  p.metadata.name = name;
  p.spec.quota = api::Quota{max_per_requester, ttl};
  return p;
}

class SelfServiceTest : public ::testing::Test {
 protected:
  // Call once per test (after adjusting options_ / the store) before making requests.
  void Start() {
    service_ = std::make_unique<SelfService>(store_, secrets_, requests_, clock_,
                                             std::make_shared<SeededRandom>(42), logs_.logger(),
                                             options_);
    http_ = std::make_unique<HttpServer>("self-service", logs_.logger(), clock_);
    service_->Register(http_->raw());
    ASSERT_TRUE(http_->Start("127.0.0.1:0").ok());
  }

  // A client connecting from `source` (any 127.0.0.0/8 address works on loopback).
  // Sends `request` as raw bytes on a fresh connection and returns everything the server sends
  // until it closes (or 5 s pass): for requests httplib's client would not make.
  std::string RawExchange(const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(http_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::string response;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;  // closed by the server
      response.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return response;
  }

  std::unique_ptr<httplib::Client> Client(const std::string& source = "127.0.0.1") {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", http_->port());
    c->set_interface(source.c_str());
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(5, 0);
    return c;
  }

  // POSTs and returns the new instance's name (asserting 202).
  std::string Request(httplib::Client& c) {
    auto res = c.Post("/v1/instances");
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    if (!res) return "";
    EXPECT_EQ(res->status, 202) << res->body;
    return json::parse(res->body).value("name", "");
  }

  api::RedisInstance Stored(const std::string& name) {
    auto got = store_->Get(api::Kind::kRedisInstance, api::Key{"default", name});
    EXPECT_TRUE(got) << got.error().ToString();
    if (!got) return {};
    return std::get<api::RedisInstance>(*got);
  }

  void SetStatus(const std::string& name, api::Phase phase, const std::string& host = "",
                 int64_t port = 0) {
    api::RedisInstance ri = Stored(name);
    ri.status.phase = phase;
    ri.status.endpoint = api::Endpoint{host, port};
    ri.status.expires_at = clock_->Now() + std::chrono::hours(1);
    ASSERT_TRUE(store_->UpdateStatus(ri).ok());
  }

  void MakeReady(const std::string& name) {
    SetStatus(name, api::Phase::kReady, "10.1.2.3", 6380);
    ASSERT_TRUE(secrets_
                    ->WriteConnection(api::Key{"default", name},
                                      {{"password", kPassword},
                                       {"host", "10.1.2.3"},
                                       {"port", "6380"},
                                       {"url", "redis://10.1.2.3:6380"}})
                    .ok());
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<store::MemoryStore> store_ = std::make_shared<store::MemoryStore>(clock_);
  std::shared_ptr<store::MemorySecretStore> secrets_ = std::make_shared<store::MemorySecretStore>();
  std::shared_ptr<FakeRequests> requests_ = std::make_shared<FakeRequests>(store_);
  SelfServiceOptions options_;
  LogLines logs_;
  std::unique_ptr<SelfService> service_;
  std::unique_ptr<HttpServer> http_;  // declared last: stopped before the service goes
};

TEST_F(SelfServiceTest, CreateAnswers202AndStoresTheInstance) {
  ASSERT_TRUE(store_->Apply(Pool("local", 4, 3600)).ok());
  Start();
  auto res = Client()->Post("/v1/instances");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  const json body = json::parse(res->body);
  const std::string name = body.at("name");
  EXPECT_THAT(name, MatchesRegex("ss-[a-z0-9]{10}"));
  EXPECT_EQ(body.at("status"), "Pending");
  EXPECT_EQ(res->get_header_value("Location"), "/v1/instances/" + name);

  const api::RedisInstance ri = Stored(name);
  EXPECT_EQ(ri.metadata.namespace_, "default");
  EXPECT_EQ(ri.metadata.labels.at("redisfleet.io/self-service"), "true");
  EXPECT_EQ(ri.spec.requester, "127.0.0.1");
  EXPECT_EQ(ri.spec.ttl_seconds, 3600);
  EXPECT_EQ(ri.spec.host_pool, "local");
  EXPECT_EQ(ri.spec.memory_mib, 25);
  EXPECT_EQ(ri.spec.max_clients, 20);
  EXPECT_EQ(requests_->created(), std::vector<std::string>{name});
}

TEST_F(SelfServiceTest, EmbeddedLocalPoolUsesTheDefaultQuota) {
  Start();  // no HostPool in the store: "local" is the embedded pool
  auto client = Client();
  std::vector<std::string> names;
  for (int i = 0; i < 6; ++i) names.push_back(Request(*client));
  EXPECT_EQ(Stored(names.front()).spec.ttl_seconds, 43200);
  auto over = client->Post("/v1/instances");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  EXPECT_EQ(json::parse(over->body).at("error"), "quota exceeded: 6 of 6 instances for 127.0.0.1");
}

TEST_F(SelfServiceTest, QuotaCountsOnlyLiveInstancesOfTheRequesterInThePool) {
  ASSERT_TRUE(store_->Apply(Pool("local", 3, 600)).ok());
  Start();
  auto client = Client();
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) names.push_back(Request(*client));

  auto over = client->Post("/v1/instances");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  EXPECT_EQ(over->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(over->body).at("error"), "quota exceeded: 3 of 3 instances for 127.0.0.1");
  EXPECT_EQ(requests_->created().size(), 3u) << "nothing is created over quota";

  // Another requester has a quota of its own.
  auto other = Client("127.0.0.2");
  const std::string theirs = Request(*other);
  EXPECT_EQ(Stored(theirs).spec.requester, "127.0.0.2");

  // An expired instance no longer counts.
  SetStatus(names[0], api::Phase::kExpired);
  names.push_back(Request(*client));

  // Nor does one being deleted (finalizer still on it).
  {
    api::RedisInstance ri = Stored(names[1]);
    ASSERT_TRUE(store_->SetFinalizers(ri, {"redisfleet.io/cleanup"}).ok());
    ASSERT_TRUE(store_->Delete(api::Kind::kRedisInstance, ri.metadata.key()).ok());
    ASSERT_TRUE(Stored(names[1]).metadata.deleting());
  }
  names.push_back(Request(*client));

  // Nor one whose expiry time has passed before its phase says so.
  SetStatus(names[2], api::Phase::kReady, "10.0.0.1", 7000);
  clock_->Advance(std::chrono::hours(2));
  names.push_back(Request(*client));

  over = client->Post("/v1/instances");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);

  // Instances of the same requester in another pool or namespace are not counted here.
  for (const auto& [ns, pool] : std::vector<std::pair<std::string, std::string>>{
           {"default", "big"}, {"default", "big"}, {"other", "local"}}) {
    api::RedisInstance elsewhere;
    elsewhere.metadata.name = "elsewhere-" + std::to_string(clock_->Now().time_since_epoch().count());
    elsewhere.metadata.namespace_ = ns;
    elsewhere.spec.host_pool = pool;
    elsewhere.spec.requester = "127.0.0.3";
    ASSERT_TRUE(store_->Apply(elsewhere).ok());
    clock_->Advance(std::chrono::seconds(1));
  }
  auto third = Client("127.0.0.3");
  Request(*third);
}

TEST_F(SelfServiceTest, ConcurrentRequestsNeverOverrunTheQuota) {
  ASSERT_TRUE(store_->Apply(Pool("local", 3, 600)).ok());
  Start();
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto res = Client()->Post("/v1/instances");
      if (res && res->status == 202) {
        ++accepted;
      } else if (res && res->status == 429) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 3);
  EXPECT_EQ(refused.load(), 5);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(SelfServiceTest, MissingPoolIs503) {
  options_.pool = "nope";
  Start();
  auto res = Client()->Post("/v1/instances");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(json::parse(res->body).at("error").get<std::string>(), HasSubstr("nope"));
  EXPECT_TRUE(requests_->created().empty());
}

TEST_F(SelfServiceTest, BackendErrorsMapToStatusCodes) {
  Start();
  auto client = Client();
  struct Case {
    std::string name;
    Status error;
    int want;
  };
  const std::vector<Case> cases = {
      {"unavailable", UnavailableError("apiserver down"), 503},
      {"internal", InternalError("bug"), 500},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    requests_->FailNext(c.error);
    auto res = client->Post("/v1/instances");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.want);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_THAT(res->body, Not(HasSubstr(c.error.message()))) << "internals stay in the log";
  }
}

TEST_F(SelfServiceTest, ANameCollisionPicksAnotherName) {
  Start();
  requests_->FailNext(AlreadyExistsError("taken"));
  auto res = Client()->Post("/v1/instances");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202);
  const auto created = requests_->created();
  ASSERT_EQ(created.size(), 2u);
  EXPECT_NE(created[0], created[1]);
  EXPECT_EQ(json::parse(res->body).at("name"), created[1]);
}

TEST_F(SelfServiceTest, GetShowsProgressThenTheConnectionLine) {
  Start();
  auto client = Client();
  const std::string name = Request(*client);
  const std::string path = "/v1/instances/" + name;

  auto pending = client->Get(path.c_str());
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->status, 202);
  EXPECT_EQ(pending->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(pending->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(pending->body), (json{{"name", name}, {"phase", "Pending"}}));

  // Ready but the connection secret not written yet: still waiting, no password.
  SetStatus(name, api::Phase::kReady, "10.1.2.3", 6380);
  auto waiting = client->Get(path.c_str());
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->status, 202);

  MakeReady(name);
  auto ready = client->Get(path.c_str());
  ASSERT_TRUE(ready);
  ASSERT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(ready->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(ready->get_header_value("Content-Type"), "application/json");
  const json body = json::parse(ready->body);
  EXPECT_EQ(body.at("name"), name);
  EXPECT_EQ(body.at("phase"), "Ready");
  EXPECT_EQ(body.at("host"), "10.1.2.3");
  EXPECT_EQ(body.at("port"), 6380);
  EXPECT_EQ(body.at("password"), kPassword);
  EXPECT_EQ(body.at("expiresAt"), FormatTime(clock_->Now() + std::chrono::hours(1)));
  EXPECT_EQ(body.at("redisCli"), std::string("redis-cli -h 10.1.2.3 -p 6380 -a ") + kPassword);
}

TEST_F(SelfServiceTest, PublicHostReplacesTheEndpointHost) {
  options_.public_host = "redis.example.com";
  Start();
  auto client = Client();
  const std::string name = Request(*client);
  MakeReady(name);
  auto res = client->Get(("/v1/instances/" + name).c_str());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body).at("redisCli"),
            std::string("redis-cli -h redis.example.com -p 6380 -a ") + kPassword);
}

TEST_F(SelfServiceTest, FailedInstanceReportsItsReason) {
  Start();
  auto client = Client();
  const std::string name = Request(*client);
  api::RedisInstance ri = Stored(name);
  ri.status.phase = api::Phase::kFailed;
  api::SetCondition(ri.status.conditions,
                    api::Condition{"Ready", "False", "NoCapacity", "no host has room", {}, 1},
                    clock_->Now());
  ASSERT_TRUE(store_->UpdateStatus(ri).ok());
  auto res = client->Get(("/v1/instances/" + name).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  EXPECT_EQ(json::parse(res->body),
            (json{{"name", name}, {"phase", "Failed"}, {"message", "no host has room"}}));
}

TEST_F(SelfServiceTest, OnlyTheRequesterSeesOrDeletesItsInstance) {
  Start();
  auto mine = Client();
  auto theirs = Client("127.0.0.2");
  const std::string name = Request(*mine);
  MakeReady(name);
  const std::string path = "/v1/instances/" + name;

  auto absent = theirs->Get("/v1/instances/ss-0000000000");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404);
  EXPECT_EQ(absent->body, R"({"error":"instance ss-0000000000 not found"})");

  auto get = theirs->Get(path.c_str());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);
  EXPECT_EQ(get->body, R"({"error":"instance )" + name + R"( not found"})");
  EXPECT_EQ(get->get_header_value("Content-Type"), "application/json");
  auto del = theirs->Delete(path.c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 404);
  EXPECT_EQ(del->body, get->body);
  EXPECT_TRUE(requests_->deleted().empty());

  // Instances not made here are not reachable even with a matching requester.
  api::RedisInstance manual;
  manual.metadata.name = "manual";
  manual.spec.requester = "127.0.0.1";
  ASSERT_TRUE(store_->Apply(manual).ok());
  auto not_ours = mine->Get("/v1/instances/manual");
  ASSERT_TRUE(not_ours);
  EXPECT_EQ(not_ours->status, 404);

  // Names that cannot exist never reach the store.
  for (const char* bad : {"/v1/instances/..", "/v1/instances/UPPER", "/v1/instances/a%2Fb",
                          "/v1/instances/-x"}) {
    SCOPED_TRACE(bad);
    auto res = mine->Get(bad);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
  }

  auto ok = mine->Get(path.c_str());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(SelfServiceTest, DeleteEndsTheInstance) {
  Start();
  auto client = Client();
  const std::string name = Request(*client);
  const std::string path = "/v1/instances/" + name;
  auto del = client->Delete(path.c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(del->body, "");
  EXPECT_THAT(requests_->deleted(), ElementsAre(api::Key{"default", name}));
  EXPECT_FALSE(store_->Get(api::Kind::kRedisInstance, api::Key{"default", name}));

  auto again = client->Delete(path.c_str());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  auto get = client->Get(path.c_str());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);
}

TEST_F(SelfServiceTest, PageHasTheButtonAndTheConnectionElement) {
  Start();
  auto res = Client()->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(res->body, HasSubstr(R"(id="connection")"));
  EXPECT_THAT(res->body, HasSubstr(R"(id="error")"));
  EXPECT_THAT(res->body, HasSubstr("Get a Redis</button>"));
  EXPECT_THAT(res->body, HasSubstr("v1/instances"));
  EXPECT_THAT(res->body, Not(HasSubstr("://"))) << "no external resources";
  EXPECT_EQ(res->body, std::string(SelfServicePage()));
}

TEST_F(SelfServiceTest, OtherMethodsAre405) {
  Start();
  auto client = Client();
  struct Case {
    std::string method;
    std::string path;
    std::string allow;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/instances", "POST"},          {"PUT", "/v1/instances", "POST"},
      {"DELETE", "/v1/instances", "POST"},       {"PATCH", "/v1/instances", "POST"},
      {"POST", "/v1/instances/ss-abc", "GET, DELETE"}, {"PUT", "/v1/instances/ss-abc", "GET, DELETE"},
      {"POST", "/", "GET"},                      {"DELETE", "/", "GET"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    httplib::Result res = c.method == "GET"      ? client->Get(c.path.c_str())
                          : c.method == "PUT"    ? client->Put(c.path.c_str(), "", "text/plain")
                          : c.method == "DELETE" ? client->Delete(c.path.c_str())
                          : c.method == "PATCH"  ? client->Patch(c.path.c_str(), "", "text/plain")
                                                 : client->Post(c.path.c_str(), "", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->get_header_value("Allow"), c.allow);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  }
  EXPECT_TRUE(requests_->created().empty());
}

TEST_F(SelfServiceTest, BodiesOver4KiBAre413) {
  Start();
  auto client = Client();
  client->set_keep_alive(true);
  const std::string small(4096, 'x');
  auto fits = client->Post("/v1/instances", small, "application/json");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 202);

  const std::string big(4097, 'x');
  auto too_big = client->Post("/v1/instances", big, "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(too_big->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(json::parse(too_big->body).at("error").get<std::string>(), HasSubstr("4096"));
  // The body was read to its end, so the kept-alive connection serves the next request.
  auto next = client->Get("/");
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  EXPECT_EQ(next->status, 200);

  // Chunked, so there is no Content-Length to judge by.
  auto chunked = Client()->Post(
      "/v1/instances",
      [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 8 * 1024) {
          sink.done();
          return true;
        }
        const std::string chunk(1024, 'y');
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
  ASSERT_TRUE(chunked) << httplib::to_string(chunked.error());
  EXPECT_EQ(chunked->status, 413);

  auto delete_with_body =
      Client()->Delete("/v1/instances/ss-abc", std::string(8192, 'z'), "text/plain");
  ASSERT_TRUE(delete_with_body);
  EXPECT_EQ(delete_with_body->status, 413);
  EXPECT_EQ(requests_->created().size(), 1u);
  EXPECT_TRUE(requests_->deleted().empty());
}

// A huge declared body is refused from its headers alone, without reading it; the response
// tells the client not to reuse the connection (the server drops it at its idle timeout).
TEST_F(SelfServiceTest, HugeDeclaredBodyIsRefusedUnread) {
  Start();
  const std::string response = RawExchange(
      "POST /v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n");
  EXPECT_THAT(response, ::testing::StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(response, HasSubstr("Connection: close"));
  EXPECT_THAT(response, HasSubstr("application/json"));
  EXPECT_TRUE(requests_->created().empty());
}

// `curl -X POST URL` sends neither Content-Length nor chunks: that is an empty body, not a
// body to wait for.
TEST_F(SelfServiceTest, PostWithoutAnyBodyHeadersIsAccepted) {
  Start();
  const std::string response =
      RawExchange("POST /v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(response, ::testing::StartsWith("HTTP/1.1 202"));
  EXPECT_EQ(requests_->created().size(), 1u);
}

TEST_F(SelfServiceTest, PasswordsNeverReachTheLog) {
  Start();
  auto client = Client();
  const std::string name = Request(*client);
  MakeReady(name);
  for (int i = 0; i < 2; ++i) {
    auto res = client->Get(("/v1/instances/" + name).c_str());
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
  }
  auto del = client->Delete(("/v1/instances/" + name).c_str());
  ASSERT_TRUE(del);
  http_->Stop();  // joins the workers: every line is written
  const std::string log = logs_.All();
  EXPECT_THAT(log, HasSubstr("self-service instance requested"));
  EXPECT_THAT(log, HasSubstr("instance=default/" + name));
  EXPECT_THAT(log, HasSubstr("path=/v1/instances/" + name));
  EXPECT_THAT(log, Not(HasSubstr(kPassword)));
}

TEST_F(SelfServiceTest, InjectedRequesterFunction) {
  options_.requester_of = [](const httplib::Request& req) {
    return req.get_header_value("X-Test-Requester");
  };
  Start();
  auto client = Client();
  httplib::Headers alice = {{"X-Test-Requester", "198.51.100.7"}};
  auto res = client->Post("/v1/instances", alice, "", "text/plain");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202);
  const std::string name = json::parse(res->body).at("name");
  EXPECT_EQ(Stored(name).spec.requester, "198.51.100.7");

  auto nobody = client->Post("/v1/instances");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 400);
  auto bob = client->Get(("/v1/instances/" + name).c_str(),
                         httplib::Headers{{"X-Test-Requester", "198.51.100.8"}});
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 404);
  auto again = client->Get(("/v1/instances/" + name).c_str(), alice);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 202);
}

}  // namespace
}  // namespace redisfleet::server
