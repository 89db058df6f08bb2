#include "redis/collector.h"

#include <thread>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "fake_redis_server.h"
#include "support/wait.h"

namespace redisfleet::redis {
namespace {

using testing::FakeConnector;
using testing::FakeRedisState;

class CollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> Make(std::size_t workers = 2) {
    Collector::Options o;
    o.workers = workers;
    o.backoff_base = std::chrono::seconds(1);
    o.backoff_cap = std::chrono::seconds(4);
    return std::make_unique<Collector>(clock_, registry_, o,
                                       [this](const InfoSourceOptions& so, const Clock& c) {
                                         return std::make_unique<InfoSource>(so, c, FakeConnector(st_));
                                       });
  }
  CollectorTarget Target(std::string key, std::chrono::milliseconds interval = std::chrono::seconds(1),
                         std::size_t window = 0) {
    CollectorTarget t;
    t.key = std::move(key);
    t.url = "redis://:" + st_->password + "@127.0.0.1:6379";
    t.interval = interval;
    t.window = window;
    return t;
  }
  std::string Text() {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }
  void Set(const std::string& field, int64_t v) {
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->fields[field] = v;
  }

  std::shared_ptr<FakeRedisState> st_ = std::make_shared<FakeRedisState>();
  FakeClock clock_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(CollectorTest, AddValidates) {
  auto c = Make();
  for (const char* key : {"noslash", "/name", "ns/", "a/b/c", ""}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(c->Add(Target(key)).code(), StatusCode::kInvalidArgument);
  }
  CollectorTarget bad = Target("ns/bad");
  bad.url = "redis://:sekr3t@host:notaport";
  Status s = c->Add(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("sekr3t"), std::string::npos) << s.message();
  ASSERT_TRUE(c->Add(Target("ns/a")).ok());
  EXPECT_EQ(c->Add(Target("ns/a")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(c->Update(Target("ns/zz")).code(), StatusCode::kNotFound);
  EXPECT_EQ(c->Window("ns/zz").status().code(), StatusCode::kNotFound);
}

TEST_F(CollectorTest, TickScrapesWhatIsDueByTheClock) {
  auto c = Make();
  ASSERT_TRUE(c->Add(Target("ns/fast", std::chrono::seconds(1))).ok());
  ASSERT_TRUE(c->Add(Target("ns/slow", std::chrono::seconds(5))).ok());
  ASSERT_TRUE(c->Add(Target("ns/clamped", std::chrono::milliseconds(10))).ok());
  EXPECT_EQ(c->Tick(), 3u);
  EXPECT_EQ(c->Tick(), 0u);
  EXPECT_EQ(c->NextDue(), clock_.Now() + std::chrono::seconds(1));
  int fast = 0, slow = 0;
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    c->Tick();
  }
  fast = static_cast<int>(c->Window("ns/fast")->size());
  slow = static_cast<int>(c->Window("ns/slow")->size());
  EXPECT_EQ(fast, 11);
  EXPECT_EQ(slow, 3);
  EXPECT_EQ(c->Window("ns/clamped")->size(), 11u) << "interval below 1 s is clamped to 1 s";
  EXPECT_EQ(st_->connects, 3) << "one persistent connection per target";
}

TEST_F(CollectorTest, WindowIsBoundedOldestFirstWithGaps) {
  auto c = Make();
  ASSERT_TRUE(c->Add(Target("ns/a", std::chrono::seconds(1), 3)).ok());
  for (int i = 0; i < 5; ++i) {
    Set("used_memory", 100 + i);
    if (i == 3) st_->break_next = true;
    c->Tick();
    clock_.Advance(std::chrono::seconds(1));
  }
  auto w = c->Window("ns/a");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0].used_memory, 102);
  EXPECT_TRUE((*w)[0].ok);
  EXPECT_FALSE((*w)[1].ok) << "a failed scrape is a gap";
  EXPECT_EQ((*w)[1].used_memory, -1);
  EXPECT_TRUE((*w)[2].ok) << "reconnected after the 1 s backoff";
  EXPECT_EQ((*w)[2].used_memory, 104);
  EXPECT_LT((*w)[0].time, (*w)[1].time);
  EXPECT_NE(Text().find("redisfleet_redis_scrape_errors_total{name=\"a\",namespace=\"ns\",reason=\"io\"} 1"),
            std::string::npos)
      << Text();

  // Update shrinks the window keeping the newest samples.
  CollectorTarget t = Target("ns/a", std::chrono::seconds(1), 2);
  ASSERT_TRUE(c->Update(t).ok());
  w = c->Window("ns/a");
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[1].used_memory, 104);
  t.window = 100000;
  ASSERT_TRUE(c->Update(t).ok());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    c->Tick();
  }
  EXPECT_EQ(c->Window("ns/a")->size(), 7u);
}

TEST_F(CollectorTest, GaugesAndCountersWithNamespaceNameLabelsRemovedWithTheTarget) {
  auto c = Make();
  ASSERT_TRUE(c->Add(Target("prod/cache")).ok());
  Set("evicted_keys", 10);
  Set("rejected_connections", 2);
  c->Tick();
  Set("evicted_keys", 15);
  clock_.Advance(std::chrono::seconds(1));
  c->Tick();
  Set("evicted_keys", 3);  // server restarted: counter reset
  clock_.Advance(std::chrono::seconds(1));
  c->Tick();
  const std::string text = Text();
  for (const char* want : {
           "redisfleet_redis_used_memory_bytes{name=\"cache\",namespace=\"prod\"} 1000",
           "redisfleet_redis_maxmemory_bytes{name=\"cache\",namespace=\"prod\"} 4000",
           "redisfleet_redis_connected_clients{name=\"cache\",namespace=\"prod\"} 5",
           "redisfleet_redis_maxclients{name=\"cache\",namespace=\"prod\"} 100",
           "redisfleet_redis_ops_per_second{name=\"cache\",namespace=\"prod\"} 9",
           "redisfleet_redis_evicted_keys_total{name=\"cache\",namespace=\"prod\"} 18",
           "redisfleet_redis_rejected_connections_total{name=\"cache\",namespace=\"prod\"} 2",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  EXPECT_EQ(text.find(st_->password), std::string::npos);
  c->Remove("prod/cache");
  EXPECT_EQ(Text().find("prod"), std::string::npos) << Text();
  c->Remove("prod/cache");  // no-op
  EXPECT_TRUE(c->Keys().empty());
}

TEST_F(CollectorTest, UpdateWithNewCredentialsOpensANewConnection) {
  auto c = Make();
  CollectorTarget t = Target("ns/a");
  t.url = "redis://:wrong@127.0.0.1:6379";
  ASSERT_TRUE(c->Add(t).ok());
  c->Tick();
  EXPECT_FALSE(c->Window("ns/a")->back().ok);
  EXPECT_NE(Text().find("reason=\"auth\"} 1"), std::string::npos) << Text();
  ASSERT_TRUE(c->Update(Target("ns/a")).ok());  // right password; due at once is not required
  clock_.Advance(std::chrono::seconds(1));
  c->Tick();
  EXPECT_TRUE(c->Window("ns/a")->back().ok);
}

TEST_F(CollectorTest, RunFollowsTheFakeClockUntilStopped) {
  auto c = Make();
  ASSERT_TRUE(c->Add(Target("ns/a", std::chrono::seconds(2))).ok());
  std::jthread runner([&](std::stop_token stop) { c->Run(stop); });
  auto size = [&] { return c->Window("ns/a")->size(); };
  ASSERT_TRUE(redisfleet::testing::WaitUntil([&] { return size() == 1; }));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(c->Add(Target("ns/b", std::chrono::seconds(2))).ok());
  ASSERT_TRUE(redisfleet::testing::WaitUntil([&] { return c->Window("ns/b")->size() == 1; }))
      << "Add wakes Run";
  EXPECT_EQ(size(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(redisfleet::testing::WaitUntil([&] { return size() == 2; }));
  runner.request_stop();
  runner.join();
}

TEST_F(CollectorTest, AddRemoveWindowWhileTicking) {
  auto c = Make(4);
  std::atomic<bool> done{false};
  std::jthread ticker([&] {
    while (!done) {
      c->Tick();
      clock_.Advance(std::chrono::seconds(1));
    }
  });
  for (int i = 0; i < 200; ++i) {
    const std::string key = "ns/t" + std::to_string(i % 20);
    c->Remove(key);
    ASSERT_TRUE(c->Add(Target(key)).ok());
    (void)c->Window(key);
  }
  done = true;
  ticker.join();
  EXPECT_EQ(c->Keys().size(), 20u);
}

}  // namespace
}  // namespace redisfleet::redis
