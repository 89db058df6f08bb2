#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "unit/store/test_util.h"

namespace redisfleet::store {
namespace {

using testing::EventRecorder;

api::Object Instance(const std::string& name, int64_t memory_mib = 64) {
  api::RedisInstance ri;
  ri.metadata.name = name;
  ri.metadata.labels = {{"tier", "cache"}};
  ri.spec.host_pool = "local";
  ri.spec.memory_mib = memory_mib;
  return ri;
}

const api::Key kCache{"default", "cache"};

class MemoryStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  MemoryStore store_{clock_};
  EventRecorder recorder_;
};

TEST_F(MemoryStoreTest, CreateAssignsIdentityAndEmitsAdded) {
  ASSERT_TRUE(store_.Watch(api::Kind::kRedisInstance, recorder_.Handler()).ok());
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  ASSERT_TRUE(store_.Apply(Instance("other")).ok());

  auto got = store_.Get(api::Kind::kRedisInstance, kCache);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const auto& meta = api::MetaOf(*got);
  EXPECT_EQ(meta.uid.size(), 36u);
  EXPECT_EQ(meta.generation, 1);
  EXPECT_FALSE(meta.resource_version.empty());
  EXPECT_EQ(meta.creation_timestamp, clock_->Now());
  EXPECT_NE(meta.uid,
            api::MetaOf(*store_.Get(api::Kind::kRedisInstance, {"default", "other"})).uid);
  EXPECT_EQ(recorder_.Count(EventType::kAdded, "default/cache"), 1);
  EXPECT_EQ(recorder_.events().size(), 2u);
}

TEST_F(MemoryStoreTest, ApplyBumpsGenerationOnlyOnSpecChange) {
  struct Case {
    std::string name;
    std::function<void(api::RedisInstance&)> edit;
    int64_t want_generation;
    bool want_event;
  };
  const std::vector<Case> cases = {
      {"unchanged", [](api::RedisInstance&) {}, 1, false},
      {"spec change", [](api::RedisInstance& ri) { ri.spec.memory_mib = 128; }, 2, true},
      {"label change", [](api::RedisInstance& ri) { ri.metadata.labels["tier"] = "db"; }, 1, true},
      {"annotation change", [](api::RedisInstance& ri) { ri.metadata.annotations["note"] = "x"; },
       1, true},
      {"status only", [](api::RedisInstance& ri) { ri.status.phase = api::Phase::kReady; }, 1,
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryStore store(clock_);
    EventRecorder recorder;
    ASSERT_TRUE(store.Apply(Instance("cache")).ok());
    auto before = *store.Get(api::Kind::kRedisInstance, kCache);
    ASSERT_TRUE(store.Watch(api::Kind::kRedisInstance, recorder.Handler()).ok());
    recorder.Clear();

    api::RedisInstance edited = std::get<api::RedisInstance>(Instance("cache"));
    c.edit(edited);
    ASSERT_TRUE(store.Apply(edited).ok());

    auto after = *store.Get(api::Kind::kRedisInstance, kCache);
    EXPECT_EQ(api::MetaOf(after).generation, c.want_generation);
    EXPECT_EQ(recorder.Count(EventType::kModified, "default/cache"), c.want_event ? 1 : 0);
    EXPECT_EQ(api::MetaOf(after).resource_version != api::MetaOf(before).resource_version,
              c.want_event);
    EXPECT_EQ(api::MetaOf(after).uid, api::MetaOf(before).uid);
    // Apply never writes status.
    EXPECT_EQ(std::get<api::RedisInstance>(after).status.phase, api::Phase::kPending);
  }
}

TEST_F(MemoryStoreTest, ApplyKeepsStatusAndFinalizers) {
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  auto o = *store_.Get(api::Kind::kRedisInstance, kCache);
  std::get<api::RedisInstance>(o).status.phase = api::Phase::kReady;
  ASSERT_TRUE(store_.UpdateStatus(o).ok());
  o = *store_.Get(api::Kind::kRedisInstance, kCache);
  ASSERT_TRUE(store_.SetFinalizers(o, {std::string(api::kFinalizer)}).ok());

  ASSERT_TRUE(store_.Apply(Instance("cache", 256)).ok());
  auto after = *store_.Get(api::Kind::kRedisInstance, kCache);
  const auto& ri = std::get<api::RedisInstance>(after);
  EXPECT_EQ(ri.spec.memory_mib, 256);
  EXPECT_EQ(ri.metadata.generation, 2);
  EXPECT_EQ(ri.status.phase, api::Phase::kReady);
  EXPECT_EQ(ri.metadata.finalizers, std::vector<std::string>{std::string(api::kFinalizer)});
}

TEST_F(MemoryStoreTest, UpdateStatusChecksVersionAndEmitsNothing) {
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  ASSERT_TRUE(store_.Watch(api::Kind::kRedisInstance, recorder_.Handler()).ok());
  recorder_.Clear();
  auto o = *store_.Get(api::Kind::kRedisInstance, kCache);
  auto& ri = std::get<api::RedisInstance>(o);
  ri.status.phase = api::Phase::kReady;
  ri.spec.memory_mib = 999;  // ignored: status only
  ASSERT_TRUE(store_.UpdateStatus(o).ok());

  auto stored = *store_.Get(api::Kind::kRedisInstance, kCache);
  EXPECT_EQ(std::get<api::RedisInstance>(stored).status.phase, api::Phase::kReady);
  EXPECT_EQ(std::get<api::RedisInstance>(stored).spec.memory_mib, 64);
  EXPECT_EQ(api::MetaOf(stored).generation, 1);
  EXPECT_TRUE(recorder_.events().empty());

  // `o` still carries the old resourceVersion.
  EXPECT_EQ(store_.UpdateStatus(o).code(), StatusCode::kConflict);
  EXPECT_EQ(store_.SetFinalizers(o, {"x"}).code(), StatusCode::kConflict);
  api::Object missing = Instance("missing");
  EXPECT_EQ(store_.UpdateStatus(missing).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.SetFinalizers(missing, {}).code(), StatusCode::kNotFound);
}

TEST_F(MemoryStoreTest, DeleteWithFinalizersWaitsForThem) {
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  ASSERT_TRUE(store_.Watch(api::Kind::kRedisInstance, recorder_.Handler()).ok());
  auto o = *store_.Get(api::Kind::kRedisInstance, kCache);
  ASSERT_TRUE(store_.SetFinalizers(o, {std::string(api::kFinalizer)}).ok());
  recorder_.Clear();

  clock_->Advance(std::chrono::seconds(30));
  ASSERT_TRUE(store_.Delete(api::Kind::kRedisInstance, kCache).ok());
  EXPECT_EQ(recorder_.Count(EventType::kModified, "default/cache"), 1);
  auto deleting = store_.Get(api::Kind::kRedisInstance, kCache);
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ(api::MetaOf(*deleting).deletion_timestamp, clock_->Now());

  // A second delete changes nothing.
  ASSERT_TRUE(store_.Delete(api::Kind::kRedisInstance, kCache).ok());
  EXPECT_EQ(recorder_.Count(EventType::kModified, "default/cache"), 1);

  ASSERT_TRUE(store_.SetFinalizers(*deleting, {}).ok());
  EXPECT_EQ(recorder_.Count(EventType::kDeleted, "default/cache"), 1);
  EXPECT_EQ(store_.Get(api::Kind::kRedisInstance, kCache).status().code(), StatusCode::kNotFound);
}

TEST_F(MemoryStoreTest, DeleteWithoutFinalizersRemoves) {
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  ASSERT_TRUE(store_.Watch(api::Kind::kRedisInstance, recorder_.Handler()).ok());
  ASSERT_TRUE(store_.Delete(api::Kind::kRedisInstance, kCache).ok());
  EXPECT_EQ(recorder_.Count(EventType::kDeleted, "default/cache"), 1);
  EXPECT_EQ(store_.Get(api::Kind::kRedisInstance, kCache).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.Delete(api::Kind::kRedisInstance, kCache).code(), StatusCode::kNotFound);
}

TEST_F(MemoryStoreTest, WatchSendsExistingObjectsAndOnlyItsKind) {
  ASSERT_TRUE(store_.Apply(Instance("a")).ok());
  ASSERT_TRUE(store_.Apply(Instance("b")).ok());
  api::HostPool pool;
  pool.metadata.name = "local";
  ASSERT_TRUE(store_.Apply(pool).ok());
  ASSERT_TRUE(store_.Watch(api::Kind::kRedisInstance, recorder_.Handler()).ok());
  auto events = recorder_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].key.name, "a");
  EXPECT_EQ(events[1].key.name, "b");
  for (const auto& e : events) {
    EXPECT_EQ(e.type, EventType::kAdded);
    EXPECT_EQ(e.kind, api::Kind::kRedisInstance);
  }
}

TEST_F(MemoryStoreTest, HandlersMayCallBackIntoTheStore) {
  std::vector<int64_t> seen_generations;
  ASSERT_TRUE(store_
                  .Watch(api::Kind::kRedisInstance,
                         [&](const Event& e) {
                           auto o = store_.Get(e.kind, e.key);
                           if (!o.ok()) return;
                           seen_generations.push_back(api::MetaOf(*o).generation);
                           std::get<api::RedisInstance>(*o).status.observed_generation =
                               api::MetaOf(*o).generation;
                           EXPECT_TRUE(store_.UpdateStatus(*o).ok());
                         })
                  .ok());
  ASSERT_TRUE(store_.Apply(Instance("cache")).ok());
  ASSERT_TRUE(store_.Apply(Instance("cache", 128)).ok());
  EXPECT_EQ(seen_generations, (std::vector<int64_t>{1, 2}));
  auto o = *store_.Get(api::Kind::kRedisInstance, kCache);
  EXPECT_EQ(std::get<api::RedisInstance>(o).status.observed_generation, 2);
}

TEST_F(MemoryStoreTest, ListIsSortedByKeyAndScales) {
  constexpr int kCount = 10'000;
  for (int i = kCount - 1; i >= 0; --i) {
    ASSERT_TRUE(store_.Apply(Instance("ri-" + std::to_string(100000 + i))).ok());
  }
  auto list = store_.List(api::Kind::kRedisInstance);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), static_cast<std::size_t>(kCount));
  for (std::size_t i = 1; i < list->size(); ++i) {
    ASSERT_LT(api::MetaOf((*list)[i - 1]).key(), api::MetaOf((*list)[i]).key());
  }
  EXPECT_TRUE(store_.Get(api::Kind::kRedisInstance, {"default", "ri-105000"}).ok());
  EXPECT_TRUE(store_.List(api::Kind::kHostPool)->empty());
}

}  // namespace
}  // namespace redisfleet::store
