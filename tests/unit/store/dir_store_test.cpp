#include "store/dir_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/random.h"
#include "unit/store/test_util.h"

namespace redisfleet::store {
namespace {

namespace fs = std::filesystem;
using testing::Docs;
using testing::EventRecorder;
using testing::InstanceYaml;
using testing::PoolYaml;
using testing::ReadText;
using testing::WaitUntil;
using testing::WriteText;

constexpr auto kRI = api::Kind::kRedisInstance;
constexpr auto kHP = api::Kind::kHostPool;
const api::Key kCache{"default", "cache"};
// For tests that scan only when they call Rescan().
constexpr std::chrono::milliseconds kNever = std::chrono::hours(1);

class DirStoreTest : public ::testing::Test {
 protected:
  DirStoreTest() { fs::create_directories(dir_); }

  std::unique_ptr<DirStore> MakeStore(
      std::chrono::milliseconds debounce = std::chrono::milliseconds(20),
      std::chrono::milliseconds resync = std::chrono::seconds(10),
      std::chrono::milliseconds write_behind = std::chrono::milliseconds(0),
      std::string generated_dir = "", uint64_t log_slack_bytes = 8ull << 20) {
    auto logger = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, clock_,
                                           [this](const std::string& line) {
                                             std::lock_guard<std::mutex> lock(log_mu_);
                                             log_.push_back(line);
                                           });
    return std::make_unique<DirStore>(DirStore::Options{dir_, state_, debounce, resync, write_behind, generated_dir,
                                                        log_slack_bytes}, clock_,
                                      logger, random_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // Whether the state on disk (what a restart or `redis-fleet get` reads) holds the object.
  bool Persisted(api::Kind kind, const std::string& name) const {
    auto all = DirStore::ReadState(state_, kind);
    if (!all.ok()) return false;
    for (const auto& o : *all)
      if (api::MetaOf(o).name == name) return true;
    return false;
  }
  std::string LogFile() const { return state_ + "/objects.jsonl"; }

  int LogLinesContaining(const std::string& a, const std::string& b) {
    std::lock_guard<std::mutex> lock(log_mu_);
    int n = 0;
    for (const auto& line : log_)
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) ++n;
    return n;
  }

  static const api::RedisInstance& RI(const StatusOr<api::Object>& o) {
    return std::get<api::RedisInstance>(*o);
  }

  testing::TempDir tmp_;
  std::string dir_ = tmp_.path() + "/desired";
  std::string state_ = tmp_.path() + "/state";
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<SeededRandom> random_ = std::make_shared<SeededRandom>(7);
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(DirStoreTest, InitialLoadListsAndPersistsEverything) {
  WriteText(Path("pools.yaml"), PoolYaml("local"));
  WriteText(Path("cache.yml"), Docs({InstanceYaml("cache"), InstanceYaml("sessions")}));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());

  auto instances = store->List(kRI);
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 2u);
  EXPECT_EQ(api::MetaOf((*instances)[0]).name, "cache");
  EXPECT_EQ(api::MetaOf((*instances)[1]).name, "sessions");
  EXPECT_EQ(store->List(kHP)->size(), 1u);
  EXPECT_TRUE(store->List(api::Kind::kScalingPolicy)->empty());

  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  const auto& meta = RI(cache).metadata;
  EXPECT_EQ(meta.uid.size(), 36u);
  EXPECT_EQ(meta.uid[14], '4');
  EXPECT_EQ(meta.generation, 1);
  EXPECT_EQ(meta.resource_version, "1");
  EXPECT_EQ(meta.creation_timestamp, clock_->Now());
  EXPECT_EQ(RI(cache).spec.host_pool, "local");
  EXPECT_NE(meta.uid, api::MetaOf((*instances)[1]).uid);

  EXPECT_TRUE(Persisted(kRI, "cache"));
  EXPECT_TRUE(Persisted(kRI, "sessions"));
  EXPECT_TRUE(Persisted(kHP, "local"));
  EXPECT_TRUE(store->Problems().empty());

  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  EXPECT_EQ(recorder.Count(EventType::kAdded, "default/cache"), 1);
  EXPECT_EQ(recorder.Count(EventType::kAdded, "default/sessions"), 1);
  EXPECT_EQ(recorder.events().size(), 2u);
  EXPECT_EQ(store->Get(kRI, {"default", "nope"}).status().code(), StatusCode::kNotFound);
}

TEST_F(DirStoreTest, IgnoresHiddenTempAndNestedFiles) {
  struct Case {
    std::string file;
    bool loaded;
  };
  const std::vector<Case> cases = {
      {"a.yaml", true},       {"b.yml", true},           {".hidden.yaml", false},
      {"notes.txt", false},   {"c.yaml~", false},        {"#d.yaml#", false},
      {".e.yaml.swp", false}, {"f.yaml.tmp.123", false}, {"sub/g.yaml", false},
  };
  fs::create_directories(dir_ + "/sub");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    WriteText(Path(cases[i].file), InstanceYaml("ri-" + std::to_string(i)));
  }
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].file);
    EXPECT_EQ(store->Get(kRI, {"default", "ri-" + std::to_string(i)}).ok(), cases[i].loaded);
  }
  EXPECT_TRUE(store->Problems().empty());
}

TEST_F(DirStoreTest, EditingASpecBumpsGenerationAndEmitsModified) {
  WriteText(Path("cache.yaml"), InstanceYaml("cache", 64, "a"));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  recorder.Clear();

  WriteText(Path("cache.yaml"), InstanceYaml("cache", 128, "a"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kModified, "default/cache"));
  auto cache = store->Get(kRI, kCache);
  EXPECT_EQ(RI(cache).metadata.generation, 2);
  EXPECT_EQ(RI(cache).spec.memory_mib, 128);
  auto persisted = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(persisted.ok());
  ASSERT_EQ(persisted->size(), 1u);
  EXPECT_EQ(api::MetaOf(persisted->front()).generation, 2);

  // A label change is an event but not a new generation.
  recorder.Clear();
  WriteText(Path("cache.yaml"), InstanceYaml("cache", 128, "b"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kModified, "default/cache"));
  cache = store->Get(kRI, kCache);
  EXPECT_EQ(RI(cache).metadata.generation, 2);
  EXPECT_EQ(RI(cache).metadata.labels.at("tier"), "b");

  // Rewriting the same content changes nothing.
  recorder.Clear();
  const std::string rv = RI(cache).metadata.resource_version;
  WriteText(Path("cache.yaml"), InstanceYaml("cache", 128, "b"));
  ASSERT_TRUE(store->Rescan().ok());
  EXPECT_TRUE(recorder.events().empty());
  EXPECT_EQ(RI(store->Get(kRI, kCache)).metadata.resource_version, rv);
}

TEST_F(DirStoreTest, NewFileEmitsAdded) {
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  EXPECT_TRUE(recorder.events().empty());

  WriteText(Path("new.yaml"), InstanceYaml("cache"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kAdded, "default/cache"));
  EXPECT_EQ(RI(store->Get(kRI, kCache)).metadata.generation, 1);
}

TEST_F(DirStoreTest, RemovedFileDeletesAfterFinalizers) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("plain")}));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  ASSERT_TRUE(store->SetFinalizers(*store->Get(kRI, kCache), {std::string(api::kFinalizer)}).ok());
  recorder.Clear();

  clock_->Advance(std::chrono::seconds(60));
  fs::remove(Path("a.yaml"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kModified, "default/cache"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kDeleted, "default/plain"));
  auto deleting = store->Get(kRI, kCache);
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ(RI(deleting).metadata.deletion_timestamp, clock_->Now());
  EXPECT_EQ(store->List(kRI)->size(), 1u);
  EXPECT_FALSE(Persisted(kRI, "plain"));
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 0);

  ASSERT_TRUE(store->SetFinalizers(*deleting, {}).ok());
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 1);
  EXPECT_EQ(store->Get(kRI, kCache).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Persisted(kRI, "cache"));
}

TEST_F(DirStoreTest, MovingADocumentBetweenFilesIsNotADeletion) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("other")}));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  const std::string uid = RI(store->Get(kRI, kCache)).metadata.uid;
  recorder.Clear();

  WriteText(Path("a.yaml"), InstanceYaml("other"));
  WriteText(Path("b.yaml"), InstanceYaml("cache"));
  ASSERT_TRUE(store->Rescan().ok());

  EXPECT_TRUE(recorder.events().empty());
  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(RI(cache).metadata.uid, uid);
  EXPECT_EQ(RI(cache).metadata.generation, 1);
  EXPECT_FALSE(RI(cache).metadata.deleting());
  EXPECT_TRUE(store->Problems().empty());

  // It now comes from b.yaml alone: removing b.yaml deletes it.
  fs::remove(Path("b.yaml"));
  ASSERT_TRUE(store->Rescan().ok());
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 1);
}

TEST_F(DirStoreTest, RestartKeepsIdentityStatusAndGeneration) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  std::string uid;
  std::string rv;
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
    auto o = *store->Get(kRI, kCache);
    uid = api::MetaOf(o).uid;
    auto& ri = std::get<api::RedisInstance>(o);
    ri.status.phase = api::Phase::kReady;
    ri.status.endpoint = {"127.0.0.1", 6380};
    ri.status.url = "redis://127.0.0.1:6380";
    ASSERT_TRUE(store->UpdateStatus(o).ok());
    WriteText(Path("a.yaml"), InstanceYaml("cache", 256));
    ASSERT_TRUE(store->Rescan().ok());
    rv = RI(store->Get(kRI, kCache)).metadata.resource_version;
    store->Stop();
  }
  clock_->Advance(std::chrono::hours(1));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(RI(cache).metadata.uid, uid);
  EXPECT_EQ(RI(cache).metadata.generation, 2);
  EXPECT_EQ(RI(cache).metadata.resource_version, rv);
  EXPECT_EQ(RI(cache).metadata.creation_timestamp, clock_->Now() - std::chrono::hours(1));
  EXPECT_EQ(RI(cache).status.phase, api::Phase::kReady);
  EXPECT_EQ(RI(cache).status.endpoint.port, 6380);
  EXPECT_EQ(RI(cache).spec.memory_mib, 256);
}

TEST_F(DirStoreTest, ObjectRemovedWhileDownIsDeletedAtStart) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("plain")}));
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
    ASSERT_TRUE(
        store->SetFinalizers(*store->Get(kRI, kCache), {std::string(api::kFinalizer)}).ok());
  }
  fs::remove(Path("a.yaml"));
  clock_->Advance(std::chrono::minutes(5));

  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_EQ(store->Get(kRI, {"default", "plain"}).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Persisted(kRI, "plain"));
  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(RI(cache).metadata.deletion_timestamp, clock_->Now());

  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  ASSERT_TRUE(store->SetFinalizers(*cache, {}).ok());
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 1);
  EXPECT_TRUE(store->List(kRI)->empty());
  EXPECT_TRUE(DirStore::ReadState(state_, kRI)->empty());
}

TEST_F(DirStoreTest, InvalidEditKeepsLastValidSpecAndSetsValidFalse) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache", 64), InstanceYaml("other")}));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  recorder.Clear();

  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache", 0), InstanceYaml("other")}));
  ASSERT_TRUE(WaitUntil([&] { return !store->Problems().empty(); }));
  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(RI(cache).spec.memory_mib, 64);
  EXPECT_EQ(RI(cache).metadata.generation, 1);
  const api::Condition* valid = api::FindCondition(RI(cache).status.conditions, "Valid");
  ASSERT_NE(valid, nullptr);
  EXPECT_EQ(valid->status, "False");
  EXPECT_EQ(valid->reason, "InvalidSpec");
  EXPECT_NE(valid->message.find("memoryMiB"), std::string::npos) << valid->message;
  EXPECT_NE(valid->message.find("a.yaml"), std::string::npos) << valid->message;
  EXPECT_TRUE(store->Get(kRI, {"default", "other"}).ok());
  auto problems = store->Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].file.find("a.yaml"), std::string::npos);
  EXPECT_EQ(problems[0].key, "default/cache");
  EXPECT_TRUE(recorder.events().empty());  // a status-only change
  // The condition is persisted.
  auto persisted = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(persisted.ok());
  EXPECT_FALSE(api::IsConditionTrue(
      std::get<api::RedisInstance>(persisted->front()).status.conditions, "Valid"));
  ASSERT_NE(api::FindCondition(std::get<api::RedisInstance>(persisted->front()).status.conditions,
                               "Valid"),
            nullptr);

  // A status write by a controller can't drop the store's condition.
  auto o = *cache;
  std::get<api::RedisInstance>(o).status.conditions.clear();
  ASSERT_TRUE(store->UpdateStatus(o).ok());
  EXPECT_NE(api::FindCondition(RI(store->Get(kRI, kCache)).status.conditions, "Valid"), nullptr);

  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache", 96), InstanceYaml("other")}));
  ASSERT_TRUE(recorder.WaitFor(EventType::kModified, "default/cache"));
  cache = store->Get(kRI, kCache);
  EXPECT_EQ(RI(cache).spec.memory_mib, 96);
  EXPECT_EQ(RI(cache).metadata.generation, 2);
  valid = api::FindCondition(RI(cache).status.conditions, "Valid");
  ASSERT_NE(valid, nullptr);
  EXPECT_EQ(valid->status, "True");
  EXPECT_EQ(valid->reason, "Valid");
  EXPECT_TRUE(store->Problems().empty());
}

TEST_F(DirStoreTest, SyntaxErrorKeepsEveryObjectOfTheFile) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("other")}));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  recorder.Clear();

  WriteText(Path("a.yaml"),
            "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nspec: [unclosed\n  a: {\n");
  ASSERT_TRUE(WaitUntil([&] { return !store->Problems().empty(); }));
  EXPECT_EQ(store->List(kRI)->size(), 2u);
  EXPECT_FALSE(RI(store->Get(kRI, kCache)).metadata.deleting());
  EXPECT_TRUE(recorder.events().empty());
  EXPECT_NE(store->Problems()[0].file.find("a.yaml"), std::string::npos);

  // Fixing the file (without "other") then deletes "other" as usual.
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kDeleted, "default/other"));
  EXPECT_TRUE(store->Problems().empty());
  EXPECT_EQ(recorder.Count(EventType::kModified, "default/cache"), 0);
}

TEST_F(DirStoreTest, FileBrokenWhileDownKeepsItsObjectsAtStart) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("other")}));
  WriteText(Path("b.yaml"), InstanceYaml("plain"));
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
  }
  WriteText(Path("a.yaml"), "kind: RedisInstance\nmetadata: {name: [x\n");
  fs::remove(Path("b.yaml"));

  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  auto list = store->List(kRI);
  ASSERT_EQ(list->size(), 2u);
  for (const auto& o : *list) {
    SCOPED_TRACE(api::MetaOf(o).name);
    EXPECT_FALSE(api::MetaOf(o).deleting());
  }
  EXPECT_EQ(store->Get(kRI, {"default", "plain"}).status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(store->Problems().empty());
  EXPECT_NE(store->Problems()[0].file.find("a.yaml"), std::string::npos);
}

TEST_F(DirStoreTest, BadFileNextToGoodOnesIsReportedNotFatal) {
  WriteText(Path("good.yaml"), Docs({PoolYaml("local"), InstanceYaml("cache")}));
  WriteText(Path("bad.yaml"), "kind: RedisInstance\nmetadata: {name: [x\n");
  auto store = MakeStore(kNever, kNever);
  std::atomic<int> callbacks{0};
  std::atomic<std::size_t> last_count{0};
  store->SetProblemsCallback([&](std::size_t n) {
    ++callbacks;
    last_count = n;
  });
  ASSERT_TRUE(store->Start().ok());

  EXPECT_EQ(store->List(kRI)->size(), 1u);
  EXPECT_EQ(store->List(kHP)->size(), 1u);
  auto problems = store->Problems();
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].file.find("bad.yaml"), std::string::npos);
  EXPECT_EQ(callbacks.load(), 1);
  EXPECT_EQ(last_count.load(), problems.size());

  auto from_disk = DirStore::ReadProblems(state_);
  ASSERT_TRUE(from_disk.ok());
  ASSERT_EQ(from_disk->size(), problems.size());
  EXPECT_EQ((*from_disk)[0].ToString(), problems[0].ToString());
  auto json = nlohmann::json::parse(ReadText(state_ + "/problems.json"));
  EXPECT_NE(json[0]["text"].get<std::string>().find("bad.yaml"), std::string::npos);

  // Logged once, not on every scan.
  ASSERT_TRUE(store->Rescan().ok());
  EXPECT_EQ(callbacks.load(), 2);
  EXPECT_EQ(LogLinesContaining("desired-state problem", "bad.yaml"), 1);

  fs::remove(Path("bad.yaml"));
  ASSERT_TRUE(store->Rescan().ok());
  EXPECT_TRUE(store->Problems().empty());
  EXPECT_EQ(last_count.load(), 0u);
  EXPECT_TRUE(DirStore::ReadProblems(state_)->empty());
}

TEST_F(DirStoreTest, DuplicateKeepsTheFirstInFileOrder) {
  WriteText(Path("a.yaml"), InstanceYaml("cache", 64));
  WriteText(Path("b.yaml"), InstanceYaml("cache", 512));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_EQ(RI(store->Get(kRI, kCache)).spec.memory_mib, 64);
  auto problems = store->Problems();
  ASSERT_FALSE(problems.empty());
  bool names_b = false;
  for (const auto& p : problems)
    names_b = names_b || p.ToString().find("b.yaml") != std::string::npos;
  EXPECT_TRUE(names_b);
}

// The scan cache keeps no second copy of an object its record holds; duplicates still resolve
// and are reported the same on every scan, and the loser takes over when the winner goes.
TEST_F(DirStoreTest, DuplicateLoserTakesOverWhenTheWinnerGoes) {
  WriteText(Path("a.yaml"), InstanceYaml("cache", 64));
  WriteText(Path("b.yaml"), InstanceYaml("cache", 512));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  const auto problems = store->Problems();
  ASSERT_EQ(problems.size(), 1u);
  for (int scan = 0; scan < 2; ++scan) {
    ASSERT_TRUE(store->Rescan().ok());
    ASSERT_EQ(store->Problems().size(), 1u);
    EXPECT_EQ(store->Problems()[0].ToString(), problems[0].ToString());
    EXPECT_EQ(RI(store->Get(kRI, kCache)).spec.memory_mib, 64);
  }
  recorder.Clear();

  fs::remove(Path("a.yaml"));
  ASSERT_TRUE(store->Rescan().ok());
  auto cache = store->Get(kRI, kCache);
  EXPECT_EQ(RI(cache).spec.memory_mib, 512);
  EXPECT_EQ(RI(cache).metadata.generation, 2);
  EXPECT_FALSE(RI(cache).metadata.deleting());
  EXPECT_TRUE(store->Problems().empty());
  EXPECT_EQ(recorder.Count(EventType::kModified, "default/cache"), 1);
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 0);
}

TEST_F(DirStoreTest, UpdateStatusChecksVersionAndPersists) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  recorder.Clear();

  auto o = *store->Get(kRI, kCache);
  std::get<api::RedisInstance>(o).status.phase = api::Phase::kProvisioning;
  ASSERT_TRUE(store->UpdateStatus(o).ok());
  EXPECT_EQ(RI(store->Get(kRI, kCache)).metadata.resource_version, "2");
  EXPECT_EQ(store->UpdateStatus(o).code(), StatusCode::kConflict);
  EXPECT_EQ(store->SetFinalizers(o, {"x"}).code(), StatusCode::kConflict);
  api::RedisInstance missing;
  missing.metadata.name = "missing";
  EXPECT_EQ(store->UpdateStatus(missing).code(), StatusCode::kNotFound);
  EXPECT_TRUE(recorder.events().empty());

  auto persisted = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(persisted.ok());
  EXPECT_EQ(std::get<api::RedisInstance>(persisted->front()).status.phase,
            api::Phase::kProvisioning);
  EXPECT_EQ(api::MetaOf(persisted->front()).resource_version, "2");
}

// Write-behind: changes are visible at once, on disk soon after, several changes in one write.
TEST_F(DirStoreTest, WriteBehindPersistsTheLatestStatusSoon) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  auto store = MakeStore(kNever, kNever, std::chrono::milliseconds(30));
  ASSERT_TRUE(store->Start().ok());
  // The new object's record (its uid) is on disk before Start returns.
  auto loaded = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(api::MetaOf(loaded->front()).uid, RI(store->Get(kRI, kCache)).metadata.uid);

  for (auto phase : {api::Phase::kPending, api::Phase::kProvisioning, api::Phase::kReady}) {
    auto o = *store->Get(kRI, kCache);
    std::get<api::RedisInstance>(o).status.phase = phase;
    ASSERT_TRUE(store->UpdateStatus(o).ok());
    // Visible in memory at once, with the next resourceVersion (conflicts work as before).
    EXPECT_EQ(RI(store->Get(kRI, kCache)).status.phase, phase);
    EXPECT_EQ(store->UpdateStatus(o).code(), StatusCode::kConflict);
  }
  const std::string want_version = RI(store->Get(kRI, kCache)).metadata.resource_version;
  EXPECT_TRUE(WaitUntil([&] {
    auto st = DirStore::ReadState(state_, kRI);
    return st.ok() && st->size() == 1 &&
           api::MetaOf(st->front()).resource_version == want_version &&
           std::get<api::RedisInstance>(st->front()).status.phase == api::Phase::kReady;
  }));
}

TEST_F(DirStoreTest, WriteBehindStopWritesWhatIsPending) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  // A delay far longer than the test: only Stop() can have written the change.
  auto store = MakeStore(kNever, kNever, std::chrono::hours(1));
  ASSERT_TRUE(store->Start().ok());
  auto o = *store->Get(kRI, kCache);
  std::get<api::RedisInstance>(o).status.phase = api::Phase::kReady;
  ASSERT_TRUE(store->UpdateStatus(o).ok());
  ASSERT_TRUE(store->SetFinalizers(*store->Get(kRI, kCache), {"x"}).ok());
  EXPECT_NE(std::get<api::RedisInstance>(DirStore::ReadState(state_, kRI)->front()).status.phase,
            api::Phase::kReady);
  store->Stop();
  auto st = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(std::get<api::RedisInstance>(st->front()).status.phase, api::Phase::kReady);
  EXPECT_EQ(api::MetaOf(st->front()).finalizers, std::vector<std::string>{"x"});
}

TEST_F(DirStoreTest, WriteBehindNeverResurrectsADeletedRecord) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  auto store = MakeStore(std::chrono::milliseconds(10), std::chrono::seconds(10),
                         std::chrono::milliseconds(50));
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  auto o = *store->Get(kRI, kCache);
  std::get<api::RedisInstance>(o).status.phase = api::Phase::kReady;
  ASSERT_TRUE(store->UpdateStatus(o).ok());  // pending for up to 50 ms
  fs::remove(Path("a.yaml"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kDeleted, "default/cache"));
  store->Stop();  // flushes whatever was pending
  EXPECT_FALSE(Persisted(kRI, "cache"));
  EXPECT_TRUE(DirStore::ReadState(state_, kRI)->empty());
}

TEST_F(DirStoreTest, GeneratedDirIsReadOnRescanNextToTheUsersDir) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  const std::string generated = state_ + "/self-service";
  auto store = MakeStore(kNever, kNever, std::chrono::milliseconds(0), generated);
  ASSERT_TRUE(store->Start().ok());  // the generated dir need not exist yet
  EXPECT_EQ(store->List(kRI)->size(), 1u);

  fs::create_directories(generated);
  WriteText(generated + "/default.asked.yaml", InstanceYaml("asked"));
  ASSERT_TRUE(store->Rescan().ok());
  auto asked = store->Get(kRI, api::Key{"default", "asked"});
  ASSERT_TRUE(asked.ok());
  EXPECT_TRUE(store->Problems().empty());

  // Removing the request deletes the object; the user's own file is untouched.
  fs::remove(generated + "/default.asked.yaml");
  ASSERT_TRUE(store->Rescan().ok());
  EXPECT_EQ(store->Get(kRI, api::Key{"default", "asked"}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Get(kRI, kCache).ok());
  EXPECT_TRUE(fs::exists(Path("a.yaml")));
}

TEST_F(DirStoreTest, ReadStateIsSortedByKeyPerKind) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("zeta"), PoolYaml("local"), InstanceYaml("alpha"),
                                  InstanceYaml("mid")}));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  auto state = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ(state->size(), 3u);
  EXPECT_EQ(api::MetaOf((*state)[0]).name, "alpha");
  EXPECT_EQ(api::MetaOf((*state)[1]).name, "mid");
  EXPECT_EQ(api::MetaOf((*state)[2]).name, "zeta");
  EXPECT_EQ(api::MetaOf((*state)[0]).uid, RI(store->Get(kRI, {"default", "alpha"})).metadata.uid);
  EXPECT_EQ(DirStore::ReadState(state_, kHP)->size(), 1u);
  EXPECT_EQ(DirStore::ReadState(tmp_.path() + "/nowhere", kRI).status().code(),
            StatusCode::kNotFound);
}

TEST_F(DirStoreTest, ReappearingObjectIsCreatedAnewAfterDeletion) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  auto store = MakeStore();
  ASSERT_TRUE(store->Start().ok());
  EventRecorder recorder;
  ASSERT_TRUE(store->Watch(kRI, recorder.Handler()).ok());
  ASSERT_TRUE(store->SetFinalizers(*store->Get(kRI, kCache), {std::string(api::kFinalizer)}).ok());
  const std::string uid = RI(store->Get(kRI, kCache)).metadata.uid;

  fs::remove(Path("a.yaml"));
  ASSERT_TRUE(recorder.WaitFor(EventType::kModified, "default/cache"));
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  ASSERT_TRUE(store->Rescan().ok());
  auto deleting = store->Get(kRI, kCache);
  EXPECT_TRUE(RI(deleting).metadata.deleting());  // deletion is not undone

  recorder.Clear();
  ASSERT_TRUE(store->SetFinalizers(*store->Get(kRI, kCache), {}).ok());
  EXPECT_EQ(recorder.Count(EventType::kDeleted, "default/cache"), 1);
  ASSERT_TRUE(recorder.WaitFor(EventType::kAdded, "default/cache"));
  auto fresh = store->Get(kRI, kCache);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(RI(fresh).metadata.uid, uid);
  EXPECT_FALSE(RI(fresh).metadata.deleting());
}

TEST_F(DirStoreTest, StartFailsWithoutDirectory) {
  fs::remove_all(dir_);
  auto store = MakeStore();
  EXPECT_EQ(store->Start().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Rescan().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DirStoreTest, TenThousandObjectsLoadAndRestart) {
  constexpr int kFiles = 4;
  constexpr int kPerFile = 2500;
  for (int f = 0; f < kFiles; ++f) {
    std::string text;
    for (int i = 0; i < kPerFile; ++i)
      text += "---\n" + InstanceYaml("ri-" + std::to_string(f) + "-" + std::to_string(i));
    WriteText(Path("part-" + std::to_string(f) + ".yaml"), text);
  }
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
    EXPECT_EQ(store->List(kRI)->size(), static_cast<std::size_t>(kFiles * kPerFile));
    EXPECT_TRUE(store->Problems().empty());
    ASSERT_TRUE(store->Rescan().ok());
    EXPECT_EQ(RI(store->Get(kRI, {"default", "ri-3-2499"})).metadata.resource_version, "1");
  }
  auto state = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->size(), static_cast<std::size_t>(kFiles * kPerFile));

  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  auto list = store->List(kRI);
  ASSERT_EQ(list->size(), static_cast<std::size_t>(kFiles * kPerFile));
  for (const auto& o : *list) {
    ASSERT_EQ(api::MetaOf(o).generation, 1);
    ASSERT_EQ(api::MetaOf(o).resource_version, "1");
  }
}

// A kill -9 in the middle of an append leaves a torn last line: it is ignored by readers, cut at
// the next start, and later lines start clean after it.
TEST_F(DirStoreTest, TornLastLineIsIgnoredAndCut) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("plain")}));
  std::string uid;
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
    uid = RI(store->Get(kRI, kCache)).metadata.uid;
  }
  const std::string whole = ReadText(LogFile());
  ASSERT_EQ(whole.back(), '\n');
  // A status update of `cache` torn halfway.
  {
    std::ofstream out(LogFile(), std::ios::app);
    out << "{\"put\":{\"apiVersion\":\"redisfleet.io/v1alpha1\",\"kind\":\"RedisInst";
  }
  auto state = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->size(), 2u);

  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_EQ(RI(store->Get(kRI, kCache)).metadata.uid, uid);
  auto o = *store->Get(kRI, kCache);
  std::get<api::RedisInstance>(o).status.phase = api::Phase::kReady;
  ASSERT_TRUE(store->UpdateStatus(o).ok());
  const std::string after = ReadText(LogFile());
  EXPECT_EQ(after.find("RedisInst{"), std::string::npos);
  EXPECT_EQ(after.find("\"RedisInst\n"), std::string::npos);
  state = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ(state->size(), 2u);
  EXPECT_EQ(std::get<api::RedisInstance>(state->front()).status.phase, api::Phase::kReady);
}

// kill -9 during a log rewrite leaves its temp file (as large as the log): the next start
// removes it, and loads the log as it was.
TEST_F(DirStoreTest, RewriteLeftoverOfACrashIsRemovedAtStart) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache")}));
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
  }
  const std::string leftover = TempPathFor(LogFile());
  WriteText(leftover, ReadText(LogFile()));
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(store->Get(kRI, kCache).ok());
}

// A line that can't be read (a disk error, a hand edit) costs that line, set aside in
// objects.jsonl.corrupt, and nothing else; the object comes back from the YAML.
TEST_F(DirStoreTest, CorruptLineIsSetAsideAndTheRestLoads) {
  WriteText(Path("a.yaml"), Docs({InstanceYaml("cache"), InstanceYaml("plain")}));
  std::string uid;
  {
    auto store = MakeStore(kNever, kNever);
    ASSERT_TRUE(store->Start().ok());
    uid = RI(store->Get(kRI, kCache)).metadata.uid;
  }
  std::string text = ReadText(LogFile());
  const std::size_t plain = text.find("\"name\":\"plain\"");
  ASSERT_NE(plain, std::string::npos);
  text.replace(text.rfind('\n', plain) + 1, 5, "{garb");  // the start of plain's line
  WriteText(LogFile(), text);

  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  EXPECT_EQ(RI(store->Get(kRI, kCache)).metadata.uid, uid);
  ASSERT_TRUE(store->Get(kRI, {"default", "plain"}).ok());  // recreated from the YAML
  EXPECT_EQ(LogLinesContaining("set aside", "objects.jsonl"), 1);
  EXPECT_NE(ReadText(LogFile() + ".corrupt").find("{garb"), std::string::npos);
  EXPECT_EQ(ReadText(LogFile()).find("{garb"), std::string::npos);  // rewritten clean
  EXPECT_TRUE(Persisted(kRI, "plain"));
}

// A state directory written by an older version (one JSON file per record) is adopted: same
// uids and status, the files converted to the log and removed.
TEST_F(DirStoreTest, OlderRecordFilesAreConvertedToTheLog) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  fs::create_directories(state_ + "/objects/redisinstances");
  fs::create_directories(state_ + "/objects/hostpools");
  WriteText(state_ + "/objects/redisinstances/default.cache.json", R"({
  "apiVersion": "redisfleet.io/v1alpha1", "kind": "RedisInstance",
  "metadata": {"name": "cache", "namespace": "default", "uid": "0b7c4c2e-1111-4222-8333-444455556666",
               "generation": 3, "resourceVersion": "17", "creationTimestamp": "2026-01-02T03:04:05Z"},
  "spec": {"hostPool": "local", "memoryMiB": 64},
  "status": {"phase": "Ready", "endpoint": {"host": "127.0.0.1", "port": 6390}},
  "source": "a.yaml"
}
)");
  auto store = MakeStore(kNever, kNever);
  ASSERT_TRUE(store->Start().ok());
  auto cache = store->Get(kRI, kCache);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(RI(cache).metadata.uid, "0b7c4c2e-1111-4222-8333-444455556666");
  EXPECT_EQ(RI(cache).metadata.resource_version, "17");
  EXPECT_EQ(RI(cache).status.endpoint.port, 6390);
  EXPECT_FALSE(fs::exists(state_ + "/objects"));
  auto state = DirStore::ReadState(state_, kRI);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->size(), 1u);
  EXPECT_EQ(api::MetaOf(state->front()).uid, "0b7c4c2e-1111-4222-8333-444455556666");
}

// When the log can't be written, a start over an older state directory fails and keeps its
// record files: nothing is removed before it is in the log.
TEST_F(DirStoreTest, OlderRecordFilesStayWhenTheLogCannotBeWritten) {
  WriteText(Path("a.yaml"), InstanceYaml("cache"));
  const std::string old_record = state_ + "/objects/redisinstances/default.cache.json";
  fs::create_directories(state_ + "/objects/redisinstances");
  WriteText(old_record, R"({"apiVersion": "redisfleet.io/v1alpha1", "kind": "RedisInstance",
  "metadata": {"name": "cache", "namespace": "default", "uid": "0b7c4c2e-1111-4222-8333-444455556666"},
  "spec": {"hostPool": "local", "memoryMiB": 64}})");
  fs::create_directories(LogFile());  // a directory where the log should be
  auto store = MakeStore(kNever, kNever);
  EXPECT_FALSE(store->Start().ok());
  EXPECT_TRUE(fs::exists(old_record));
}

// Status updates append; the log is rewritten once it holds more than twice what is live (plus a
// slack, small here), and what it says stays the latest of every object throughout: written
// synchronously, and behind by the flusher while four threads update at once.
TEST_F(DirStoreTest, LogIsRewrittenWhenMostlyHistory) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "---\n" + InstanceYaml("r" + std::to_string(i));
  WriteText(Path("a.yaml"), text);
  for (auto write_behind : {std::chrono::milliseconds(0), std::chrono::milliseconds(2)}) {
    SCOPED_TRACE("write_behind " + std::to_string(write_behind.count()) + " ms");
    fs::remove_all(state_);
    {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.clear();  // this round's rewrites only
    }
    auto store = MakeStore(kNever, kNever, write_behind, "", /*log_slack_bytes=*/64 << 10);
    ASSERT_TRUE(store->Start().ok());
    constexpr int kRounds = 150;
    auto log_size = [&] {
      std::error_code ec;
      const uint64_t size = fs::file_size(LogFile(), ec);
      return ec ? uint64_t{0} : size;
    };
    auto update = [&](int first, int last) {
      for (int round = 0; round < kRounds; ++round) {
        const uint64_t before = log_size();
        for (int i = first; i < last; ++i) {
          auto o = *store->Get(kRI, {"default", "r" + std::to_string(i)});
          auto& ri = std::get<api::RedisInstance>(o);
          ri.status.endpoint = {"127.0.0.1", 7000 + round};
          ri.status.url = "redis://127.0.0.1:" + std::to_string(7000 + round) + "/" + std::string(400, 'x');
          ASSERT_TRUE(store->UpdateStatus(o).ok());
        }
        // Behind: a flush (of these updates or others') before the next round, so they don't
        // all coalesce into one line per object.
        if (write_behind.count() > 0) {
          ASSERT_TRUE(WaitUntil([&] { return log_size() != before; }));
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(update, t * 10, t * 10 + 10);
    for (auto& t : threads) t.join();
    store->Stop();  // writes what is pending
    const uint64_t now = fs::file_size(LogFile());
    EXPECT_GE(LogLinesContaining("state log rewritten", "bytes_before"), 1);
    EXPECT_LT(now, 2 * 40 * 1024 + (64 << 10) + 40 * 1024);
    auto state = DirStore::ReadState(state_, kRI);
    ASSERT_TRUE(state.ok());
    ASSERT_EQ(state->size(), 40u);
    for (const auto& o : *state) {
      EXPECT_EQ(std::get<api::RedisInstance>(o).status.endpoint.port, 7000 + kRounds - 1)
          << api::MetaOf(o).name;
    }
    auto again = MakeStore(kNever, kNever);
    ASSERT_TRUE(again->Start().ok());
    EXPECT_EQ(RI(again->Get(kRI, {"default", "r7"})).status.endpoint.port, 7000 + kRounds - 1);
  }
}

}  // namespace
}  // namespace redisfleet::store
