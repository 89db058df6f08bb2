#include "runtime/manager.h"

#include <csignal>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pthread.h>

#include "unit/runtime/fakes.h"

namespace redisfleet::runtime {
namespace {

using std::chrono::milliseconds;
using testing::FakeReconciler;
using testing::K;
using testing::WaitFor;

constexpr auto kDeadline = std::chrono::seconds(10);

// Appends "start X" / "stop X" to a shared journal; Start fails when told to.
class RecordingRunnable final : public Runnable {
 public:
  RecordingRunnable(std::string name, std::vector<std::string>* journal, Status start = Status::Ok())
      : name_(std::move(name)), journal_(journal), start_(std::move(start)) {}
  Status Start() override {
    journal_->push_back("start " + name_);
    return start_;
  }
  void Stop(std::chrono::milliseconds) override { journal_->push_back("stop " + name_); }

 private:
  std::string name_;
  std::vector<std::string>* journal_;
  Status start_;
};

TEST(Manager, StartsInOrderAndStopsInReverse) {
  std::vector<std::string> journal;
  Manager m(Logger::Null());
  m.Add(std::make_shared<RecordingRunnable>("a", &journal));
  m.Add(std::make_shared<RecordingRunnable>("b", &journal));
  m.Add(std::make_shared<RecordingRunnable>("c", &journal));
  ASSERT_TRUE(m.Start().ok());
  EXPECT_EQ(m.Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(m.Stop(kDeadline));
  EXPECT_TRUE(m.Stop(kDeadline)) << "idempotent";
  EXPECT_EQ(journal, (std::vector<std::string>{"start a", "start b", "start c", "stop c", "stop b",
                                               "stop a"}));
}

TEST(Manager, FailedStartStopsWhatWasStarted) {
  struct Row {
    std::string name;
    int failing;  // index of the runnable whose Start fails
    std::vector<std::string> want;
  };
  const std::vector<Row> rows = {
      {"first fails", 0, {"start a"}},
      {"middle fails", 1, {"start a", "start b", "stop a"}},
      {"last fails", 2, {"start a", "start b", "start c", "stop b", "stop a"}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<std::string> journal;
    {
      Manager m(Logger::Null());
      const std::vector<std::string> names = {"a", "b", "c"};
      for (int i = 0; i < 3; ++i) {
        m.Add(std::make_shared<RecordingRunnable>(
            names[i], &journal, i == row.failing ? UnavailableError("port in use") : Status::Ok()));
      }
      Status s = m.Start();
      EXPECT_EQ(s, UnavailableError("port in use"));
    }
    EXPECT_EQ(journal, row.want) << "nothing stopped twice, even by the destructor";
  }
}

TEST(Manager, DestructorStopsWhatIsRunning) {
  std::vector<std::string> journal;
  {
    Manager m(Logger::Null());
    m.Add(std::make_shared<RecordingRunnable>("a", &journal));
    ASSERT_TRUE(m.Start().ok());
  }
  EXPECT_EQ(journal, (std::vector<std::string>{"start a", "stop a"}));
}

TEST(Manager, RunsControllers) {
  auto clock = std::make_shared<FakeClock>();
  auto rec = std::make_shared<FakeReconciler>(clock);
  auto ctrl = std::make_shared<Controller>("things", rec, ControllerOptions{}, clock, Logger::Null(),
                                           nullptr);
  std::vector<std::string> journal;
  Manager m(Logger::Null());
  m.Add(std::make_shared<RecordingRunnable>("store", &journal));
  m.AddController(ctrl);
  ASSERT_TRUE(m.Start().ok());
  ctrl->Enqueue(K("a"));
  ASSERT_TRUE(rec->WaitCalls(1));
  EXPECT_TRUE(m.Stop(kDeadline));
  EXPECT_EQ(ctrl->Start().code(), StatusCode::kFailedPrecondition) << "the manager stopped it";
}

TEST(Manager, RequestStopEndsRunUntilSignal) {
  Manager::BlockSignals();
  {
    Manager m(Logger::Null());
    m.RequestStop();  // before: returns at once
    EXPECT_EQ(m.RunUntilSignal(kDeadline), 0);
  }
  {
    Manager m(Logger::Null());
    auto rc = std::async(std::launch::async, [&] { return m.RunUntilSignal(kDeadline); });
    m.RequestStop();  // while waiting (or just before: either way it returns)
    ASSERT_EQ(rc.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(rc.get(), 0);
  }
}

TEST(Manager, RunUntilSignalReturnsOnSigterm) {
  Manager::BlockSignals();  // this test's thread; threads started below inherit it
  std::vector<std::string> journal;
  {
    Manager m(Logger::Null());
    m.Add(std::make_shared<RecordingRunnable>("a", &journal));
    ASSERT_TRUE(m.Start().ok());
    ASSERT_EQ(raise(SIGTERM), 0);  // pending on this thread until RunUntilSignal takes it
    EXPECT_EQ(m.RunUntilSignal(kDeadline), 0);
  }
  EXPECT_EQ(journal, (std::vector<std::string>{"start a", "stop a"}));
}

TEST(Manager, RunUntilSignalReturnsOnSigintFromAnotherThread) {
  Manager::BlockSignals();
  Manager m(Logger::Null());
  const pthread_t self = pthread_self();
  std::thread sender([self] { pthread_kill(self, SIGINT); });
  EXPECT_EQ(m.RunUntilSignal(kDeadline), 0);
  sender.join();
}

TEST(Manager, RunUntilSignalReturnsOneWhenTheDrainTimesOut) {
  Manager::BlockSignals();
  auto clock = std::make_shared<FakeClock>();
  auto rec = std::make_shared<FakeReconciler>(clock);
  rec->Gate(K("stuck"));
  {
    auto ctrl = std::make_shared<Controller>("things", rec, ControllerOptions{}, clock,
                                             Logger::Null(), nullptr);
    Manager m(Logger::Null());
    m.AddController(ctrl);
    ASSERT_TRUE(m.Start().ok());
    ctrl->Enqueue(K("stuck"));
    ASSERT_TRUE(rec->WaitCalls(1));
    m.RequestStop();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(m.RunUntilSignal(milliseconds(50)), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  }
  rec->Release(K("stuck"));
  ASSERT_TRUE(WaitFor([&] { return rec.use_count() == 1; }));
}

}  // namespace
}  // namespace redisfleet::runtime
