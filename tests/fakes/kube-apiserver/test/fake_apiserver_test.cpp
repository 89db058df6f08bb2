// The fake Kubernetes API server, over HTTP with httplib::Client and with the real kubectl.

#include "fake_apiserver.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"

namespace redisfleet::fakes {
namespace {

using json = nlohmann::json;
using redisfleet::testing::RunCommand;
using redisfleet::testing::TempDir;
using redisfleet::testing::WaitUntil;

constexpr const char* kGroupPath = "/apis/test.redisfleet.io/v1";
constexpr const char* kWidgets = "/apis/test.redisfleet.io/v1/namespaces/default/widgets";

// One server per test binary.
FakeKubeApiServer& Server() {
  static FakeKubeApiServer* server = [] {
    FakeKubeApiServer::Options o;
    o.history_limit = 20;
    o.bookmark_interval = std::chrono::milliseconds(200);
    auto* s = new FakeKubeApiServer(o);
    Status st = s->LoadCrdsFromDir(FAKE_KUBE_TESTDATA);
    if (!st.ok()) throw std::runtime_error(st.message());
    st = s->Start("127.0.0.1:0");
    if (!st.ok()) throw std::runtime_error(st.message());
    return s;
  }();
  return *server;
}

struct Resp {
  int status = 0;
  json body;
  std::string warning;
};

Resp Call(const std::string& method, const std::string& path, const json& body = nullptr,
          const std::string& content_type = "application/json",
          const httplib::Headers& headers = {}) {
  httplib::Client cli("127.0.0.1", Server().port());
  cli.set_read_timeout(10, 0);
  const std::string text = body.is_null() ? "" : body.dump();
  auto send = [&]() -> httplib::Result {
    if (method == "POST") return cli.Post(path, headers, text, content_type);
    if (method == "PUT") return cli.Put(path, headers, text, content_type);
    if (method == "PATCH") return cli.Patch(path, headers, text, content_type);
    if (method == "DELETE") return cli.Delete(path, headers, text, content_type);
    return cli.Get(path, headers);
  };
  httplib::Result r = send();
  Resp out;
  if (!r) return out;
  out.status = r->status;
  out.body = json::parse(r->body, nullptr, false);
  out.warning = r->get_header_value("Warning");
  return out;
}

json Widget(const std::string& name, json spec) {
  return {{"apiVersion", "test.redisfleet.io/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", name}}},
          {"spec", std::move(spec)}};
}

std::string Rv(const json& o) { return o["metadata"]["resourceVersion"].get<std::string>(); }

// Streams a watch in the background and collects its events.
class Watcher {
 public:
  explicit Watcher(const std::string& path) {
    thread_ = std::thread([this, path] {
      httplib::Client cli("127.0.0.1", Server().port());
      cli.set_read_timeout(30, 0);
      std::string buf;
      auto r = cli.Get(path, [&](const char* data, std::size_t n) {
        buf.append(data, n);
        for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
          std::lock_guard lk(mu_);
          events_.push_back(json::parse(buf.substr(0, nl), nullptr, false));
          buf.erase(0, nl + 1);
        }
        return !stop_.load();
      });
      if (r) status_ = r->status;
      ended_ = true;
    });
  }
  ~Watcher() {
    stop_ = true;
    thread_.join();
  }
  std::vector<json> Events() {
    std::lock_guard lk(mu_);
    return events_;
  }
  // Events other than BOOKMARK, as "TYPE name".
  std::vector<std::string> Changes() {
    std::vector<std::string> out;
    for (const auto& e : Events()) {
      if (e.value("type", "") == "BOOKMARK") continue;
      out.push_back(e.value("type", "") + " " + e["object"]["metadata"].value("name", ""));
    }
    return out;
  }
  bool ended() const { return ended_; }
  int status() const { return status_; }

 private:
  std::mutex mu_;
  std::vector<json> events_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::atomic<int> status_{0};
  std::thread thread_;
};

TEST(FakeKubeApiServer, Discovery) {
  Resp apis = Call("GET", "/apis");
  ASSERT_EQ(apis.status, 200);
  bool found = false;
  for (const auto& g : apis.body["groups"]) found |= g["name"] == "test.redisfleet.io";
  EXPECT_TRUE(found) << apis.body.dump();
  Resp gv = Call("GET", kGroupPath);
  ASSERT_EQ(gv.status, 200);
  ASSERT_EQ(gv.body["resources"].size(), 2u) << gv.body.dump();
  EXPECT_EQ(gv.body["resources"][0]["name"], "widgets");
  EXPECT_EQ(gv.body["resources"][0]["shortNames"], json::array({"wd"}));
  EXPECT_EQ(gv.body["resources"][1]["name"], "widgets/status");
  Resp index = Call("GET", "/openapi/v3");
  ASSERT_EQ(index.status, 200);
  const std::string doc_url =
      index.body["paths"]["apis/test.redisfleet.io/v1"]["serverRelativeURL"].get<std::string>();
  Resp doc = Call("GET", doc_url);
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body["paths"]["/apis/test.redisfleet.io/v1/namespaces/{namespace}/widgets/{name}"]
                    ["patch"]["x-kubernetes-group-version-kind"]["kind"],
            "Widget");
  EXPECT_EQ(Call("GET", "/api").body["versions"], json::array({"v1"}));
}

TEST(FakeKubeApiServer, CrudAndConflicts) {
  json w = Widget("crud", {{"size", 3}});
  w["status"] = {{"phase", "Sneaky"}};
  Resp created = Call("POST", kWidgets, w);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["metadata"]["generation"], 1);
  EXPECT_FALSE(created.body["metadata"].value("uid", "").empty());
  EXPECT_FALSE(created.body["metadata"].value("creationTimestamp", "").empty());
  EXPECT_EQ(created.body["metadata"]["namespace"], "default");
  EXPECT_EQ(created.body["spec"]["mode"], "fast");  // schema default
  EXPECT_FALSE(created.body.contains("status"));    // create drops status
  const std::string rv1 = Rv(created.body);

  Resp again = Call("POST", kWidgets, w);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["reason"], "AlreadyExists");
  EXPECT_EQ(again.body["message"], "widgets.test.redisfleet.io \"crud\" already exists");

  Resp got = Call("GET", std::string(kWidgets) + "/crud");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["spec"]["size"], 3);
  EXPECT_EQ(got.body["kind"], "Widget");

  Resp list = Call("GET", std::string(kWidgets) + "?limit=500");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["kind"], "WidgetList");
  EXPECT_GE(list.body["items"].size(), 1u);
  Resp all = Call("GET", "/apis/test.redisfleet.io/v1/widgets?fieldSelector=metadata.name%3Dcrud");
  ASSERT_EQ(all.status, 200);
  ASSERT_EQ(all.body["items"].size(), 1u);

  // PUT without resourceVersion: CRs do not allow unconditional update.
  json put = got.body;
  put["metadata"].erase("resourceVersion");
  put["spec"]["size"] = 4;
  Resp norv = Call("PUT", std::string(kWidgets) + "/crud", put);
  EXPECT_EQ(norv.status, 422);
  EXPECT_EQ(norv.body["message"],
            "widgets.test.redisfleet.io \"crud\" is invalid: metadata.resourceVersion: Invalid "
            "value: 0x0: must be specified for an update");

  put["metadata"]["resourceVersion"] = rv1;
  Resp updated = Call("PUT", std::string(kWidgets) + "/crud", put);
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["metadata"]["generation"], 2);
  EXPECT_NE(Rv(updated.body), rv1);

  Resp stale = Call("PUT", std::string(kWidgets) + "/crud", put);  // rv1 again
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["reason"], "Conflict");
  EXPECT_EQ(stale.body["message"],
            "Operation cannot be fulfilled on widgets.test.redisfleet.io \"crud\": the object "
            "has been modified; please apply your changes to the latest version and try again");
  EXPECT_EQ(stale.body["details"]["kind"], "widgets");

  // A merge patch without resourceVersion never conflicts; one with a stale one does.
  Resp patched =
      Call("PATCH", std::string(kWidgets) + "/crud", json{{"metadata", {{"labels", {{"a", "b"}}}}}},
           "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200);
  EXPECT_EQ(patched.body["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(patched.body["metadata"]["generation"], 2);  // metadata only
  Resp stale_patch =
      Call("PATCH", std::string(kWidgets) + "/crud", json{{"metadata", {{"resourceVersion", rv1}}}},
           "application/merge-patch+json");
  EXPECT_EQ(stale_patch.status, 409);
  EXPECT_EQ(Call("GET", std::string(kWidgets) + "?labelSelector=a%3Db").body["items"].size(), 1u);
  EXPECT_EQ(Call("GET", std::string(kWidgets) + "?labelSelector=a%3Dc").body["items"].size(), 0u);
  Resp apply = Call("PATCH", std::string(kWidgets) + "/crud", json::object(),
                    "application/apply-patch+yaml");
  EXPECT_EQ(apply.status, 415);

  Resp del = Call("DELETE", std::string(kWidgets) + "/crud");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.body["status"], "Success");
  EXPECT_EQ(del.body["details"]["uid"], created.body["metadata"]["uid"]);
  Resp gone = Call("GET", std::string(kWidgets) + "/crud");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["message"], "widgets.test.redisfleet.io \"crud\" not found");
  EXPECT_EQ(gone.body["details"]["kind"], "widgets");
  EXPECT_EQ(gone.body["details"]["group"], "test.redisfleet.io");
}

TEST(FakeKubeApiServer, StatusSubresource) {
  ASSERT_EQ(Call("POST", kWidgets, Widget("st", {{"size", 2}})).status, 201);
  json obj = Call("GET", std::string(kWidgets) + "/st").body;
  json body = obj;
  body["status"] = {{"phase", "Ready"}};
  body["spec"]["size"] = 9;  // ignored on /status
  Resp s = Call("PUT", std::string(kWidgets) + "/st/status", body);
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["status"]["phase"], "Ready");
  EXPECT_EQ(s.body["spec"]["size"], 2);
  EXPECT_EQ(s.body["metadata"]["generation"], 1);
  // Stale resourceVersion on /status conflicts.
  EXPECT_EQ(Call("PUT", std::string(kWidgets) + "/st/status", body).status, 409);
  // The main resource ignores status.
  json main = s.body;
  main["status"]["phase"] = "Hacked";
  main["spec"]["size"] = 5;
  Resp m = Call("PUT", std::string(kWidgets) + "/st", main);
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body["status"]["phase"], "Ready");
  EXPECT_EQ(m.body["spec"]["size"], 5);
  EXPECT_EQ(m.body["metadata"]["generation"], 2);
  Resp p = Call("PATCH", std::string(kWidgets) + "/st/status",
                json{{"status", {{"observedGeneration", 2}}}, {"spec", {{"size", 1}}}},
                "application/merge-patch+json");
  ASSERT_EQ(p.status, 200);
  EXPECT_EQ(p.body["status"]["observedGeneration"], 2);
  EXPECT_EQ(p.body["status"]["phase"], "Ready");
  EXPECT_EQ(p.body["spec"]["size"], 5);
  // Status is validated against the schema too.
  Resp bad = Call("PATCH", std::string(kWidgets) + "/st/status",
                  json{{"status", {{"observedGeneration", "x"}}}}, "application/merge-patch+json");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(Call("DELETE", std::string(kWidgets) + "/st").status, 200);
}

TEST(FakeKubeApiServer, FinalizerFlow) {
  json w = Widget("fin", {{"size", 1}});
  w["metadata"]["finalizers"] = {"redisfleet.io/cleanup"};
  ASSERT_EQ(Call("POST", kWidgets, w).status, 201);
  Resp d = Call(
      "DELETE", std::string(kWidgets) + "/fin",
      json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}});
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.body["kind"], "Widget");
  EXPECT_TRUE(d.body["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(d.body["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(d.body["metadata"]["generation"], 2);
  // Still there; a second DELETE changes nothing.
  Resp again = Call("DELETE", std::string(kWidgets) + "/fin");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Rv(again.body), Rv(d.body));
  // No new finalizers while deleting.
  Resp add = Call("PATCH", std::string(kWidgets) + "/fin",
                  json{{"metadata", {{"finalizers", {"redisfleet.io/cleanup", "x/y"}}}}},
                  "application/merge-patch+json");
  EXPECT_EQ(add.status, 422);
  EXPECT_NE(add.body.value("message", "").find("no new finalizers can be added"),
            std::string::npos);
  // Removing the last finalizer deletes it.
  Resp rm = Call("PATCH", std::string(kWidgets) + "/fin",
                 json{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
  EXPECT_EQ(rm.status, 200);
  EXPECT_EQ(Call("GET", std::string(kWidgets) + "/fin").status, 404);
}

TEST(FakeKubeApiServer, WatchEventsInOrderWithBookmarks) {
  const std::string rv = std::to_string(Server().CurrentResourceVersion());
  Watcher watch(std::string(kWidgets) + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + rv);
  ASSERT_TRUE(WaitUntil([&] { return Server().OpenWatches() >= 1; }));
  ASSERT_EQ(Call("POST", kWidgets, Widget("w1", {{"size", 1}})).status, 201);
  ASSERT_EQ(Call("PATCH", std::string(kWidgets) + "/w1", json{{"spec", {{"size", 2}}}},
                 "application/merge-patch+json")
                .status,
            200);
  // Another namespace and another name are filtered out of this namespaced watch.
  ASSERT_EQ(Call("POST", "/apis/test.redisfleet.io/v1/namespaces/other/widgets",
                 Widget("w2", {{"size", 1}}))
                .status,
            201);
  ASSERT_EQ(Call("DELETE", std::string(kWidgets) + "/w1").status, 200);
  const std::vector<std::string> want = {"ADDED w1", "MODIFIED w1", "DELETED w1"};
  ASSERT_TRUE(WaitUntil([&] { return watch.Changes() == want; }))
      << ::testing::PrintToString(watch.Changes());
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& e : watch.Events()) {
      if (e["type"] == "BOOKMARK") return true;
    }
    return false;
  }));
  // Resource versions increase; the bookmark carries the latest.
  std::uint64_t last = 0;
  for (const auto& e : watch.Events()) {
    const auto v = std::stoull(Rv(e["object"]));
    EXPECT_GE(v, last);
    last = v;
  }
  // Resuming from the ADDED event's resourceVersion replays only what came after it.
  const std::string added_rv = Rv(watch.Events()[0]["object"]);
  Watcher resumed(std::string(kWidgets) + "?watch=true&resourceVersion=" + added_rv);
  const std::vector<std::string> rest = {"MODIFIED w1", "DELETED w1"};
  ASSERT_TRUE(WaitUntil([&] { return resumed.Changes() == rest; }))
      << ::testing::PrintToString(resumed.Changes());
  // All-namespaces watch with no resourceVersion starts with ADDED for what exists.
  Watcher everything("/apis/test.redisfleet.io/v1/widgets?watch=1");
  ASSERT_TRUE(WaitUntil([&] {
    auto c = everything.Changes();
    return std::find(c.begin(), c.end(), "ADDED w2") != c.end();
  }));
  // Cutting watches ends the streams.
  Server().CutWatches();
  ASSERT_TRUE(WaitUntil([&] { return resumed.ended() && everything.ended(); }));
  ASSERT_EQ(Call("DELETE", "/apis/test.redisfleet.io/v1/namespaces/other/widgets/w2").status, 200);
}

TEST(FakeKubeApiServer, WatchFromExpiredResourceVersionGets410) {
  ASSERT_EQ(Call("POST", kWidgets, Widget("churn", {{"size", 1}})).status, 201);
  for (int i = 0; i < 25; ++i) {  // history_limit is 20
    ASSERT_EQ(Call("PATCH", std::string(kWidgets) + "/churn",
                   json{{"metadata", {{"annotations", {{"i", std::to_string(i)}}}}}},
                   "application/merge-patch+json")
                  .status,
              200);
  }
  Watcher watch(std::string(kWidgets) + "?watch=1&resourceVersion=2&allowWatchBookmarks=true");
  ASSERT_TRUE(WaitUntil([&] { return watch.ended(); }));
  EXPECT_EQ(watch.status(), 200);
  auto events = watch.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  EXPECT_NE(events[0]["object"]["message"].get<std::string>().find("too old resource version: 2 ("),
            std::string::npos);
  ASSERT_EQ(Call("DELETE", std::string(kWidgets) + "/churn").status, 200);
}

TEST(FakeKubeApiServer, SchemaRejection) {
  struct Case {
    json spec;
    std::string field, reason, message_part;
  };
  const std::vector<Case> cases = {
      {{{"size", 0}},
       "spec.size",
       "FieldValueInvalid",
       "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"},
      {{{"size", 11}},
       "spec.size",
       "FieldValueInvalid",
       "spec.size in body should be less than or equal to 10"},
      {{{"size", "big"}},
       "spec.size",
       "FieldValueTypeInvalid",
       "spec.size in body must be of type integer: \"string\""},
      {{{"size", 1}, {"mode", "warp"}},
       "spec.mode",
       "FieldValueNotSupported",
       "spec.mode: Unsupported value: \"warp\": supported values: \"fast\", \"slow\""},
      {{{"mode", "slow"}}, "spec.size", "FieldValueRequired", "spec.size: Required value"},
      {{{"size", 1}, {"labels", {{"a", 1}}}},
       "spec.labels.a",
       "FieldValueTypeInvalid",
       "must be of type string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec.dump());
    Resp r = Call("POST", kWidgets, Widget("bad", c.spec));
    ASSERT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(r.body["reason"], "Invalid");
    EXPECT_EQ(r.body["details"]["kind"], "Widget");
    EXPECT_NE(
        r.body["message"].get<std::string>().find("Widget.test.redisfleet.io \"bad\" is invalid: "),
        std::string::npos);
    EXPECT_NE(r.body["message"].get<std::string>().find(c.message_part), std::string::npos)
        << r.body["message"];
    ASSERT_EQ(r.body["details"]["causes"].size(), 1u);
    EXPECT_EQ(r.body["details"]["causes"][0]["field"], c.field);
    EXPECT_EQ(r.body["details"]["causes"][0]["reason"], c.reason);
  }
  // Unknown fields: pruned with a warning by default, rejected with fieldValidation=Strict.
  Resp strict = Call("POST", std::string(kWidgets) + "?fieldValidation=Strict",
                     Widget("unknown", {{"size", 1}, {"colour", "red"}}));
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(strict.body["message"],
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: "
            "unknown field \"spec.colour\"");
  Resp pruned =
      Call("POST", kWidgets,
           Widget("unknown",
                  {{"size", 1}, {"colour", "red"}, {"extra", {{"anything", {{"goes", 1}}}}}}));
  ASSERT_EQ(pruned.status, 201);
  EXPECT_FALSE(pruned.body["spec"].contains("colour"));
  EXPECT_EQ(pruned.body["spec"]["extra"]["anything"]["goes"], 1);  // preserve-unknown-fields
  EXPECT_NE(pruned.warning.find("unknown field \\\"spec.colour\\\""), std::string::npos)
      << pruned.warning;
  // Updates are validated too.
  Resp upd = Call("PATCH", std::string(kWidgets) + "/unknown", json{{"spec", {{"size", 100}}}},
                  "application/merge-patch+json");
  EXPECT_EQ(upd.status, 422);
  EXPECT_EQ(Call("DELETE", std::string(kWidgets) + "/unknown").status, 200);
}

TEST(FakeKubeApiServer, SecretsEventsAndLeases) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "conn"}}},
                 {"stringData", {{"password", "hunter2"}}}};
  Resp s = Call("POST", "/api/v1/namespaces/default/secrets", secret);
  ASSERT_EQ(s.status, 201) << s.body.dump();
  EXPECT_EQ(s.body["data"]["password"], "aHVudGVyMg==");
  EXPECT_FALSE(s.body.contains("stringData"));
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/secrets/conn").status, 200);
  Resp missing = Call("GET", "/api/v1/namespaces/default/secrets/nope");
  EXPECT_EQ(missing.body["message"], "secrets \"nope\" not found");

  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "x.1"}}},
             {"reason", "Created"},
             {"count", 1}};
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/events", ev).status, 201);
  Resp evp = Call("PATCH", "/api/v1/namespaces/default/events/x.1", json{{"count", 2}},
                  "application/strategic-merge-patch+json");
  ASSERT_EQ(evp.status, 200);
  EXPECT_EQ(evp.body["count"], 2);

  const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "redis-fleet"}}},
                {"spec", {{"holderIdentity", "a"}, {"leaseDurationSeconds", 15}}}};
  Resp l = Call("POST", leases, lease);
  ASSERT_EQ(l.status, 201);
  json renew = l.body;
  renew["spec"]["renewTime"] = "2024-05-01T12:00:00.123456Z";
  Resp r1 = Call("PUT", leases + "/redis-fleet", renew);
  ASSERT_EQ(r1.status, 200);
  Resp r2 = Call("PUT", leases + "/redis-fleet", renew);  // stale resourceVersion
  EXPECT_EQ(r2.status, 409);
  EXPECT_EQ(r2.body["message"],
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"redis-fleet\": the "
            "object has been modified; please apply your changes to the latest version and try "
            "again");
  EXPECT_EQ(Call("POST", leases, lease).status, 409);
}

TEST(FakeKubeApiServer, FaultInjection) {
  Server().FailNextRequests(2);
  EXPECT_EQ(Call("GET", kWidgets).status, 500);
  Resp second = Call("GET", kWidgets);
  EXPECT_EQ(second.status, 500);
  EXPECT_EQ(second.body["kind"], "Status");
  EXPECT_EQ(Call("GET", kWidgets).status, 200);
  // Over HTTP too.
  ASSERT_EQ(Call("POST", "/fake/fail-next?n=1&code=503").status, 200);
  EXPECT_EQ(Call("GET", kWidgets).status, 503);
  EXPECT_EQ(Call("GET", kWidgets).status, 200);

  Server().SetLatency(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Call("GET", kWidgets).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  Server().SetLatency(std::chrono::milliseconds(0));

  Watcher watch(std::string(kWidgets) + "?watch=1");
  ASSERT_TRUE(WaitUntil([&] { return Server().OpenWatches() >= 1; }));
  ASSERT_EQ(Call("POST", "/fake/cut-watches").status, 200);
  ASSERT_TRUE(WaitUntil([&] { return watch.ended(); }));
  ASSERT_TRUE(WaitUntil([&] { return Server().OpenWatches() == 0; }));
}

// ---- the real kubectl -------------------------------------------------------------------------

class Kubectl {
 public:
  redisfleet::testing::CommandResult Run(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env",         "HOME=" + home_.path(),
                                     "KUBECONFIG=", "/usr/bin/kubectl",
                                     "--server",    Server().url(),
                                     "--cache-dir", home_ / "cache",
                                     "-n",          "default"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  std::string Write(const std::string& name, const std::string& text) {
    redisfleet::testing::WriteText(home_ / name, text);
    return home_ / name;
  }

 private:
  TempDir home_;
};

constexpr const char* kKubectlWidget = R"(apiVersion: test.redisfleet.io/v1
kind: Widget
metadata:
  name: kw
spec:
  size: SIZE
)";

std::string Manifest(const std::string& size) {
  std::string s = kKubectlWidget;
  s.replace(s.find("SIZE"), 4, size);
  return s;
}

TEST(FakeKubeApiServerKubectl, ApplyGetDeleteAndSchemaError) {
  Kubectl k;
  const std::string file = k.Write("w.yaml", Manifest("3"));
  auto created = k.Run({"apply", "-f", file});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_NE(created.out.find("widget.test.redisfleet.io/kw created"), std::string::npos)
      << created.out;
  auto obj = Server().GetObject("test.redisfleet.io", "widgets", "default", "kw");
  ASSERT_TRUE(obj.has_value());
  EXPECT_TRUE(obj->at("metadata")
                  .at("annotations")
                  .contains("kubectl.kubernetes.io/last-applied-configuration"));

  auto unchanged = k.Run({"apply", "-f", file});
  ASSERT_EQ(unchanged.exit_code, 0) << unchanged.err;
  EXPECT_NE(unchanged.out.find("unchanged"), std::string::npos) << unchanged.out;

  k.Write("w.yaml", Manifest("7"));
  auto configured = k.Run({"apply", "-f", file});
  ASSERT_EQ(configured.exit_code, 0) << configured.out << configured.err;
  EXPECT_NE(configured.out.find("widget.test.redisfleet.io/kw configured"), std::string::npos)
      << configured.out;
  obj = Server().GetObject("test.redisfleet.io", "widgets", "default", "kw");
  EXPECT_EQ(obj->at("spec").at("size"), 7);
  EXPECT_EQ(obj->at("metadata").at("generation"), 2);

  auto table = k.Run({"get", "widgets"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("NAME"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("SIZE"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("AGE"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("kw"), std::string::npos) << table.out;
  auto by_short = k.Run({"get", "wd", "kw"});
  ASSERT_EQ(by_short.exit_code, 0) << by_short.err;
  EXPECT_NE(by_short.out.find("7"), std::string::npos) << by_short.out;

  auto as_json = k.Run({"get", "widget", "kw", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  json j = json::parse(as_json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << as_json.out;
  EXPECT_EQ(j["spec"]["size"], 7);
  EXPECT_EQ(j["kind"], "Widget");

  const std::string bad = k.Write("bad.yaml", Manifest("42"));
  auto refused = k.Run({"apply", "-f", bad});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("is invalid"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("spec.size"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("less than or equal to 10"), std::string::npos) << refused.err;

  const std::string unknown = k.Write("unknown.yaml", Manifest("1") + "  colour: red\n");
  auto strict = k.Run({"apply", "-f", unknown});
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.err.find("unknown field \"spec.colour\""), std::string::npos) << strict.err;

  auto deleted = k.Run({"delete", "-f", file});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  EXPECT_NE(deleted.out.find("widget.test.redisfleet.io \"kw\" deleted"), std::string::npos)
      << deleted.out;
  EXPECT_FALSE(Server().GetObject("test.redisfleet.io", "widgets", "default", "kw").has_value());
  auto empty = k.Run({"get", "widgets"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("No resources found in default namespace."), std::string::npos)
      << empty.err;
}

TEST(FakeKubeApiServerKubectl, DeleteWaitsForFinalizersThroughWatch) {
  Kubectl k;
  const std::string file = k.Write("f.yaml", R"(apiVersion: test.redisfleet.io/v1
kind: Widget
metadata:
  name: kf
  finalizers: [redisfleet.io/cleanup]
spec:
  size: 1
)");
  ASSERT_EQ(k.Run({"apply", "-f", file}).exit_code, 0);
  redisfleet::testing::CommandResult deleted;
  std::thread t([&] { deleted = k.Run({"delete", "widget", "kf", "--timeout=60s"}); });
  // kubectl waits on a watch; the "controller" removes the finalizer.
  const bool marked = WaitUntil([&] {
    auto o = Server().GetObject("test.redisfleet.io", "widgets", "default", "kf");
    return o && o->at("metadata").contains("deletionTimestamp") && Server().OpenWatches() >= 1;
  });
  Resp rm = Call("PATCH", std::string(kWidgets) + "/kf",
                 json{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
  t.join();
  ASSERT_TRUE(marked);
  EXPECT_EQ(rm.status, 200);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  EXPECT_NE(deleted.out.find("deleted"), std::string::npos);
}

// ---- the binary and the repository's CRDs -----------------------------------------------------

TEST(FakeKubeApiServerBinary, ListensAndPrintsUrl) {
  TempDir dir;
  redisfleet::testing::Child child(
      {FAKE_KUBE_BIN, "--listen", "127.0.0.1:0", "--crds", FAKE_KUBE_TESTDATA}, dir / "log");
  std::string url;
  ASSERT_TRUE(WaitUntil([&] {
    const std::string log = child.Log();
    const auto nl = log.find('\n');
    if (nl == std::string::npos) return false;
    url = log.substr(0, nl);
    return true;
  }));
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  const int port = std::stoi(url.substr(std::string("http://127.0.0.1:").size()));
  auto [code, body] = redisfleet::testing::HttpGet(port, kGroupPath);
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find("widgets"), std::string::npos);
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(std::chrono::seconds(10)), 0);
}

// The repository's CRDs (crds/, written alongside this fake) load, serve and validate.
TEST(FakeKubeApiServerRepoCrds, KubectlApplyGetAndRefuse) {
  FakeKubeApiServer repo;
  ASSERT_TRUE(repo.LoadCrdsFromDir(redisfleet::testing::SourceDir() + "/crds").ok());
  ASSERT_TRUE(repo.Start("127.0.0.1:0").ok());
  TempDir home;
  auto kubectl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"env",         "HOME=" + home.path(),
                                     "KUBECONFIG=", "/usr/bin/kubectl",
                                     "--server",    repo.url(),
                                     "--cache-dir", home / "cache",
                                     "-n",          "default"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  auto resources = kubectl({"api-resources", "--api-group=redisfleet.io"});
  ASSERT_EQ(resources.exit_code, 0) << resources.err;
  for (const char* r : {"redisinstances", "hostpools", "scalingpolicies"}) {
    EXPECT_NE(resources.out.find(r), std::string::npos) << resources.out;
  }
  redisfleet::testing::WriteText(home / "ri.yaml", R"(apiVersion: redisfleet.io/v1alpha1
kind: RedisInstance
metadata:
  name: cache
spec:
  hostPool: local
  memoryMiB: 64
)");
  auto applied = kubectl({"apply", "-f", home / "ri.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  auto obj = repo.GetObject("redisfleet.io", "redisinstances", "default", "cache");
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ(obj->at("spec").at("maxClients"), 100);  // schema default
  auto table = kubectl({"get", "ri"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* col : {"NAME", "PHASE", "PLAN", "HOST", "ENDPOINT", "AGE", "cache"}) {
    EXPECT_NE(table.out.find(col), std::string::npos) << table.out;
  }
  redisfleet::testing::WriteText(home / "bad.yaml", R"(apiVersion: redisfleet.io/v1alpha1
kind: RedisInstance
metadata:
  name: bad
spec:
  hostPool: local
  memoryMiB: 0
  persistence: sometimes
)");
  auto refused = kubectl({"apply", "-f", home / "bad.yaml"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("spec.memoryMiB"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("spec.persistence: Unsupported value: \"sometimes\""),
            std::string::npos)
      << refused.err;
  auto deleted = kubectl({"delete", "ri", "cache"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(repo.GetObject("redisfleet.io", "redisinstances", "default", "cache").has_value());
}

}  // namespace
}  // namespace redisfleet::fakes
