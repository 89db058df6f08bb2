#include "runtime/work_queue.h"

#include <atomic>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/wait.h"
#include "unit/runtime/fakes.h"

namespace redisfleet::runtime {
namespace {

using std::chrono::milliseconds;
using testing::K;

constexpr auto kDeadline = std::chrono::seconds(10);

class WorkQueueTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  WorkQueue q_{clock_, Backoff(milliseconds(100), milliseconds(1000))};

  // Drains every ready key (Get + Done), returning their names in order.
  std::vector<std::string> Drain() {
    std::vector<std::string> out;
    while (auto k = q_.TryGet()) {
      out.push_back(k->name);
      q_.Done(*k);
    }
    return out;
  }
};

TEST_F(WorkQueueTest, RepeatedAddsCoalesce) {
  q_.Add(K("a"));
  q_.Add(K("a"));
  q_.AddResync(K("a"));
  q_.Add(K("b"));
  q_.Add(K("a"));
  EXPECT_EQ(q_.Len(), 2u);
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q_.Len(), 0u);
}

TEST_F(WorkQueueTest, AddWhileProcessingIsDeferredUntilDone) {
  q_.Add(K("a"));
  auto k = q_.TryGet();
  ASSERT_TRUE(k.has_value());
  q_.Add(K("a"));
  q_.Add(K("a"));
  EXPECT_FALSE(q_.TryGet().has_value()) << "a key must not be handed out twice at once";
  EXPECT_EQ(q_.Len(), 1u);
  EXPECT_EQ(q_.ProcessingLen(), 1u);
  q_.Done(*k);
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(q_.TryGet().has_value());
}

TEST_F(WorkQueueTest, DirtyKeyKeepsHighestPriority) {
  q_.Add(K("a"));
  auto a = q_.TryGet();
  q_.AddResync(K("r"));
  q_.AddResync(K("a"));  // dirty at low
  q_.Add(K("a"));        // upgraded to high
  q_.Done(*a);
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a", "r"}));
}

TEST_F(WorkQueueTest, EditsGoBeforeResyncsAndPromote) {
  struct Step {
    bool edit;
    std::string key;
  };
  struct Row {
    std::string name;
    std::vector<Step> steps;
    std::vector<std::string> want;
  };
  const std::vector<Row> rows = {
      {"high before low", {{false, "r1"}, {false, "r2"}, {true, "e1"}}, {"e1", "r1", "r2"}},
      {"fifo within a priority", {{true, "e1"}, {true, "e2"}, {false, "r1"}, {false, "r2"}},
       {"e1", "e2", "r1", "r2"}},
      {"edit promotes a waiting resync", {{false, "r1"}, {false, "x"}, {false, "r2"}, {true, "x"}},
       {"x", "r1", "r2"}},
      {"resync does not demote an edit", {{true, "x"}, {false, "r1"}, {false, "x"}},
       {"x", "r1"}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    for (const auto& s : row.steps) s.edit ? q_.Add(K(s.key)) : q_.AddResync(K(s.key));
    EXPECT_EQ(Drain(), row.want);
    EXPECT_EQ(q_.Len(), 0u);
  }
}

TEST_F(WorkQueueTest, AddAfterEarliestDueTimeWins) {
  q_.AddAfter(K("a"), milliseconds(10000));
  q_.AddAfter(K("a"), milliseconds(5000));
  q_.AddAfter(K("a"), milliseconds(20000));
  EXPECT_EQ(q_.Len(), 1u);
  EXPECT_EQ(q_.ReadyLen(), 0u);
  clock_->Advance(milliseconds(4999));
  EXPECT_FALSE(q_.TryGet().has_value());
  clock_->Advance(milliseconds(1));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
  clock_->Advance(milliseconds(60000));
  EXPECT_TRUE(Drain().empty()) << "the later requests were merged into the first";
}

TEST_F(WorkQueueTest, AddMakesADelayedKeyReadyNow) {
  q_.AddAfter(K("a"), milliseconds(10000));
  q_.AddResync(K("a"));  // a scheduled key keeps its schedule on resync
  EXPECT_EQ(q_.ReadyLen(), 0u);
  q_.Add(K("a"));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
  clock_->Advance(milliseconds(10000));
  EXPECT_TRUE(Drain().empty()) << "the delay was replaced by the add";
}

TEST_F(WorkQueueTest, AddAfterOfAReadyKeyIsANoOp) {
  q_.Add(K("a"));
  q_.AddAfter(K("a"), milliseconds(1000));
  EXPECT_EQ(q_.Len(), 1u);
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
  clock_->Advance(milliseconds(1000));
  EXPECT_TRUE(Drain().empty());
}

TEST_F(WorkQueueTest, DelayedKeyDueWhileProcessingRunsAfterDone) {
  q_.Add(K("a"));
  auto a = q_.TryGet();
  q_.AddAfter(K("a"), milliseconds(100));
  clock_->Advance(milliseconds(100));
  EXPECT_FALSE(q_.TryGet().has_value());
  q_.Done(*a);
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
}

TEST_F(WorkQueueTest, DelayedKeysComeOutInDueOrder) {
  q_.AddAfter(K("c"), milliseconds(300));
  q_.AddAfter(K("a"), milliseconds(100));
  q_.AddAfter(K("b"), milliseconds(200));
  q_.AddAfter(K("now"), milliseconds(0));
  EXPECT_EQ(q_.Len(), 4u);
  clock_->Advance(milliseconds(1000));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"now", "a", "b", "c"}));
}

TEST_F(WorkQueueTest, BackoffGrowsAndCapsAndForgetResets) {
  const std::vector<int> want_ms = {100, 200, 400, 800, 1000, 1000};
  for (std::size_t i = 0; i < want_ms.size(); ++i) {
    SCOPED_TRACE(fmt::format("attempt {}", i));
    EXPECT_EQ(q_.NumFailures(K("a")), static_cast<int>(i));
    q_.AddRateLimited(K("a"));
    clock_->Advance(milliseconds(want_ms[i] - 1));
    EXPECT_FALSE(q_.TryGet().has_value());
    clock_->Advance(milliseconds(1));
    EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
  }
  EXPECT_EQ(q_.NumFailures(K("a")), 6);
  EXPECT_EQ(q_.NumFailures(K("other")), 0);
  q_.Forget(K("a"));
  EXPECT_EQ(q_.NumFailures(K("a")), 0);
  q_.AddRateLimited(K("a"));
  clock_->Advance(milliseconds(100));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"a"}));
}

TEST_F(WorkQueueTest, RecordFailureCountsWithoutScheduling) {
  q_.RecordFailure(K("a"));
  q_.RecordFailure(K("a"));
  EXPECT_EQ(q_.NumFailures(K("a")), 2);
  EXPECT_EQ(q_.Len(), 0u);
  q_.Forget(K("a"));
  EXPECT_EQ(q_.NumFailures(K("a")), 0);
}

TEST_F(WorkQueueTest, ShutDownWakesWaitersAndLetsInFlightFinish) {
  q_.Add(K("a"));
  auto a = q_.TryGet();
  ASSERT_TRUE(a.has_value());
  auto waiter = std::async(std::launch::async, [&] { return q_.Get(); });  // nothing ready
  q_.ShutDown();
  ASSERT_EQ(waiter.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(waiter.get().has_value());
  EXPECT_TRUE(q_.ShuttingDown());
  q_.Add(K("b"));
  q_.Add(K("a"));  // a is in flight: must not come back after Done
  EXPECT_FALSE(q_.TryGet().has_value());
  EXPECT_FALSE(q_.WaitIdle(milliseconds(0))) << "a is still in flight";
  q_.Done(*a);
  EXPECT_FALSE(q_.TryGet().has_value());
  EXPECT_EQ(q_.ProcessingLen(), 0u);
  EXPECT_TRUE(q_.WaitIdle(milliseconds(0)));
}

TEST_F(WorkQueueTest, ShutDownDoesNotHandOutQueuedKeys) {
  q_.Add(K("a"));
  q_.AddAfter(K("b"), milliseconds(10));
  q_.ShutDown();
  EXPECT_FALSE(q_.Get().has_value());
  EXPECT_FALSE(q_.TryGet().has_value());
  clock_->Advance(milliseconds(10));
  EXPECT_FALSE(q_.TryGet().has_value());
}

TEST_F(WorkQueueTest, GetWakesWhenTheFakeClockReachesTheDueTime) {
  auto got = std::async(std::launch::async, [&] { return q_.Get(); });
  q_.AddAfter(K("a"), milliseconds(500));
  clock_->Advance(milliseconds(500));
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  auto k = got.get();
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->name, "a");
  q_.Done(*k);
}

TEST_F(WorkQueueTest, GetReturnsWhenStopRequested) {
  std::stop_source stop;
  auto got = std::async(std::launch::async, [&] { return q_.Get(stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(got.get().has_value());
}

TEST(WorkQueue, RealClockDelayBlocksUntilDue) {
  auto clock = std::make_shared<RealClock>();
  WorkQueue q(clock, Backoff(milliseconds(10), milliseconds(100)));
  const auto t0 = clock->Now();
  q.AddAfter(K("a"), milliseconds(50));
  auto k = q.Get();
  ASSERT_TRUE(k.has_value());
  EXPECT_GE(clock->Now() - t0, milliseconds(50));
  q.Done(*k);
}

// A worker asleep until the earliest due key (a minute away) is woken for a key added later, by
// another thread, due much sooner: it does not sleep through it until the minute is over.
TEST(WorkQueue, RealClockWaiterReplansForAnEarlierKeyAddedMeanwhile) {
  auto clock = std::make_shared<RealClock>();
  WorkQueue q(clock, Backoff(milliseconds(10), milliseconds(100)));
  q.AddAfter(K("late"), std::chrono::minutes(1));
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  ASSERT_TRUE(redisfleet::testing::WaitUntil([&] { return q.Waiting() == 1; }));
  q.AddAfter(K("soon"), milliseconds(20));
  const bool woke = got.wait_for(kDeadline) == std::future_status::ready;
  if (!woke) q.ShutDown();  // lets the waiter go, so a failure does not hang here for a minute
  ASSERT_TRUE(woke) << "slept through the earlier key";
  auto k = got.get();
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->name, "soon");
  q.Done(*k);
  q.ShutDown();
}

// Many workers, few keys, many adds: a key is never processed by two workers at once, and every
// key is processed.
TEST(WorkQueue, NoKeyIsProcessedConcurrently) {
  auto clock = std::make_shared<RealClock>();
  WorkQueue q(clock, Backoff(milliseconds(1), milliseconds(10)));
  constexpr int kKeys = 8;
  constexpr int kWorkers = 6;
  constexpr int kRounds = 2000;
  std::vector<std::atomic<int>> in_flight(kKeys);
  std::vector<std::atomic<int>> processed(kKeys);
  std::atomic<int> violations{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto k = q.Get()) {
        const int i = std::stoi(k->name);
        if (in_flight[i].fetch_add(1) != 0) ++violations;
        for (int spin = 0; spin < 50; ++spin) std::this_thread::yield();
        in_flight[i].fetch_sub(1);
        processed[i].fetch_add(1);
        q.Done(*k);
      }
    });
  }
  for (int r = 0; r < kRounds; ++r) {
    const std::string name = std::to_string(r % kKeys);
    (r % 3 == 0) ? q.AddResync(K(name)) : q.Add(K(name));
  }
  EXPECT_TRUE(q.WaitIdle(kDeadline));
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(violations.load(), 0);
  for (int i = 0; i < kKeys; ++i) {
    SCOPED_TRACE(i);
    EXPECT_GE(processed[i].load(), 1);
    EXPECT_LE(processed[i].load(), kRounds / kKeys) << "adds must coalesce, never multiply";
  }
}

// 10,000 keys through every kind of add: ordering holds and nothing is lost or duplicated.
TEST(WorkQueue, HandlesTenThousandKeys) {
  auto clock = std::make_shared<FakeClock>();
  WorkQueue q(clock, Backoff(milliseconds(100), milliseconds(1000)));
  constexpr int kN = 10000;
  for (int i = 0; i < kN; ++i) q.AddResync(K(fmt::format("k{:05}", i)));
  for (int i = 0; i < kN; i += 2) q.AddAfter(K(fmt::format("d{:05}", i)), milliseconds(1 + i));
  for (int i = kN - 1; i >= 0; i -= 100) q.Add(K(fmt::format("k{:05}", i)));  // promoted
  EXPECT_EQ(q.Len(), static_cast<std::size_t>(kN + kN / 2));
  std::vector<std::string> order;
  while (auto k = q.TryGet()) {
    order.push_back(k->name);
    q.Done(*k);
  }
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kN));
  EXPECT_EQ(order.front(), "k09999");
  EXPECT_EQ(order[kN / 100], "k00000");
  clock->Advance(milliseconds(kN + 1));
  std::size_t delayed = 0;
  std::string last;
  while (auto k = q.TryGet()) {
    EXPECT_LT(last, k->name) << "delayed keys come out in due order";
    last = k->name;
    ++delayed;
    q.Done(*k);
  }
  EXPECT_EQ(delayed, static_cast<std::size_t>(kN / 2));
  EXPECT_EQ(q.Len(), 0u);
}

}  // namespace
}  // namespace redisfleet::runtime
