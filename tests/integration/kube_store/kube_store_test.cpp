// KubeStore and KubeSecretStore against the in-process fake API server with the repository's
// CRDs; objects are created with KubeClient, as kubectl would.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "fake_apiserver.h"
#include "kube/client.h"
#include "providers/memory/memory_runtime.h"
#include "store/kube_secrets.h"
#include "store/kube_store.h"
#include "support/wait.h"

namespace redisfleet::store {
namespace {

using nlohmann::json;
using redisfleet::testing::WaitUntil;
using namespace std::chrono_literals;

// Two servers for the whole binary: a regular one, and one with a tiny history and no
// bookmarks, where a resumed watch soon gets 410 Expired.
class KubeEnv : public ::testing::Environment {
 public:
  static inline fakes::FakeKubeApiServer* main = nullptr;
  static inline fakes::FakeKubeApiServer* short_history = nullptr;

  void SetUp() override {
    main = new fakes::FakeKubeApiServer();
    fakes::FakeKubeApiServer::Options o;
    o.history_limit = 5;
    o.bookmark_interval = std::chrono::hours(1);
    o.worker_threads = 16;
    short_history = new fakes::FakeKubeApiServer(o);
    for (auto* s : {main, short_history}) {
      Status st = s->LoadCrdsFromDir(KUBE_STORE_CRDS);
      ASSERT_TRUE(st.ok()) << st.ToString();
      st = s->Start("127.0.0.1:0");
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  void TearDown() override {
    delete main;
    delete short_history;
  }
};
[[maybe_unused]] auto* const kEnv = ::testing::AddGlobalTestEnvironment(new KubeEnv);

class Recorder {
 public:
  std::function<void(const Event&)> Handler() {
    return [this](const Event& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
    };
  }
  int Count(EventType type, const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::count_if(events_.begin(), events_.end(), [&](const Event& e) {
      return e.type == type && e.key.name == name;
    }));
  }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

class KubeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Connect(KubeEnv::main); }

  void Connect(fakes::FakeKubeApiServer* server) {
    server_ = server;
    kube::KubeClient::Options o;
    o.config.server = server->url();
    o.qps = 0;
    client_ = std::make_shared<kube::KubeClient>(o, clock_);
    logger_ = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, std::make_shared<RealClock>(),
                                       [this](const std::string& line) {
                                         std::lock_guard<std::mutex> lock(log_mu_);
                                         log_ += line + "\n";
                                       });
  }

  std::unique_ptr<KubeStore> NewStore(KubeStore::Options o = {}) {
    if (o.namespace_.empty()) o.namespace_ = ns_;
    return std::make_unique<KubeStore>(o, client_, logger_);
  }

  // A namespace of its own per test run (the servers live as long as the binary).
  static std::string Namespace(const std::string& base) {
    static std::atomic<int> runs{0};
    return base + "-" + std::to_string(++runs);
  }

  std::string Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  api::RedisInstance Instance(const std::string& name, int64_t memory = 64, const std::string& ns = "") {
    api::RedisInstance ri;
    ri.metadata.name = name;
    ri.metadata.namespace_ = ns.empty() ? ns_ : ns;
    ri.spec.host_pool = "pool";
    ri.spec.memory_mib = memory;
    return ri;
  }

  api::HostPool Pool(const std::string& name) {
    api::HostPool p;
    p.metadata.name = name;
    p.metadata.namespace_ = ns_;
    p.spec.capacity = {40, 1024};
    return p;
  }

  // Creates like kubectl create (no status); retries injected failures.
  json Create(const api::Object& o) { return CreateJson(api::KindOf(o), api::MetaOf(o).namespace_, Wire(o)); }
  json CreateJson(api::Kind kind, const std::string& ns, const json& j) {
    StatusOr<json> got = UnavailableError("not tried");
    WaitUntil([&] {
      got = client_->Create(KindPath(kind, ns), j);
      return got.has_value() || got.error().code() != StatusCode::kUnavailable;
    });
    EXPECT_TRUE(got.has_value()) << got.error().ToString();
    return got.value_or(json());
  }
  void Patch(api::Kind kind, const std::string& name, const json& patch) {
    auto got = client_->MergePatch(KindPath(kind, ns_).Named(name), patch);
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
  }
  void Delete(api::Kind kind, const std::string& name) {
    auto got = client_->Delete(KindPath(kind, ns_).Named(name));
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
  }
  static json Wire(const api::Object& o) {
    json j = api::ToJson(o);
    j.erase("status");
    return j;
  }

  bool Cached(KubeStore& store, api::Kind kind, const std::string& name) {
    return store.Get(kind, api::Key{ns_, name}).has_value();
  }

  std::string ns_ = "default";
  RealClock clock_;
  fakes::FakeKubeApiServer* server_ = nullptr;
  std::shared_ptr<kube::KubeClient> client_;
  std::shared_ptr<Logger> logger_;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(KubeStoreTest, ListsThenWatchesAndReportsSpecAndLabelChangesButNotStatus) {
  ns_ = Namespace("basics");
  Create(Pool("pool"));
  Create(Instance("first"));
  auto store = NewStore();
  ASSERT_TRUE(store->Start().ok());
  ASSERT_TRUE(Cached(*store, api::Kind::kHostPool, "pool"));
  ASSERT_TRUE(Cached(*store, api::Kind::kRedisInstance, "first"));
  Recorder rec;
  ASSERT_TRUE(store->Watch(api::Kind::kRedisInstance, rec.Handler()).ok());
  EXPECT_EQ(rec.Count(EventType::kAdded, "first"), 1);

  Create(Instance("second"));
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kAdded, "second") == 1; }));
  auto list = store->List(api::Kind::kRedisInstance);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(api::MetaOf((*list)[0]).name, "first");
  EXPECT_EQ(api::MetaOf((*list)[1]).name, "second");

  Patch(api::Kind::kRedisInstance, "first", {{"spec", {{"memoryMiB", 128}}}});
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kModified, "first") == 1; }));
  auto got = store->Get(api::Kind::kRedisInstance, {ns_, "first"});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<api::RedisInstance>(*got).spec.memory_mib, 128);
  EXPECT_EQ(api::MetaOf(*got).generation, 2);

  // A status write (ours, then someone else's) is no event; a label change is.
  auto ri = std::get<api::RedisInstance>(*got);
  ri.status.phase = api::Phase::kPending;
  ri.status.host = "waiting";
  ASSERT_TRUE(store->UpdateStatus(ri).ok());
  Patch(api::Kind::kRedisInstance, "first", {{"metadata", {{"labels", {{"team", "a"}}}}}});
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kModified, "first") == 2; }));
  Create(Instance("marker"));
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kAdded, "marker") == 1; }));
  EXPECT_EQ(rec.Count(EventType::kModified, "first"), 2);
  got = store->Get(api::Kind::kRedisInstance, {ns_, "first"});
  EXPECT_EQ(api::MetaOf(*got).labels.at("team"), "a");
  EXPECT_EQ(std::get<api::RedisInstance>(*got).status.host, "waiting");

  Delete(api::Kind::kRedisInstance, "second");
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kDeleted, "second") == 1; }));
  EXPECT_EQ(store->Get(api::Kind::kRedisInstance, {ns_, "second"}).error().code(), StatusCode::kNotFound);
  store->Stop();
}

TEST_F(KubeStoreTest, UpdateStatusWritesThroughAndConflictsOnAStaleVersion) {
  ns_ = Namespace("status");
  Create(Instance("cache"));
  auto store = NewStore();
  ASSERT_TRUE(store->Start().ok());
  auto got = store->Get(api::Kind::kRedisInstance, {ns_, "cache"});
  ASSERT_TRUE(got.has_value());
  auto stale = std::get<api::RedisInstance>(*got);
  auto ri = stale;
  ri.status.phase = api::Phase::kReady;
  ri.status.host = "h1";
  ri.status.observed_generation = 1;
  ASSERT_TRUE(store->UpdateStatus(ri).ok());

  // The cache has the new version at once (a reconciler's next write is not stale).
  auto now = store->Get(api::Kind::kRedisInstance, {ns_, "cache"});
  EXPECT_NE(api::MetaOf(*now).resource_version, stale.metadata.resource_version);
  EXPECT_EQ(std::get<api::RedisInstance>(*now).status.host, "h1");
  auto on_server = server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache");
  ASSERT_TRUE(on_server.has_value());
  EXPECT_EQ((*on_server)["status"]["phase"], "Ready");
  EXPECT_EQ((*on_server)["status"]["host"], "h1");
  EXPECT_EQ((*on_server)["spec"]["memoryMiB"], 64);

  stale.status.host = "h2";
  Status st = store->UpdateStatus(stale);
  EXPECT_EQ(st.code(), StatusCode::kConflict) << st.ToString();
  EXPECT_EQ((*server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache"))["status"]["host"], "h1");

  // Status replaced wholesale: a later write clears what it leaves out.
  auto next = std::get<api::RedisInstance>(*now);
  next.status.host.clear();
  ASSERT_TRUE(store->UpdateStatus(next).ok());
  EXPECT_FALSE((*server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache"))["status"].contains("host"));

  auto gone = Instance("gone");
  EXPECT_EQ(store->UpdateStatus(gone).code(), StatusCode::kNotFound);
}

TEST_F(KubeStoreTest, DeletionWithFinalizersIsModifiedThenDeletedWhenTheyAreCleared) {
  ns_ = Namespace("finalizers");
  auto ri = Instance("cache");
  ri.metadata.finalizers = {std::string(api::kFinalizer)};
  Create(ri);
  auto store = NewStore();
  ASSERT_TRUE(store->Start().ok());
  Recorder rec;
  ASSERT_TRUE(store->Watch(api::Kind::kRedisInstance, rec.Handler()).ok());
  auto before = std::get<api::RedisInstance>(*store->Get(api::Kind::kRedisInstance, {ns_, "cache"}));

  Delete(api::Kind::kRedisInstance, "cache");
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kModified, "cache") == 1; }));
  auto deleting = store->Get(api::Kind::kRedisInstance, {ns_, "cache"});
  ASSERT_TRUE(deleting.has_value());
  EXPECT_TRUE(api::MetaOf(*deleting).deleting());

  // A stale version can't clear them.
  EXPECT_EQ(store->SetFinalizers(before, {}).code(), StatusCode::kConflict);
  ASSERT_TRUE(store->SetFinalizers(*deleting, {}).ok());
  EXPECT_EQ(rec.Count(EventType::kDeleted, "cache"), 1);  // delivered before SetFinalizers returned
  EXPECT_EQ(store->Get(api::Kind::kRedisInstance, {ns_, "cache"}).error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache").has_value());

  // The watch's own DELETED adds nothing, and a later object of the same name is new.
  Create(Instance("cache"));
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kAdded, "cache") == 2; }));
  EXPECT_EQ(rec.Count(EventType::kDeleted, "cache"), 1);
}

TEST_F(KubeStoreTest, ChangesMadeWhileWatchesAreCutAreSeen) {
  ns_ = Namespace("cut");
  Create(Instance("a"));
  Create(Instance("b"));
  auto store = NewStore();
  ASSERT_TRUE(store->Start().ok());
  Recorder rec;
  ASSERT_TRUE(store->Watch(api::Kind::kRedisInstance, rec.Handler()).ok());
  for (int round = 0; round < 3; ++round) {
    server_->CutWatches();
    const std::string name = "new" + std::to_string(round);
    Create(Instance(name));
    Patch(api::Kind::kRedisInstance, "a", {{"spec", {{"memoryMiB", 100 + round}}}});
    ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kAdded, name) == 1; })) << round;
    ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kModified, "a") == round + 1; })) << round;
  }
  server_->CutWatches();
  Delete(api::Kind::kRedisInstance, "b");
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kDeleted, "b") == 1; }));
  auto a = store->Get(api::Kind::kRedisInstance, {ns_, "a"});
  EXPECT_EQ(std::get<api::RedisInstance>(*a).spec.memory_mib, 102);
  EXPECT_EQ(store->List(api::Kind::kRedisInstance)->size(), 4u);
  EXPECT_EQ(rec.Count(EventType::kAdded, "a"), 1);  // resuming replays nothing twice
}

TEST_F(KubeStoreTest, ExpiredHistoryRelistsAndTheDiffMissesNothing) {
  Connect(KubeEnv::short_history);
  ns_ = Namespace("expired");
  Create(Instance("keep"));
  Create(Instance("edit"));
  Create(Instance("drop"));
  KubeStore::Options o;
  o.kinds = {api::Kind::kRedisInstance};
  o.retry_backoff = 1500ms;
  auto store = NewStore(o);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_EQ(store->Relists(), 1u);
  Recorder rec;
  ASSERT_TRUE(store->Watch(api::Kind::kRedisInstance, rec.Handler()).ok());

  // Push the store's resourceVersion out of the history (changes it does not watch).
  for (int i = 0; i < 10; ++i) Create(Instance("filler" + std::to_string(i), 64, ns_ + "-elsewhere"));
  // Its watch ends and the next attempt fails, so the changes below happen while it is away.
  const auto requests = server_->RequestCount();
  server_->FailNextRequests(1, 500);
  server_->CutWatches();
  ASSERT_TRUE(WaitUntil([&] { return server_->RequestCount() > requests; }));
  Patch(api::Kind::kRedisInstance, "edit", {{"spec", {{"memoryMiB", 256}}}});
  Delete(api::Kind::kRedisInstance, "drop");
  Create(Instance("born"));

  ASSERT_TRUE(WaitUntil([&] {
    return rec.Count(EventType::kModified, "edit") == 1 && rec.Count(EventType::kDeleted, "drop") == 1 &&
           rec.Count(EventType::kAdded, "born") == 1;
  }));
  EXPECT_GE(store->Relists(), 2u);
  EXPECT_EQ(rec.Count(EventType::kModified, "keep"), 0);
  EXPECT_EQ(rec.Count(EventType::kAdded, "keep"), 1);
  EXPECT_EQ(std::get<api::RedisInstance>(*store->Get(api::Kind::kRedisInstance, {ns_, "edit"})).spec.memory_mib,
            256);
  EXPECT_EQ(store->List(api::Kind::kRedisInstance)->size(), 3u);
  EXPECT_NE(Log().find("relisting"), std::string::npos);
}

TEST_F(KubeStoreTest, AnObjectTheCodecRejectsIsSkippedAndLogged) {
  ns_ = Namespace("rejects");
  auto bad = Wire(Pool("bad"));
  bad["spec"]["minHosts"] = 5;
  bad["spec"]["maxHosts"] = 2;
  CreateJson(api::Kind::kHostPool, ns_, bad);
  Create(Pool("good"));
  auto store = NewStore();
  ASSERT_TRUE(store->Start().ok());
  auto list = store->List(api::Kind::kHostPool);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(api::MetaOf((*list)[0]).name, "good");
  EXPECT_NE(Log().find(ns_ + "/bad"), std::string::npos) << Log();
  EXPECT_NE(Log().find("spec.minHosts"), std::string::npos) << Log();

  // Through the watch too; and a good object that turns bad keeps its last good version.
  Recorder rec;
  ASSERT_TRUE(store->Watch(api::Kind::kHostPool, rec.Handler()).ok());
  bad["metadata"]["name"] = "bad2";
  CreateJson(api::Kind::kHostPool, ns_, bad);
  Patch(api::Kind::kHostPool, "good", {{"spec", {{"minHosts", 9}, {"maxHosts", 1}}}});
  Create(Pool("marker"));
  ASSERT_TRUE(WaitUntil([&] { return rec.Count(EventType::kAdded, "marker") == 1; }));
  EXPECT_EQ(rec.Count(EventType::kAdded, "bad2"), 0);
  EXPECT_EQ(rec.Count(EventType::kModified, "good"), 0);
  EXPECT_FALSE(Cached(*store, api::Kind::kHostPool, "bad2"));
  EXPECT_EQ(std::get<api::HostPool>(*store->Get(api::Kind::kHostPool, {ns_, "good"})).spec.max_hosts,
            Pool("x").spec.max_hosts);
  EXPECT_NE(Log().find(ns_ + "/bad2"), std::string::npos);
}

TEST_F(KubeStoreTest, ConnectionSecretsRoundTripWithAnOwnerReference) {
  ns_ = Namespace("secrets");
  Create(Instance("db"));
  auto store = std::shared_ptr<KubeStore>(NewStore());
  ASSERT_TRUE(store->Start().ok());
  KubeSecretStore secrets(client_, store);
  const api::Key key{ns_, "db"};
  std::map<std::string, std::string> data{
      {"host", "10.0.0.1"}, {"port", "6379"}, {"password", "s3cret-Pa55"}, {"url", "redis://10.0.0.1:6379"}};
  auto name = secrets.WriteConnection(key, data);
  ASSERT_TRUE(name.has_value()) << name.error().ToString();
  EXPECT_EQ(*name, "db-connection");

  auto obj = server_->GetObject("", "secrets", ns_, "db-connection");
  ASSERT_TRUE(obj.has_value());
  const auto uid = api::MetaOf(*store->Get(api::Kind::kRedisInstance, key)).uid;
  ASSERT_FALSE(uid.empty());
  const json& owner = (*obj)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["apiVersion"], "redisfleet.io/v1alpha1");
  EXPECT_EQ(owner["kind"], "RedisInstance");
  EXPECT_EQ(owner["name"], "db");
  EXPECT_EQ(owner["uid"], uid);
  EXPECT_EQ((*obj)["metadata"]["labels"]["redisfleet.io/instance"], ns_ + ".db");
  EXPECT_EQ((*obj)["data"]["password"], "czNjcmV0LVBhNTU=");

  auto read = secrets.ReadConnection(key);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(*read, data);

  data["password"] = "rotated";
  ASSERT_TRUE(secrets.WriteConnection(key, data).has_value());
  auto pw = secrets.Read(ns_, api::SecretKeyRef{"db-connection", "password"});
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(*pw, "rotated");
  auto missing = secrets.Read(ns_, api::SecretKeyRef{"db-connection", "nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.error().message().find("rotated"), std::string::npos);
  EXPECT_EQ(secrets.Read(ns_, api::SecretKeyRef{"absent", "k"}).error().code(), StatusCode::kNotFound);

  // A Secret written by someone else (stringData, as kubectl does) reads the same.
  json other = {{"apiVersion", "v1"}, {"kind", "Secret"},
                {"metadata", {{"name", "user"}, {"namespace", ns_}}},
                {"stringData", {{"token", "abc"}}}};
  kube::ResourcePath secrets_path;
  secrets_path.version = "v1";
  secrets_path.plural = "secrets";
  secrets_path.namespace_name = ns_;
  ASSERT_TRUE(client_->Create(secrets_path, other).has_value());
  EXPECT_EQ(secrets.Read(ns_, api::SecretKeyRef{"user", "token"}).value_or(""), "abc");

  ASSERT_TRUE(secrets.DeleteConnection(key).ok());
  EXPECT_TRUE(secrets.DeleteConnection(key).ok());
  EXPECT_EQ(secrets.ReadConnection(key).error().code(), StatusCode::kNotFound);
}

TEST_F(KubeStoreTest, CachedConnectionSecretsCostOneRequestPerChangeAndFollowOutsideEdits) {
  ns_ = Namespace("secret-cache");
  Create(Instance("db"));
  Create(Instance("other"));
  auto store = std::shared_ptr<KubeStore>(NewStore());
  ASSERT_TRUE(store->Start().ok());
  KubeSecretStore::Options so;
  so.namespace_ = ns_;
  KubeSecretStore secrets(so, client_, store, logger_);
  std::mutex mu;
  std::vector<std::string> changed;
  secrets.SetOnChanged([&](const api::Key& k) {
    std::lock_guard<std::mutex> lock(mu);
    changed.push_back(k.ToString());
  });
  auto changed_count = [&](const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);
    return std::count(changed.begin(), changed.end(), key);
  };
  ASSERT_TRUE(secrets.Start().ok());
  kube::ResourcePath secrets_path;
  secrets_path.version = "v1";
  secrets_path.plural = "secrets";
  secrets_path.namespace_name = ns_;

  // Someone edits a connection Secret: the watch reports it and the cache serves the edit.
  const api::Key other{ns_, "other"};
  ASSERT_TRUE(secrets.WriteConnection(other, {{"password", "first"}}).has_value());
  ASSERT_TRUE(client_->MergePatch(secrets_path.Named("other-connection"),
                                  json{{"data", {{"password", "ZWRpdGVk"}}}}).has_value());  // "edited"
  ASSERT_TRUE(WaitUntil([&] { return changed_count(other.ToString()) == 1; }));
  EXPECT_EQ(secrets.ReadConnection(other).value_or(std::map<std::string, std::string>{})["password"], "edited");

  // A new instance's Secret: password first, then the full data, then reconciles that change
  // nothing: one request per change, none for reads.
  const api::Key db{ns_, "db"};
  const std::map<std::string, std::string> full{
      {"password", "pw"}, {"host", "127.0.0.1"}, {"port", "7000"}, {"url", "redis://127.0.0.1:7000"}};
  const auto before = server_->RequestCount();
  EXPECT_EQ(secrets.ReadConnection(db).error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(secrets.WriteConnection(db, {{"password", "pw"}}).has_value());
  EXPECT_EQ(secrets.ReadConnection(db).value_or(std::map<std::string, std::string>{})["password"], "pw");
  ASSERT_TRUE(secrets.WriteConnection(db, full).has_value());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(secrets.WriteConnection(db, full).has_value());
    EXPECT_EQ(secrets.ReadConnection(db).value_or(std::map<std::string, std::string>{}), full);
  }
  EXPECT_EQ(server_->RequestCount() - before, 2u);  // POST, PUT
  auto on_server = server_->GetObject("", "secrets", ns_, "db-connection");
  ASSERT_TRUE(on_server.has_value());
  EXPECT_EQ((*on_server)["data"]["port"], "NzAwMA==");
  EXPECT_FALSE((*on_server)["metadata"]["ownerReferences"].empty());
  EXPECT_EQ(changed_count(db.ToString()), 0) << Log();  // our own writes are not outside changes

  // Someone deletes it: reported, read as gone, and the next write creates it again.
  ASSERT_TRUE(client_->Delete(secrets_path.Named("db-connection")).has_value());
  ASSERT_TRUE(WaitUntil([&] { return changed_count(db.ToString()) == 1; }));
  EXPECT_EQ(secrets.ReadConnection(db).error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(secrets.WriteConnection(db, full).has_value());
  EXPECT_TRUE(server_->GetObject("", "secrets", ns_, "db-connection").has_value());

  // Deleting it ourselves is not an outside change.
  ASSERT_TRUE(secrets.DeleteConnection(db).ok());
  EXPECT_EQ(secrets.ReadConnection(db).error().code(), StatusCode::kNotFound);
  secrets.Stop();
  EXPECT_EQ(changed_count(db.ToString()), 1);
}

TEST_F(KubeStoreTest, RedisInstanceReconcilerReachesReadyThroughTheApiServer) {
  ns_ = Namespace("reconcile");
  Create(Pool("pool"));
  Create(Instance("cache"));
  auto store = std::shared_ptr<KubeStore>(NewStore());
  ASSERT_TRUE(store->Start().ok());
  auto secrets = std::make_shared<KubeSecretStore>(client_, store);
  auto runtime = std::make_shared<providers::MemoryRuntime>();
  providers::Host host;
  host.name = "h1";
  host.provider_id = "h1";
  host.address = "127.0.0.1";
  auto hosts = std::make_shared<providers::MemoryHostProvider>(std::vector<providers::Host>{host});
  auto pools = std::make_shared<controllers::PoolRegistry>(
      [&](const api::HostPool&) -> StatusOr<controllers::PoolDrivers> {
        return controllers::PoolDrivers{hosts, runtime};
      });
  auto fake_clock = std::make_shared<FakeClock>();
  controllers::RedisInstanceReconciler ri(store, secrets, pools, std::make_shared<controllers::UsageLedger>(),
                                          nullptr, nullptr, fake_clock, std::make_shared<SeededRandom>(7),
                                          Logger::Null());
  const api::Key key{ns_, "cache"};
  ASSERT_TRUE(WaitUntil([&] {
    auto r = ri.Reconcile(key);
    EXPECT_TRUE(r.has_value() || r.error().code() == StatusCode::kConflict) << r.error().ToString();
    auto on_server = server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache");
    return on_server && on_server->contains("status") && (*on_server)["status"].value("phase", "") == "Ready";
  }, 20s, 50ms));
  auto on_server = *server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache");
  EXPECT_EQ(on_server["status"]["host"], "h1");
  EXPECT_EQ(on_server["metadata"]["finalizers"][0], std::string(api::kFinalizer));
  EXPECT_EQ(runtime->Count(), 1u);
  auto conn = server_->GetObject("", "secrets", ns_, on_server["status"].value("connectionSecret", ""));
  ASSERT_TRUE(conn.has_value()) << on_server["status"].dump();
  EXPECT_EQ((*conn)["metadata"]["ownerReferences"][0]["uid"], on_server["metadata"]["uid"]);

  // Deleting it: the reconciler stops the server and clears the finalizer; the object goes.
  Delete(api::Kind::kRedisInstance, "cache");
  ASSERT_TRUE(WaitUntil([&] { return api::MetaOf(*store->Get(api::Kind::kRedisInstance, key)).deleting(); }));
  ASSERT_TRUE(WaitUntil([&] {
    (void)ri.Reconcile(key);
    return !server_->GetObject("redisfleet.io", "redisinstances", ns_, "cache").has_value();
  }, 20s, 50ms));
  EXPECT_EQ(runtime->Count(), 0u);
}

}  // namespace
}  // namespace redisfleet::store
