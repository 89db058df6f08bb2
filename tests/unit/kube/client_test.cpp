#include "kube/client.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/kube/stub_server.h"
#include "support/harness.h"

namespace redisfleet::kube {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using redisfleet::testing::WaitUntil;
using testing::Handler;
using testing::Recorded;
using testing::StubServer;

constexpr const char* kToken = "tok-Zm9vYmFy-very-secret";

const ResourcePath kRedis{.group = "redisfleet.io", .version = "v1alpha1",
                          .namespace_name = "default", .plural = "redisinstances"};

// One stub server for the whole binary.
StubServer& Stub() {
  static StubServer* server = new StubServer();
  return *server;
}

std::unique_ptr<KubeClient> NewClient(const Clock& clock, double qps = 0, int burst = 1,
                                      int max_retries = 5) {
  KubeClient::Options options;
  options.config.server = Stub().base();
  options.config.bearer_token = kToken;
  options.qps = qps;
  options.burst = burst;
  options.max_retries = max_retries;
  options.request_timeout = std::chrono::seconds(10);
  return std::make_unique<KubeClient>(std::move(options), clock);
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

json StatusBody(int code, const std::string& reason, const std::string& message,
                json details = json::object()) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"details", details}, {"code", code}};
}

json Object(const std::string& name, const std::string& rv) {
  return {{"apiVersion", "redisfleet.io/v1alpha1"}, {"kind", "RedisInstance"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"resourceVersion", rv}}}};
}

TEST(ResourcePathTest, Paths) {
  EXPECT_EQ(kRedis.Path(), "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances");
  EXPECT_EQ(kRedis.Named("a").Sub("status").Path(),
            "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances/a/status");
  EXPECT_EQ(kRedis.InNamespace("").Path(), "/apis/redisfleet.io/v1alpha1/redisinstances");
  const ResourcePath secrets{.version = "v1", .namespace_name = "ops", .plural = "secrets"};
  EXPECT_EQ(secrets.Named("conn").Path(), "/api/v1/namespaces/ops/secrets/conn");
  EXPECT_EQ(secrets.Named("a b").Path(), "/api/v1/namespaces/ops/secrets/a%20b");
  EXPECT_EQ(secrets.Named("x").Sub("status").Collection().Path(), "/api/v1/namespaces/ops/secrets");
}

TEST(KubeClientTest, GetSendsTokenAndReturnsObject) {
  RealClock clock;
  Stub().Reset([](const httplib::Request&, httplib::Response& res) { Reply(res, 200, Object("a", "7")); });
  auto client = NewClient(clock);
  auto got = client->Get(kRedis.Named("a"));
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ((*got)["metadata"]["resourceVersion"], "7");
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances/a");
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kToken);
}

struct ErrorCase {
  std::string name;
  int http_status;
  std::string body;  // raw, usually a Status object
  StatusCode code;
  std::vector<std::string> message_has;
};

TEST(KubeClientTest, ErrorMappingFromStatusBodies) {
  const std::string res = "redisinstances.redisfleet.io";
  std::vector<ErrorCase> cases = {
      {"NotFound", 404,
       StatusBody(404, "NotFound", res + " \"foo\" not found",
                  {{"name", "foo"}, {"group", "redisfleet.io"}, {"kind", "redisinstances"}}).dump(),
       StatusCode::kNotFound, {"NotFound", "\"foo\" not found", "GET /apis/redisfleet.io"}},
      {"AlreadyExists", 409,
       StatusBody(409, "AlreadyExists", res + " \"foo\" already exists").dump(),
       StatusCode::kAlreadyExists, {"AlreadyExists", "already exists"}},
      {"Conflict", 409,
       StatusBody(409, "Conflict",
                  "Operation cannot be fulfilled on " + res +
                      " \"foo\": the object has been modified; please apply your changes to the "
                      "latest version and try again").dump(),
       StatusCode::kConflict, {"Conflict", "the object has been modified"}},
      {"Invalid with causes", 422,
       StatusBody(422, "Invalid",
                  "RedisInstance.redisfleet.io \"foo\" is invalid: spec.memory: Invalid value: -1",
                  {{"name", "foo"}, {"kind", "RedisInstance"},
                   {"causes", {{{"reason", "FieldValueInvalid"}, {"message", "Invalid value: -1"},
                                {"field", "spec.memory"}},
                               {{"reason", "FieldValueRequired"}, {"message", "Required value"},
                                {"field", "spec.plan"}}}}}).dump(),
       StatusCode::kInvalidArgument, {"Invalid", "is invalid", "(fields: spec.memory, spec.plan)"}},
      {"Invalid resourceVersion", 422,
       StatusBody(422, "Invalid",
                  res + " \"foo\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be "
                        "specified for an update",
                  {{"causes", {{{"reason", "FieldValueInvalid"}, {"field", "metadata.resourceVersion"}}}}}).dump(),
       StatusCode::kInvalidArgument, {"(fields: metadata.resourceVersion)"}},
      {"Expired", 410,
       StatusBody(410, "Expired",
                  "The provided continue parameter is too old to display a consistent list result. "
                  "You can start a new list without the continue parameter.").dump(),
       StatusCode::kFailedPrecondition, {"Expired", "too old"}},
      {"UnsupportedMediaType", 415,
       StatusBody(415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types include: "
                  "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml").dump(),
       StatusCode::kInvalidArgument, {"UnsupportedMediaType"}},
      {"Unauthorized", 401, StatusBody(401, "Unauthorized", "Unauthorized").dump(),
       StatusCode::kUnauthenticated, {"Unauthorized"}},
      {"Forbidden", 403,
       StatusBody(403, "Forbidden",
                  res + " \"foo\" is forbidden: User \"system:serviceaccount:x:y\" cannot get resource").dump(),
       StatusCode::kPermissionDenied, {"Forbidden", "cannot get resource"}},
      {"InternalError", 500, StatusBody(500, "InternalError", "Internal error occurred: etcd").dump(),
       StatusCode::kUnavailable, {"InternalError", "etcd"}},
      {"ServiceUnavailable without Retry-After", 503,
       StatusBody(503, "ServiceUnavailable", "the server is currently unable to handle the request").dump(),
       StatusCode::kUnavailable, {"ServiceUnavailable"}},
      {"not JSON", 502, "<html>bad gateway</html>", StatusCode::kUnavailable, {"HTTP 502"}},
  };
  RealClock clock;
  auto client = NewClient(clock);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Stub().Reset([&c](const httplib::Request&, httplib::Response& r) {
      r.status = c.http_status;
      r.set_content(c.body, "application/json");
    });
    auto got = client->Get(kRedis.Named("foo"));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), c.code) << got.error().ToString();
    for (const auto& s : c.message_has) EXPECT_THAT(got.error().message(), HasSubstr(s));
    EXPECT_EQ(IsExpired(got.error()), c.code == StatusCode::kFailedPrecondition);
    EXPECT_EQ(Stub().count(), 1u);  // none of these is retried
  }
}

TEST(KubeClientTest, WriteVerbs) {
  RealClock clock;
  Stub().Reset([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "DELETE") {
      Reply(res, 200, {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"},
                       {"details", {{"name", "a"}, {"kind", "redisinstances"}}}});
      return;
    }
    json echoed = json::parse(req.body);
    Reply(res, req.method == "POST" ? 201 : 200, echoed);
  });
  auto client = NewClient(clock);
  const json obj = Object("a", "5");
  ASSERT_TRUE(client->Create(kRedis, obj).ok());
  ASSERT_TRUE(client->Update(kRedis.Named("a"), obj).ok());
  ASSERT_TRUE(client->MergePatch(kRedis.Named("a"), {{"metadata", {{"finalizers", json::array()}}}}).ok());
  ASSERT_TRUE(client->UpdateStatus(kRedis.Named("a"), obj).ok());
  auto deleted = client->Delete(kRedis.Named("a"), {.precondition_uid = "uid-1", .propagation_policy = "Background"});
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_EQ((*deleted)["status"], "Success");

  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 5u);
  const std::string obj_path = "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances/a";
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances");
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_EQ(json::parse(reqs[0].body), obj);
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].path, obj_path);
  EXPECT_EQ(json::parse(reqs[1].body)["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(reqs[2].method, "PATCH");
  EXPECT_EQ(reqs[2].content_type, "application/merge-patch+json");
  EXPECT_EQ(reqs[3].method, "PUT");
  EXPECT_EQ(reqs[3].path, obj_path + "/status");
  EXPECT_EQ(reqs[4].method, "DELETE");
  EXPECT_EQ(reqs[4].path, obj_path);
  const json del = json::parse(reqs[4].body);
  EXPECT_EQ(del["kind"], "DeleteOptions");
  EXPECT_EQ(del["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(del["propagationPolicy"], "Background");
}

// Serves 5 objects, `limit` per page, with continue tokens "page-<offset>".
void ServePagedList(const httplib::Request& req, httplib::Response& res) {
  const int limit = std::stoi(req.get_param_value("limit"));
  const std::string cont = req.get_param_value("continue");
  if (cont == "expired") {
    Reply(res, 410, StatusBody(410, "Expired", "The provided continue parameter is too old"));
    return;
  }
  const int offset = cont.empty() ? 0 : std::stoi(cont.substr(5));
  json items = json::array();
  for (int i = offset; i < std::min(5, offset + limit); ++i) {
    json item = Object("obj-" + std::to_string(i), std::to_string(100 + i));
    item.erase("kind");  // the client fills it in from the list kind
    items.push_back(item);
  }
  const std::string next = offset + limit < 5 ? "page-" + std::to_string(offset + limit) : "";
  Reply(res, 200, {{"apiVersion", "redisfleet.io/v1alpha1"}, {"kind", "RedisInstanceList"},
                   {"metadata", {{"resourceVersion", std::to_string(1000 + offset)}, {"continue", next}}},
                   {"items", items}});
}

TEST(KubeClientTest, ListFollowsContinueTokens) {
  RealClock clock;
  Stub().Reset(ServePagedList);
  auto client = NewClient(clock);
  auto list = client->List(kRedis.InNamespace(""), {.label_selector = "redisfleet.io/pool=default.p1,tier!=x", .limit = 2});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->items.size(), 5u);
  EXPECT_EQ(list->resource_version, "1000");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(list->items[i]["metadata"]["name"], "obj-" + std::to_string(i));
    EXPECT_EQ(list->items[i]["kind"], "RedisInstance");
  }
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].path, "/apis/redisfleet.io/v1alpha1/redisinstances");
  EXPECT_EQ(reqs[0].Param("labelSelector"), "redisfleet.io/pool=default.p1,tier!=x");
  EXPECT_EQ(reqs[0].Param("limit"), "2");
  EXPECT_EQ(reqs[0].Param("continue"), "");
  EXPECT_EQ(reqs[1].Param("continue"), "page-2");
  EXPECT_EQ(reqs[2].Param("continue"), "page-4");
  EXPECT_EQ(reqs[2].Param("labelSelector"), "redisfleet.io/pool=default.p1,tier!=x");

  auto expired = client->ListOnePage(kRedis, {.limit = 2, .continue_token = "expired"});
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(IsExpired(expired.error())) << expired.error().ToString();
}

// A watch stream: writes each of `lines` (split in two chunks each, to exercise incremental
// parsing) and then either ends or idles until the client goes away.
Handler WatchHandler(std::vector<std::string> lines, bool idle_after) {
  return [lines, idle_after](const httplib::Request&, httplib::Response& res) {
    auto next = std::make_shared<std::size_t>(0);
    const int generation = Stub().generation();
    res.set_chunked_content_provider(
        "application/json", [lines, idle_after, next, generation](std::size_t, httplib::DataSink& sink) {
          if (*next < lines.size()) {
            const std::string line = lines[(*next)++] + "\n";
            const std::size_t half = line.size() / 2;
            return sink.write(line.data(), half) && sink.write(line.data() + half, line.size() - half);
          }
          if (!idle_after) {
            sink.done();
            return true;
          }
          // Idle, as a quiet watch does, until the next test resets the stub (a disconnected
          // client is not noticed without a write). This is the server's pacing, not a wait in
          // the test.
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          return sink.is_writable() && Stub().generation() == generation;
        });
  };
}

std::string EventLine(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump();
}

struct Seen {
  std::mutex mu;
  std::vector<std::string> events;  // "TYPE name-or-rv"
  void Add(WatchEventType type, const json& object) {
    std::lock_guard<std::mutex> lock(mu);
    const json& md = object["metadata"];
    events.push_back(std::string(WatchEventTypeName(type)) + " " +
                     (md.contains("name") ? md["name"].get<std::string>() : md["resourceVersion"].get<std::string>()));
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
};

TEST(KubeClientTest, WatchDeliversEventsThenExpired) {
  RealClock clock;
  const json bookmark = {{"kind", "RedisInstance"}, {"apiVersion", "redisfleet.io/v1alpha1"},
                         {"metadata", {{"resourceVersion", "12400"}, {"creationTimestamp", nullptr}}}};
  Stub().Reset(WatchHandler({EventLine("ADDED", Object("a", "11")), EventLine("MODIFIED", Object("a", "12")),
                             EventLine("BOOKMARK", bookmark),
                             EventLine("ERROR", StatusBody(410, "Expired", "too old resource version: 100 (200)"))},
                            /*idle_after=*/true));
  auto client = NewClient(clock);
  Seen seen;
  Status status = client->Watch(kRedis, {.resource_version = "10", .timeout = std::chrono::seconds(300)},
                                [&](WatchEventType t, const json& o) { seen.Add(t, o); }, {});
  EXPECT_TRUE(IsExpired(status)) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("too old resource version"));
  EXPECT_THAT(seen.events, ElementsAre("ADDED a", "MODIFIED a", "BOOKMARK 12400"));
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances");
  EXPECT_EQ(reqs[0].Param("watch"), "true");
  EXPECT_EQ(reqs[0].Param("resourceVersion"), "10");
  EXPECT_EQ(reqs[0].Param("allowWatchBookmarks"), "true");
  EXPECT_EQ(reqs[0].Param("timeoutSeconds"), "300");
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kToken);
}

TEST(KubeClientTest, WatchEndsOkWhenServerClosesTheStream) {
  RealClock clock;
  Stub().Reset(WatchHandler({EventLine("ADDED", Object("a", "11")), EventLine("DELETED", Object("a", "13"))},
                            /*idle_after=*/false));
  auto client = NewClient(clock);
  Seen seen;
  Status status = client->Watch(kRedis, {}, [&](WatchEventType t, const json& o) { seen.Add(t, o); }, {});
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_THAT(seen.events, ElementsAre("ADDED a", "DELETED a"));
}

TEST(KubeClientTest, WatchStoppedByCallerPromptly) {
  RealClock clock;
  Stub().Reset(WatchHandler({EventLine("ADDED", Object("a", "11"))}, /*idle_after=*/true));
  auto client = NewClient(clock);
  Seen seen;
  std::atomic<bool> stop{false};
  std::atomic<bool> returned{false};
  Status status;
  std::thread watcher([&] {
    status = client->Watch(kRedis, {}, [&](WatchEventType t, const json& o) { seen.Add(t, o); },
                           [&] { return stop.load(); });
    returned = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return seen.size() == 1; }));
  EXPECT_FALSE(returned.load());  // the stream is open and idle
  stop = true;
  // Stop is polled every 50 ms; the bound here is only a deadline for a hung test.
  const bool ended = WaitUntil([&] { return returned.load(); }, std::chrono::seconds(5));
  watcher.join();
  ASSERT_TRUE(ended);
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
}

TEST(KubeClientTest, WatchRefusedIsMapped) {
  RealClock clock;
  Stub().Reset([](const httplib::Request&, httplib::Response& res) {
    Reply(res, 403, StatusBody(403, "Forbidden", "redisinstances.redisfleet.io is forbidden: cannot watch"));
  });
  auto client = NewClient(clock);
  Status status = client->Watch(kRedis, {}, [](WatchEventType, const json&) {}, {});
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("cannot watch"));
}

// Runs `work` on a thread while advancing `clock` in `step`s until it finishes.
void DriveClock(FakeClock& clock, Duration step, const std::function<void()>& work) {
  std::atomic<bool> done{false};
  std::thread t([&] {
    work();
    done = true;
  });
  const bool finished = WaitUntil([&] {
    if (!done) clock.Advance(step);
    return done.load();
  }, std::chrono::seconds(60), std::chrono::milliseconds(1));
  t.join();
  ASSERT_TRUE(finished);
}

TEST(KubeClientTest, RateLimitSpacesRequestsAndDropsNone) {
  FakeClock clock;
  const TimePoint t0 = clock.Now();
  Stub().Reset([](const httplib::Request&, httplib::Response& res) { Reply(res, 200, Object("a", "1")); },
               &clock);
  auto client = NewClient(clock, /*qps=*/2, /*burst=*/3);
  int ok = 0;
  DriveClock(clock, std::chrono::milliseconds(50), [&] {
    for (int i = 0; i < 8; ++i) ok += client->Get(kRedis.Named("a")).ok() ? 1 : 0;
  });
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(client->rate_limiter().taken(), 8);
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 8u);
  // The first 3 use the burst; request k (k >= 3) may not start before t0 + (k - 2) / qps.
  for (int k = 3; k < 8; ++k) {
    SCOPED_TRACE(k);
    EXPECT_GE(reqs[k].at - t0, std::chrono::milliseconds(500 * (k - 2)));
  }
}

TEST(KubeClientTest, RateLimitWaitersShareOneBucket) {
  FakeClock clock;
  const TimePoint t0 = clock.Now();
  Stub().Reset([](const httplib::Request&, httplib::Response& res) { Reply(res, 200, Object("a", "1")); },
               &clock);
  auto client = NewClient(clock, /*qps=*/1, /*burst=*/2);
  DriveClock(clock, std::chrono::milliseconds(50), [&] {
    std::vector<std::thread> callers;
    for (int i = 0; i < 3; ++i) {
      callers.emplace_back([&] {
        for (int j = 0; j < 2; ++j) EXPECT_TRUE(client->Get(kRedis.Named("a")).ok());
      });
    }
    for (auto& t : callers) t.join();
  });
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 6u);
  std::vector<TimePoint> times;
  for (const auto& r : reqs) times.push_back(r.at);
  std::sort(times.begin(), times.end());
  for (int k = 2; k < 6; ++k) EXPECT_GE(times[k] - t0, std::chrono::seconds(k - 1));
}

TEST(KubeClientTest, WatchEventsTakeNoTokens) {
  FakeClock clock;  // never advanced: a second token would never come
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back(EventLine("ADDED", Object("o" + std::to_string(i), "1")));
  Stub().Reset(WatchHandler(lines, /*idle_after=*/false));
  auto client = NewClient(clock, /*qps=*/0.001, /*burst=*/1);
  Seen seen;
  std::atomic<bool> returned{false};
  Status status;
  std::thread watcher([&] {
    status = client->Watch(kRedis, {}, [&](WatchEventType t, const json& o) { seen.Add(t, o); }, {});
    returned = true;
  });
  const bool ended = WaitUntil([&] { return returned.load(); });
  if (!ended) Stub().Reset(nullptr);
  watcher.join();
  ASSERT_TRUE(ended);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(client->rate_limiter().taken(), 1);
}

TEST(KubeClientTest, TooManyRequestsWaitsForRetryAfter) {
  FakeClock clock;
  std::atomic<int> calls{0};
  Stub().Reset(
      [&](const httplib::Request&, httplib::Response& res) {
        if (calls++ == 0) {
          res.set_header("Retry-After", "3");
          Reply(res, 429, StatusBody(429, "TooManyRequests", "the server has received too many requests",
                                     {{"retryAfterSeconds", 3}}));
          return;
        }
        Reply(res, 200, Object("a", "1"));
      },
      &clock);
  auto client = NewClient(clock);
  StatusOr<json> got = InternalError("not run");
  DriveClock(clock, std::chrono::milliseconds(100), [&] { got = client->Get(kRedis.Named("a")); });
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].at - reqs[0].at, std::chrono::seconds(3));
}

TEST(KubeClientTest, TooManyRequestsGivesUpAfterMaxRetries) {
  FakeClock clock;
  Stub().Reset(
      [](const httplib::Request&, httplib::Response& res) {
        // No header: details.retryAfterSeconds is used.
        Reply(res, 429, StatusBody(429, "TooManyRequests", "slow down", {{"retryAfterSeconds", 2}}));
      },
      &clock);
  auto client = NewClient(clock, 0, 1, /*max_retries=*/2);
  StatusOr<json> got = InternalError("not run");
  DriveClock(clock, std::chrono::milliseconds(100), [&] { got = client->Get(kRedis.Named("a")); });
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), StatusCode::kResourceExhausted);
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_GE(reqs[1].at - reqs[0].at, std::chrono::seconds(2));
  EXPECT_GE(reqs[2].at - reqs[1].at, std::chrono::seconds(2));
}

TEST(KubeClientTest, TokensNeverInErrorMessages) {
  RealClock clock;
  auto client = NewClient(clock);
  // A (misbehaving) server that echoes the credentials into its error messages.
  Stub().Reset([](const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    if (req.has_param("watch")) {
      res.set_content(EventLine("ERROR", StatusBody(500, "InternalError", "watch failed for " + auth)) + "\n",
                      "application/json");
      return;
    }
    Reply(res, 401, StatusBody(401, "Unauthorized", "token " + std::string(auth.substr(7)) + " rejected; header " + auth,
                               {{"causes", {{{"field", std::string(auth.substr(7))}}}}}));
  });
  auto got = client->Get(kRedis.Named("a"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(got.error().message(), Not(HasSubstr(kToken)));
  EXPECT_THAT(got.error().message(), HasSubstr("rejected"));

  Status watch = client->Watch(kRedis, {}, [](WatchEventType, const json&) {}, {});
  ASSERT_FALSE(watch.ok());
  EXPECT_THAT(watch.message(), Not(HasSubstr(kToken)));

  // Transport failure: nothing listens on this port.
  KubeClient::Options options;
  options.config.server = "http://127.0.0.1:" + std::to_string(redisfleet::testing::FreePort());
  options.config.bearer_token = kToken;
  KubeClient unreachable(options, clock);
  auto refused = unreachable.Get(kRedis.Named("a"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.error().message(), Not(HasSubstr(kToken)));
}

TEST(KubeClientTest, TokenFileIsReRead) {
  FakeClock clock;
  redisfleet::testing::TempDir dir;
  redisfleet::testing::WriteText(dir / "token", "first-token\n");
  Stub().Reset([](const httplib::Request&, httplib::Response& res) { Reply(res, 200, Object("a", "1")); });
  KubeClient::Options options;
  options.config.server = Stub().base();
  options.config.bearer_token = "first-token";
  options.config.token_file = dir / "token";
  options.qps = 0;
  KubeClient client(options, clock);
  ASSERT_TRUE(client.Get(kRedis.Named("a")).ok());
  redisfleet::testing::WriteText(dir / "token", "second-token\n");
  ASSERT_TRUE(client.Get(kRedis.Named("a")).ok());  // not yet due
  clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(client.Get(kRedis.Named("a")).ok());
  auto reqs = Stub().requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].authorization, "Bearer first-token");
  EXPECT_EQ(reqs[1].authorization, "Bearer first-token");
  EXPECT_EQ(reqs[2].authorization, "Bearer second-token");
}

}  // namespace
}  // namespace redisfleet::kube
